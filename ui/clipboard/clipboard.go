// Package clipboard is keyfob's one copy-and-clear mechanism, for both of
// its faces. Secrets go to the system clipboard where there is one, and
// in the TUI also through the terminal with OSC 52 (which reaches the
// user's machine over SSH and tmux); a copied secret is cleared after a
// delay, only if the clipboard still holds it.
//
// The clearing of the system clipboard is done by a small keyfob process
// of its own (Clearer, Serve), started detached from the one that copied,
// so a copied token leaves on time even when the copying process ends
// first: `keyfob token --copy` exits at once, and a TUI may be closed,
// hung up or killed. The clearer learns what to clear on its standard
// input — the delay and a SHA-256 of the secret, never the secret itself,
// and nothing derived from it on its command line. Model is the TUI's part:
// it also clears the terminal's clipboard while the program runs.
package clipboard

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// readWait is how long the terminal has to answer a clipboard read.
const readWait = 1500 * time.Millisecond

// Scheduler has a process of its own clear secret from the system
// clipboard after a delay (Clearer.Schedule), so a copied token goes
// even when keyfob is closed, hung up or killed first.
type Scheduler func(secret string, after time.Duration) error

// Messages of the clipboard's commands.
type (
	// ClearDue is due when the copy Seq should leave the clipboard.
	ClearDue struct{ Seq int }
	// ReadTimeout ends the wait for the terminal's answer about copy Seq.
	ReadTimeout struct{ Seq int }
	// clearedMsg reports a clearing; cleared is false when the clipboard
	// held something else by then.
	clearedMsg struct{ cleared bool }
	// unscheduledMsg reports a clearer that could not be started.
	unscheduledMsg struct{ err error }
)

// Model remembers the last secret copied, so it can be cleared later only
// if the clipboard still holds it. Create it with New.
type Model struct {
	native   Native    // nil: only the terminal's clipboard
	schedule Scheduler // nil: no clearer outlives the program
	seq      int       // bumped by every copy; a clearing is for one copy only
	value    string    // the secret waiting to be cleared ("" = none)
	awaiting int       // seq whose terminal clipboard read is pending
}

// New returns a clipboard that also writes to native (nil for none) and,
// when schedule is set, hands every secret copied there to a clearer that
// outlives the program.
func New(native Native, schedule Scheduler) *Model {
	return &Model{native: native, schedule: schedule}
}

// Seq is the number of the last copy.
func (m *Model) Seq() int { return m.seq }

// CopySecret puts a secret on both clipboards; after clearAfter (0 =
// never) it leaves them again, if they still hold it. label names it in
// the notice ("access token of home").
func (m *Model) CopySecret(label, secret string, clearAfter time.Duration) (common.Notice, tea.Cmd) {
	m.seq++
	m.awaiting = 0
	cmds := []tea.Cmd{tea.SetClipboard(secret), m.writeCmd(secret)}
	if clearAfter <= 0 {
		m.value = ""
		return common.Notice{Text: "copied " + label, Tone: present.ToneOK}, tea.Batch(cmds...)
	}
	m.value = secret
	seq := m.seq
	cmds = append(cmds, tea.Tick(clearAfter, func(time.Time) tea.Msg { return ClearDue{Seq: seq} }),
		m.scheduleCmd(secret, clearAfter))
	return common.Notice{Text: "copied " + label + " — clears in " + present.Delay(clearAfter), Tone: present.ToneOK}, tea.Batch(cmds...)
}

// CopyText copies something that is not a secret (an address).
func (m *Model) CopyText(what, text string) (common.Notice, tea.Cmd) {
	m.seq++
	m.value = ""
	m.awaiting = 0
	return common.Notice{Text: "copied " + what, Tone: present.ToneOK}, tea.Batch(tea.SetClipboard(text), m.writeCmd(text))
}

