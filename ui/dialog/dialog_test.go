package dialog

import (
	"fmt"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// newCommon is what the dialogs share with the root, on a 100×30
// terminal, with mgr as the manager.
func newCommon(t *testing.T, mgr *accounts.Manager) *common.Common {
	t.Helper()
	c := keyfobtest.Common(t, 100, 30)
	c.Manager = mgr
	return c
}

// decide sends keys to d and returns the decision of the last one.
func decide(d Dialog, keys ...string) any {
	var a any
	for _, k := range keys {
		a, _ = d.Update(keyfobtest.Key(k))
	}
	return a
}

var fleet = accounts.Account{ID: "1d000001", Name: "home", Email: "driver@example.com", Kind: accounts.KindFleet,
	AccessToken: "at", RefreshToken: "rt"}

// Each dialog's Update returns what the user chose; moving the focus
// decides nothing.
func TestConfirmDecisions(t *testing.T) {
	c := newCommon(t, nil)
	custom := fleet
	custom.Kind, custom.Endpoints.RevokeURL = accounts.KindCustom, "https://id.example/revoke"
	consent := Revocation{Name: "home", Rev: accounts.Revocation{Outcome: accounts.RevokeUnsupported, ConsentURL: "https://auth.example/consent"}}
	for _, tc := range []struct {
		name string
		d    func() Dialog
		keys []string
		want any
	}{
		{"revoke y", func() Dialog { return NewRevoke(c, custom) }, []string{"y"}, Revoke{ID: "1d000001", Name: "home"}},
		{"revoke d", func() Dialog { return NewRevoke(c, custom) }, []string{"d"}, Revoke{ID: "1d000001", Name: "home", Remove: true}},
		{"revoke n", func() Dialog { return NewRevoke(c, custom) }, []string{"n"}, Close{}},
		{"revoke esc", func() Dialog { return NewRevoke(c, custom) }, []string{"esc"}, Close{}},
		{"revoke q", func() Dialog { return NewRevoke(c, custom) }, []string{"q"}, Close{}},
		{"revoke enter on cancel", func() Dialog { return NewRevoke(c, custom) }, []string{"enter"}, Close{}},
		{"revoke right wraps to revoke", func() Dialog { return NewRevoke(c, custom) }, []string{"right", "enter"}, Revoke{ID: "1d000001", Name: "home"}},
		{"revoke left", func() Dialog { return NewRevoke(c, custom) }, []string{"left", "enter"}, Revoke{ID: "1d000001", Name: "home", Remove: true}},
		{"revoke moving", func() Dialog { return NewRevoke(c, custom) }, []string{"tab"}, nil},
		{"remove y", func() Dialog { return NewRemove(c, fleet) }, []string{"y"}, Remove{ID: "1d000001", Name: "home"}},
		{"remove enter on cancel", func() Dialog { return NewRemove(c, fleet) }, []string{"enter"}, Close{}},
		{"result enter", func() Dialog {
			return NewRevokeResult(c, Revocation{Name: "home", Rev: accounts.Revocation{Outcome: accounts.RevokedAtServer}})
		}, []string{"enter"}, Close{}},
		{"result esc", func() Dialog {
			return NewRevokeResult(c, Revocation{Name: "home", Rev: accounts.Revocation{Outcome: accounts.RevokedAtServer}})
		}, []string{"esc"}, Close{}},
		{"consent o", func() Dialog { return NewRevokeResult(c, consent) }, []string{"o"}, Open{What: "consent page", URL: "https://auth.example/consent"}},
		{"consent c", func() Dialog { return NewRevokeResult(c, consent) }, []string{"c"}, Copy{What: "the consent page address", Text: "https://auth.example/consent"}},
		{"consent enter", func() Dialog { return NewRevokeResult(c, consent) }, []string{"enter"}, Close{}},
		{"help ?", func() Dialog { return NewHelp(c, nil, Settings{}) }, []string{"?"}, Close{}},
		{"help esc", func() Dialog { return NewHelp(c, nil, Settings{}) }, []string{"esc"}, Close{}},
		{"help other", func() Dialog { return NewHelp(c, nil, Settings{}) }, []string{"x"}, nil},
	} {
		if got := decide(tc.d(), tc.keys...); got != tc.want {
			t.Errorf("%s: decided %#v, want %#v", tc.name, got, tc.want)
		}
	}
}

// The rename dialog decides a new name and changes nothing itself; a name
// the manager refuses comes back to it (Refused), and it stays open and
// says why.
func TestRenameDecisions(t *testing.T) {
	c := newCommon(t, nil)
	d, _ := NewRename(c, fleet)
	if a := decide(d, "esc"); a != (Close{}) {
		t.Errorf("esc decided %v", a)
	}
	if a := decide(d, "enter"); a != (Close{}) {
		t.Errorf("enter on the same name decided %v", a)
	}
	d.input.SetValue("  ")
	if a := decide(d, "enter"); a != nil || !strings.Contains(d.err, "cannot be empty") {
		t.Errorf("an empty name decided %v, error %q", a, d.err)
	}
	d.input.SetValue(" car ")
	if a := decide(d, "enter"); a != (SaveName{ID: "1d000001", Old: "home", Name: "car"}) {
		t.Errorf("a new name decided %#v", a)
	}
	taken := fmt.Errorf("%w: work", accounts.ErrNameTaken)
	if a, _ := d.Update(Refused{Err: taken}); a != nil || !strings.Contains(d.err, taken.Error()) {
		t.Errorf("a refused name decided %v, error %q", a, d.err)
	}
	if !strings.Contains(ansi.Strip(d.View()), "work") {
		t.Errorf("the dialog does not say why:\n%s", ansi.Strip(d.View()))
	}
}

// A dialog's hint line is rendered from its key map and names exactly the
// keys it has enabled.
func TestHintsNameTheEnabledKeys(t *testing.T) {
	c := newCommon(t, nil)
	hint := func(d Dialog) string {
		lines := strings.Split(ansi.Strip(d.View()), "\n")
		return strings.Trim(strings.TrimSpace(lines[len(lines)-2]), "│ ")
	}
	many := NewRemove(c, fleet)
	one := NewRevokeResult(c, Revocation{Name: "home", Rev: accounts.Revocation{Outcome: accounts.RevokedAtServer}})
	for _, tc := range []struct {
		d    Dialog
		keys []key.Binding
		want string
	}{
		{many, many.KeyMap().ShortHelp(), "←/→ choose • enter confirm • esc cancel"},
		{one, one.KeyMap().ShortHelp(), "enter or esc close"},
		{NewHelp(c, nil, Settings{}), DefaultHelpKeyMap().ShortHelp(), "esc or ? close"},
	} {
		got := hint(tc.d)
		if got != tc.want {
			t.Errorf("hint %q, want %q", got, tc.want)
		}
		for _, b := range tc.keys {
			if b.Help().Key == "" {
				continue
			}
			if shown := strings.Contains(got, b.Help().Key+" "+b.Help().Desc); shown != b.Enabled() {
				t.Errorf("hint %q: %q shown %v, enabled %v", got, b.Help().Key, shown, b.Enabled())
			}
		}
	}
}

// On a narrow screen the hint line drops keys from its middle, never the
// way out of the dialog.
func TestNarrowHintKeepsTheWayOut(t *testing.T) {
	c := newCommon(t, nil)
	c.Width = 40
	for name, d := range map[string]Dialog{
		"revoke": NewRevoke(c, fleet),
		"remove": NewRemove(c, fleet),
	} {
		lines := strings.Split(ansi.Strip(d.View()), "\n")
		hint := lines[len(lines)-2]
		if !strings.Contains(hint, "esc cancel") {
			t.Errorf("%s at 40 columns: hint %q lacks esc cancel", name, hint)
		}
	}
}

// A value longer than its input scrolls inside it: on a narrow screen it
// never wraps onto the next line of the form.
func TestNarrowInputsDoNotWrap(t *testing.T) {
	c := newCommon(t, nil)
	c.Width = 40
	a := fleet
	a.Audience = "https://fleet-api.prd.na.vn.cloud.tesla.com"
	a.Endpoints.AuthURL = "https://auth.tesla.com/oauth2/v3/authorize"
	edit, _ := NewEdit(c, a, nil)
	lines := strings.Split(ansi.Strip(edit.View()), "\n")
	for i, l := range lines {
		if strings.Contains(l, "Audience") && !strings.Contains(lines[i+1], "Auth URL") {
			t.Errorf("the audience wraps:\n%s", strings.Join(lines, "\n"))
		}
	}
	short := lipgloss.Height(mustRename(t, c, "home").View())
	long := mustRename(t, c, strings.Repeat("long-name-", 6))
	if h := lipgloss.Height(long.View()); h != short {
		t.Errorf("a long name takes %d lines, a short one %d:\n%s", h, short, ansi.Strip(long.View()))
	}
}

func mustRename(t *testing.T, c *common.Common, name string) *Rename {
	t.Helper()
	a := fleet
	a.Name = name
	d, _ := NewRename(c, a)
	return d
}
