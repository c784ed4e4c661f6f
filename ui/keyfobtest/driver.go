package keyfobtest

import (
	"reflect"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Driver runs a model's Update the way a Bubble Tea program does — every
// command in a goroutine of its own, every message back into Update, a
// batch's commands each on its own, a sequence's in order — but under the
// test's control: the test waits for conditions (Until), not for time. It
// works for the root model and for a part (a dialog, the wizard) alike:
// update is the model's Update seen as a function.
type Driver struct {
	t      testing.TB
	update func(tea.Msg) tea.Cmd
	msgs   chan tea.Msg
	done   chan struct{}

	// Take, when set, sees every message before Update and reports
	// whether it took it (then Update does not see it): a program's own
	// messages (quit, the clipboard) that a test records.
	Take func(tea.Msg) bool
	// Drop, when set, drops the messages of commands that it says yes to
	// before they are queued: ticks, which would otherwise run forever.
	Drop func(tea.Msg) bool
	// Screen, when set, is shown when Until times out.
	Screen func() string
}

// NewDriver drives update until the test ends.
func NewDriver(t testing.TB, update func(tea.Msg) tea.Cmd) *Driver {
	d := &Driver{t: t, update: update, msgs: make(chan tea.Msg, 256), done: make(chan struct{})}
	t.Cleanup(func() { close(d.done) })
	return d
}

// Exec runs cmd in the background and queues its message.
func (d *Driver) Exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { d.deliver(cmd()) }()
}

func (d *Driver) deliver(msg tea.Msg) {
	if msg == nil || (d.Drop != nil && d.Drop(msg)) {
		return
	}
	select {
	case d.msgs <- msg:
	case <-d.done:
	}
}

// Handle processes one message as the program would.
func (d *Driver) Handle(msg tea.Msg) {
	if msg == nil {
		return
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			d.Exec(c)
		}
		return
	}
	if d.Take != nil && d.Take(msg) {
		return
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Name() == "sequenceMsg" {
		d.sequence(v)
		return
	}
	d.Exec(d.update(msg))
}

// sequence runs the commands of a tea.Sequence one after the other.
func (d *Driver) sequence(v reflect.Value) {
	cmds := make([]tea.Cmd, v.Len())
	for i := range cmds {
		cmds[i], _ = v.Index(i).Interface().(tea.Cmd)
	}
	go func() {
		for _, c := range cmds {
			if c == nil {
				continue
			}
			msg := c()
			if b, ok := msg.(tea.BatchMsg); ok {
				for _, bc := range b {
					if bc != nil {
						d.deliver(bc())
					}
				}
				continue
			}
			d.deliver(msg)
		}
	}()
}

// Send handles msg, then whatever is queued.
func (d *Driver) Send(msg tea.Msg) {
	d.Handle(msg)
	d.Drain()
}

// Press sends keys (see Keys), running their commands; after each key it
// handles what is queued.
func (d *Driver) Press(keys ...string) {
	for _, k := range keys {
		for _, msg := range Keys(k) {
			d.Handle(msg)
		}
		d.Drain()
	}
}

// Drain handles the messages already queued, without waiting.
func (d *Driver) Drain() {
	for {
		select {
		case msg := <-d.msgs:
			d.Handle(msg)
		default:
			return
		}
	}
}

// Until handles messages until cond holds, failing the test after a
// generous deadline (a hung flow, not a slow one).
func (d *Driver) Until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		d.Drain()
		if cond() {
			return
		}
		select {
		case msg := <-d.msgs:
			d.Handle(msg)
		case <-deadline.C:
			screen := ""
			if d.Screen != nil {
				screen = d.Screen()
			}
			d.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, screen)
		}
	}
}

// Settle lets the commands under way come back, for a test that asserts
// that something did NOT happen.
func (d *Driver) Settle() {
	for range 3 {
		time.Sleep(20 * time.Millisecond)
		d.Drain()
	}
}