// scheduleCmd starts the clearer that outlives the program, for the system
// clipboard; the program's own timer still clears both clipboards on time
// while it runs (only it can reach the terminal's).
func (m *Model) scheduleCmd(secret string, after time.Duration) tea.Cmd {
	if m.native == nil || m.schedule == nil {
		return nil
	}
	schedule := m.schedule
	return func() tea.Msg {
		if err := schedule(secret, after); err != nil {
			return unscheduledMsg{err}
		}
		return nil
	}
}

func (m *Model) writeCmd(s string) tea.Cmd {
	n := m.native
	if n == nil {
		return nil
	}
	return func() tea.Msg {
		// OSC 52 went out too; a failure here only matters where the
		// terminal ignores it, and the user sees the token missing.
		_ = n.WriteAll(s)
		return nil
	}
}

// Update handles the clipboard's messages. It reports whether msg was one;
// the notice, when not empty, says the clipboard was cleared.
func (m *Model) Update(msg tea.Msg) (common.Notice, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case ClearDue:
		return common.Notice{}, m.onClearDue(msg), true
	case ReadTimeout:
		return common.Notice{}, m.onReadTimeout(msg), true
	case tea.ClipboardMsg:
		return common.Notice{}, m.onRead(msg), true
	case unscheduledMsg:
		return common.Notice{Text: "no clearer could be started (" + present.OneLine(msg.err.Error()) +
			"): the copy is cleared only if keyfob is still open then", Tone: present.ToneWarn}, nil, true
	case clearedMsg:
		if msg.cleared {
			return common.Notice{Text: "clipboard cleared", Tone: present.ToneMuted}, nil, true
		}
		return common.Notice{}, nil, true
	}
	return common.Notice{}, nil, false
}

// onClearDue clears the clipboard when the copied secret is due to go,
// provided nothing else was copied since.
func (m *Model) onClearDue(msg ClearDue) tea.Cmd {
	if msg.Seq != m.seq || m.value == "" {
		return nil // a newer copy replaced it
	}
	if m.native != nil {
		value := m.value
		m.value = ""
		return clearCmd(m.native, value)
	}
	// Only the terminal holds it: ask the terminal what its clipboard
	// holds; the secret is kept to compare with the answer.
	m.awaiting = msg.Seq
	seq := msg.Seq
	return tea.Batch(tea.ReadClipboard,
		tea.Tick(readWait, func(time.Time) tea.Msg { return ReadTimeout{Seq: seq} }))
}

// onRead compares the terminal's clipboard with the secret.
func (m *Model) onRead(msg tea.ClipboardMsg) tea.Cmd {
	if m.awaiting == 0 {
		return nil
	}
	value := m.value
	m.awaiting, m.value = 0, ""
	if msg.Content != value {
		return nil // the user copied something else meanwhile
	}
	return clearCmd(nil, value)
}

// onReadTimeout handles terminals that do not answer clipboard reads:
// keyfob cannot tell whether the token is still there, and clears it,
// since leaving a live token behind is the worse mistake.
func (m *Model) onReadTimeout(msg ReadTimeout) tea.Cmd {
	if m.awaiting != msg.Seq {
		return nil
	}
	value := m.value
	m.awaiting, m.value = 0, ""
	return clearCmd(nil, value)
}

// ClearOnQuit clears a secret that is still waiting to be cleared, since
// no timer survives the program.
func (m *Model) ClearOnQuit() tea.Cmd {
	if m.value == "" {
		return nil
	}
	value := m.value
	m.value = ""
	return clearCmd(m.native, value)
}

// clearCmd empties both clipboards if the native one (when there is one)
// still holds value.
func clearCmd(native Native, value string) tea.Cmd {
	return func() tea.Msg {
		if native != nil {
			cur, err := native.ReadAll()
			if err == nil && cur != value {
				return clearedMsg{cleared: false}
			}
			_ = native.WriteAll("")
		}
		return tea.BatchMsg{tea.SetClipboard(""), func() tea.Msg { return clearedMsg{cleared: true} }}
	}
}
