package ui

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// The footer and the `?` screen are rendered from the key maps: each lists
// exactly the bindings that are enabled, in every state of the screen.
func TestFooterAndHelpShowExactlyTheEnabledKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		accts []accounts.Account
		keys  []string
	}{
		{"list", keyfobtest.Fixtures(), nil},
		{"revoked account selected", keyfobtest.Fixtures(), []string{"G"}},
		{"partner account selected", keyfobtest.Fixtures(), []string{"j", "j", "j"}},
		{"one account", keyfobtest.Fixtures()[:1], nil},
		{"detail", keyfobtest.Fixtures(), []string{"enter"}},
		{"filter open", keyfobtest.Fixtures(), []string{"/"}},
		{"filter applied", keyfobtest.Fixtures(), []string{"/", "type:fleet", "enter"}},
		{"nothing matches", keyfobtest.Fixtures(), []string{"/", "type:zzz", "enter"}},
		{"empty store", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newViewModel(t, tc.accts, 200, 50)
			press(m, tc.keys...)
			checkFooter(t, m)
			if m.list.Filtering() {
				return
			}
			groups := m.fullHelp()
			press(m, "?")
			checkHelp(t, dialogText(m), groups)
		})
	}
	t.Run("load error", func(t *testing.T) {
		m := newViewModel(t, keyfobtest.Fixtures(), 200, 50)
		m.Update(loadedMsg{err: errors.New("cannot read")})
		checkFooter(t, m)
		if k := m.keyMap(); k.New.Enabled() || k.Import.Enabled() {
			t.Error("n and i are offered while the store cannot be read")
		}
	})
}

// checkFooter asserts that the footer lists exactly the enabled bindings
// with a help text, in order.
func checkFooter(t *testing.T, m *Model) {
	t.Helper()
	lines := strings.Split(plain(m), "\n")
	footer := strings.TrimSpace(lines[len(lines)-1])
	var want []string
	for _, b := range m.shortHelp() {
		item := b.Help().Key + " " + b.Help().Desc
		switch {
		case b.Enabled() && b.Help().Key != "":
			want = append(want, item)
		case b.Help().Key != "" && strings.Contains(" • "+footer+" • ", " • "+item+" • "):
			t.Errorf("the footer lists the disabled %q: %s", item, footer)
		}
	}
	if got := strings.Join(want, " • "); footer != got {
		t.Errorf("footer %q, want %q", footer, got)
	}
}

// checkHelp asserts that the help screen lists every enabled binding of
// groups and none of the disabled ones.
func checkHelp(t *testing.T, help string, groups [][]key.Binding) {
	t.Helper()
	if help == "" {
		t.Fatal("? did not open the help screen")
	}
	for _, g := range groups {
		for _, b := range g {
			h := b.Help()
			re := regexp.MustCompile(`(^| )` + regexp.QuoteMeta(h.Key) + ` +` + regexp.QuoteMeta(h.Desc) + `( |$)`)
			if shown := re.MatchString(help); shown != b.Enabled() {
				t.Errorf("help lists %q %q: %v; enabled: %v", h.Key, h.Desc, shown, b.Enabled())
			}
		}
	}
}
