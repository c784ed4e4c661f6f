package ui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// TestProgramEndToEnd runs the model in a real Bubble Tea program: the
// first frame lists the accounts, keys reach it, q quits cleanly.
func TestProgramEndToEnd(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 100, 30)
	off := false
	m.cfg.AutoRefresh = &off // nothing may write to the store after the program ends
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(100, 30),
		teatest.WithProgramOptions(
			tea.WithEnvironment([]string{"TERM=xterm-256color"}),
			tea.WithColorProfile(colorprofile.ANSI256),
		))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("home")) && bytes.Contains(b, []byte("login required"))
	}, teatest.WithDuration(10*time.Second))
	tm.Send(keyfobtest.Key("?"))
	tm.Send(keyfobtest.Key("esc"))
	tm.Send(keyfobtest.Key("j"))
	tm.Send(keyfobtest.Key("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final, ok := tm.FinalModel(t).(*Model)
	if !ok || !final.quitting || final.dialogs.Len() != 0 {
		t.Fatalf("the program did not end through quit")
	}
	if r := final.list.Selected(); r == nil || r.Name() != "work" {
		t.Errorf("j did not reach the model through the program")
	}
}
