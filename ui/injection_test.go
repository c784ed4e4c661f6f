package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestHostileClaimsNeverReachTheScreen refreshes an account at a server
// that answers with claims hostile to terminals (FaultHostileClaims:
// escape sequences, a bell and a line break in the email, the name, the
// region code and the scopes) and checks the list and the detail view.
// The TUI styles its own text with escape sequences, so the raw frame is
// searched for the hostile sequences themselves, and the frame without
// its styling (ansi.Strip) for any control character left.
func TestHostileClaimsNeverReachTheScreen(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet,
		sandbox.MintRequest{ClientID: sandbox.FleetClientID, Scopes: []string{"openid"}, AccessTTL: -time.Minute}))
	e.m.Update(tea.WindowSizeMsg{Width: 200, Height: 120}) // room for every scope badge and every claim
	e.srv.FailNext(sandbox.FaultHostileClaims, 1)
	e.d.Press("r")
	e.d.Until("the refresh", func() bool { return !e.busy(0) && e.row(0).Account().Email == sandbox.HostileEmail })
	list := e.m.View().Content
	screenSafe(t, "list", list)
	if s := ansi.Strip(list); !strings.Contains(s, "evil@example.com") || !strings.Contains(s, "energy_cmds") {
		t.Errorf("the list does not show the cleaned email and scopes:\n%s", s)
	}
	e.d.Press("enter")
	detail := e.m.View().Content
	screenSafe(t, "detail", detail)
	if s := ansi.Strip(detail); !strings.Contains(s, "Mallory Red Driver") || !strings.Contains(s, "energy_cmds") {
		t.Errorf("the detail view does not show the cleaned name and scopes:\n%s", s)
	}
}

// hostileTails are the hostile payloads as they would reach the terminal
// if their escape character got through: none of them is styling keyfob
// makes itself.
var hostileTails = []string{"\x1b]0;pwned", "\x1b[2J", "\x1b[31mRed", "Red\x1b[0m Driver", "\x07"}

// screenSafe fails when a frame carries a hostile sequence, or when,
// without its styling, it holds a control character other than a line end,
// a mark that reorders text, or a line forged by a line break in server
// text.
func screenSafe(t *testing.T, where, frame string) {
	t.Helper()
	for _, tail := range hostileTails {
		if i := strings.Index(frame, tail); i >= 0 {
			t.Errorf("%s: the hostile sequence %q reaches the terminal: %q", where, tail, frame[max(0, i-30):min(len(frame), i+30)])
		}
	}
	plain := ansi.Strip(frame)
	for i, r := range plain {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || bidiMark(r) {
			t.Errorf("%s: control character %U left after the styling is removed: %q", where, r, plain[max(0, i-20):min(len(plain), i+20)])
			break
		}
	}
	for _, l := range strings.Split(plain, "\n") {
		if strings.HasPrefix(strings.Trim(l, " │"), "keyfob: all tokens valid") {
			t.Errorf("%s: a line break in a scope forged the line %q", where, l)
		}
	}
}

// bidiMark reports the invisible marks that reorder text on screen.
func bidiMark(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
