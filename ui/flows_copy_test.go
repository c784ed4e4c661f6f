package ui

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/clipboard"
)

func TestCopyTokens(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	a := e.stored(t)[0]
	e.d.Press("c")
	e.d.Until("both copies", func() bool { return e.clip.get() == a.AccessToken && len(e.d.clipboard()) > 0 })
	if clip := e.d.clipboard(); len(clip) != 1 || clip[0] != a.AccessToken {
		t.Fatalf("OSC 52 got %d writes; want the access token", len(clip))
	}
	e.d.Until("the notice", func() bool {
		return strings.Contains(plain(e.m), "copied access token of car to the system clipboard — clears in 30 s")
	})
	if s := plain(e.m); strings.Contains(s, a.AccessToken) {
		t.Errorf("toast:\n%s", s)
	}
	// The clear timer fires: the clipboard still holds the token, so both
	// clipboards are emptied.
	e.d.Send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	e.d.Until("the clipboard to clear", func() bool { return e.clip.get() == "" })
	e.d.Until("the OSC 52 clear", func() bool { c := e.d.clipboard(); return c[len(c)-1] == "" })

	// C copies the refresh token; if the user copies something else
	// before the delay, nothing is cleared.
	e.d.Press("C")
	e.d.Until("both copies", func() bool {
		c := e.d.clipboard()
		return e.clip.get() == a.RefreshToken && c[len(c)-1] == a.RefreshToken
	})
	e.clip.set("something the user copied")
	n := len(e.d.clipboard())
	e.d.Send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	e.d.Settle()
	if e.clip.get() != "something the user copied" || len(e.d.clipboard()) != n {
		t.Error("keyfob cleared a clipboard that no longer held its token")
	}
}

// Every secret that reaches the system clipboard is also handed to a
// clearer that outlives the TUI (a closed terminal or a kill ends the
// program's own timer); a scheduling failure is said, not swallowed.
func TestCopyHandsTheSecretToAClearerThatOutlivesTheTUI(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	type scheduled struct {
		secret string
		after  time.Duration
	}
	var mu sync.Mutex
	var calls []scheduled
	var fail atomic.Bool
	e.m.clip = clipboard.New(e.clip, func(secret string, after time.Duration) error {
		mu.Lock()
		calls = append(calls, scheduled{secret, after})
		mu.Unlock()
		if fail.Load() {
			return errors.New("no executable")
		}
		return nil
	})
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(calls) }
	a := e.stored(t)[0]
	e.d.Press("c")
	e.d.Until("a clearer to be scheduled", func() bool { return count() == 1 })
	if s := calls[0]; s.secret != a.AccessToken || s.after != accounts.DefaultClipboardClear {
		t.Fatalf("scheduled %.8q… after %v; want the access token after %v", s.secret, s.after, accounts.DefaultClipboardClear)
	}
	fail.Store(true)
	e.d.Press("C")
	e.d.Until("the warning", func() bool { return count() == 2 && strings.Contains(plain(e.m), "no clearer could be started") })
}

// A copy says where it went: without a system clipboard, through the
// terminal alone, which keyfob cannot confirm (tmux drops it unless
// set-clipboard is on); when the system clipboard fails, the same, and
// why.
func TestCopySaysWhereItWent(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.m.clip = clipboard.New(nil, nil)
	e.d.Press("c")
	e.d.Until("the OSC 52 copy", func() bool { return len(e.d.clipboard()) == 1 })
	// The notice wraps: compare without the spaces.
	flat := func() string { return strings.Join(strings.Fields(plain(e.m)), "") }
	has := func(s, want string) bool { return strings.Contains(s, strings.Join(strings.Fields(want), "")) }
	if s := flat(); !has(s, "copied access token of car through the terminal only (OSC 52; not confirmed — tmux needs set-clipboard on) — clears in 30 s") ||
		has(s, "system clipboard") {
		t.Errorf("without a system clipboard:\n%s", plain(e.m))
	}
	e.m.clip = clipboard.New(failingClipboard{}, nil)
	e.d.Press("C")
	e.d.Until("the failed write's notice", func() bool { return has(flat(), "the system clipboard failed (xclip: no display)") })
	if s := flat(); !has(s, "copied refresh token of car through the terminal only (OSC 52; not confirmed") {
		t.Errorf("a failed system clipboard:\n%s", plain(e.m))
	}
}

// failingClipboard is a system clipboard whose writes fail.
type failingClipboard struct{}

func (failingClipboard) ReadAll() (string, error) { return "", errors.New("xclip: no display") }
func (failingClipboard) WriteAll(string) error    { return errors.New("xclip: no display") }

func TestCopyWithoutNativeClipboardAsksTheTerminal(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.m.clip = clipboard.New(nil, nil)
	a := e.stored(t)[0]
	e.d.Press("c")
	e.d.Until("the OSC 52 copy", func() bool { return len(e.d.clipboard()) == 1 })
	e.d.Send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	// The terminal answers that the user copied something else: keep it.
	e.d.Send(clipboardReply("other text"))
	e.d.Settle()
	if slices.Contains(e.d.clipboard(), "") {
		t.Fatal("the terminal clipboard was cleared although it held something else")
	}
	// Copy again; the terminal answers with the token: clear it.
	e.d.Press("c")
	e.d.Send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	e.d.Send(clipboardReply(a.AccessToken))
	e.d.Until("the clear", func() bool { return slices.Contains(e.d.clipboard(), "") })
}

func TestQuitClearsAPendingToken(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.d.Press("c")
	e.d.Until("the native copy", func() bool { return e.clip.get() != "" })
	e.d.Press("q")
	e.d.Until("quit", e.d.quitted)
	if e.clip.get() != "" {
		t.Error("quitting left the token in the clipboard")
	}
}

// clipboardReply is the terminal's answer to an OSC 52 read.
func clipboardReply(s string) tea.Msg { return tea.ClipboardMsg{Content: s, Selection: 'c'} }

func TestClipboardReadTimeoutClears(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.m.clip = clipboard.New(nil, nil)
	e.d.Press("c")
	e.d.Until("the OSC 52 copy", func() bool { return len(e.d.clipboard()) == 1 })
	e.d.Send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	// The terminal never answers the read: keyfob clears rather than
	// leave a live token behind.
	e.d.Send(clipboard.ReadTimeout{Seq: e.m.clip.Seq()})
	e.d.Until("the clear", func() bool { return slices.Contains(e.d.clipboard(), "") })
}
