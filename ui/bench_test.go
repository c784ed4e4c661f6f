package ui

import (
	"reflect"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// benchModel is a loaded model of 1,000 accounts at 120×40 after its
// first tick: its auto-refresh has planned its next run (nothing is due
// for an hour).
func benchModel(b testing.TB) *Model {
	m := newViewModel(b, keyfobtest.Fleet(1000), 120, 40)
	tickWithCommands(m, keyfobtest.Now)
	if m.sched.Busy() {
		b.Fatal("refreshes started; the benchmark wants an idle screen")
	}
	return m
}

// BenchmarkView renders the list of 1,000 accounts, one second later each
// time, as after every tick (the bar: ≤ 2 ms).
func BenchmarkView(b *testing.B) {
	m := benchModel(b)
	now := keyfobtest.Now
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		m.c.Now = now
		_ = m.View()
	}
}

// BenchmarkViewDetail renders the detail page of one account.
func BenchmarkViewDetail(b *testing.B) {
	m := benchModel(b)
	press(m, "enter")
	b.ReportAllocs()
	for b.Loop() {
		m.detail.Refresh(m.current())
		_ = m.View()
	}
}

// BenchmarkTick is one countdown tick with 1,000 accounts as a program
// runs it: the tick's Update, the commands it starts (a look at the
// store's stamp) with their messages back into Update, and the frame it
// causes (the bar: ≤ 1 ms).
func BenchmarkTick(b *testing.B) {
	m := benchModel(b)
	now := keyfobtest.Now
	m.clock = func() time.Time { return now }
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		tickWithCommands(m, now)
	}
}

// BenchmarkTickUpdate is the Update of the tick alone, without its
// commands or the frame.
func BenchmarkTickUpdate(b *testing.B) {
	m := benchModel(b)
	m.clock = func() time.Time { return keyfobtest.Now }
	msg := tea.Msg(tickMsg(keyfobtest.Now))
	b.ReportAllocs()
	for b.Loop() {
		m.Update(msg)
	}
}

// BenchmarkTickAutoRefreshScan is BenchmarkTick on a tick on which the
// auto-refresh looks at every account and finds none due.
func BenchmarkTickAutoRefreshScan(b *testing.B) {
	m := benchModel(b)
	now := keyfobtest.Now
	m.clock = func() time.Time { return now }
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		m.sched.Replan()
		tickWithCommands(m, now)
	}
}

// tickWithCommands runs one countdown tick at now as a program does: the
// tick's Update, then every command it started, their messages back into
// Update (and so on), then the frame. Only the re-armed tick itself, which
// would wait for the next second, is not run.
func tickWithCommands(m *Model, now time.Time) {
	_, cmd := m.Update(tickMsg(now))
	runCommands(m, cmd)
	_ = m.View()
}

// everyCode identifies the commands of tea.Every, the one the tick
// re-arms itself with.
var everyCode = reflect.ValueOf(tea.Every(time.Hour, func(time.Time) tea.Msg { return nil })).Pointer()

func runCommands(m *Model, cmd tea.Cmd) {
	if cmd == nil || isEvery(cmd) {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			runCommands(m, c)
		}
	default:
		_, next := m.Update(msg)
		runCommands(m, next)
	}
}

func isEvery(cmd tea.Cmd) bool { return reflect.ValueOf(cmd).Pointer() == everyCode }
