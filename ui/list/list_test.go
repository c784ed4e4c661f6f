package list

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// listChrome is the lines of the list screen around the rows (header,
// filter, column titles, toast, footer): a list of a w×h terminal shows
// h-listChrome rows, as the root lays it out.
const listChrome = 5

// newList is a list of accts on a w×h terminal at keyfobtest.Now.
func newList(t *testing.T, accts []accounts.Account, w, h int) *Model {
	t.Helper()
	l := New(keyfobtest.Common(t, w, h))
	l.SetSize(w, h-listChrome)
	l.SetAccounts(accts)
	return l
}

// press sends keys to the list.
func press(l *Model, keys ...string) {
	for _, msg := range keyfobtest.Keys(keys...) {
		l.Update(msg)
	}
}

// screen is the list's part of the screen: its filter line and its table.
func screen(l *Model) string { return l.FilterLine() + "\n" + l.View() }

// shown are the names of the rows on screen, in order.
func shown(l *Model) []string {
	if len(l.visible) == 0 {
		return nil // the line that says nothing matches
	}
	lines := strings.Split(ansi.Strip(l.View()), "\n")[1:] // under the column titles
	var out []string
	for _, line := range lines {
		if f := strings.Fields(strings.TrimPrefix(line, "›")); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name  string
		accts []accounts.Account
		keys  []string
		setup func(*Model)
		sizes [][2]int
	}{
		{name: "main", accts: keyfobtest.Fixtures(), sizes: keyfobtest.Sizes},
		{name: "narrow", accts: keyfobtest.Fixtures(), sizes: [][2]int{{60, 16}, {40, 12}}},
		{name: "scrolled", accts: keyfobtest.Cars(60), keys: []string{"G", "k"}, sizes: keyfobtest.Sizes},
		{name: "refreshing", accts: keyfobtest.Fixtures(), sizes: keyfobtest.Sizes, setup: func(l *Model) {
			l.c.Jobs = keyfobtest.Jobs{"a0000002": common.Refreshing, "a0000003": common.Queued}
			l.c.Frame = "⠋"
		}},
		{name: "plain", accts: keyfobtest.Fixtures(), sizes: [][2]int{{80, 24}}, setup: func(l *Model) {
			th, _ := themes.Get(themes.Default)
			l.c.Styles = common.NewStyles(th, true, true) // NO_COLOR: badges as words
			l.SetSize(l.c.Width, l.c.Height-listChrome)
		}},
		{name: "filter", accts: keyfobtest.Fixtures(), keys: []string{"/", "type:fleet"}, sizes: keyfobtest.Sizes},
		{name: "filter_applied", accts: keyfobtest.Fixtures(), keys: []string{"/", "type:cmds", "enter"}, sizes: keyfobtest.Sizes},
		{name: "filter_nomatch", accts: keyfobtest.Fixtures(), keys: []string{"/", "type:nothing-like-this"}, sizes: keyfobtest.Sizes},
	} {
		for _, sz := range c.sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				l := newList(t, c.accts, sz[0], sz[1])
				if c.setup != nil {
					c.setup(l)
				}
				press(l, c.keys...)
				keyfobtest.Golden(t, screen(l), sz[0], sz[1]-listChrome+2)
			})
		}
	}
}

// The rows are the accounts, in store order; a reload keeps the selection
// on the same account wherever it moved, and drops accounts that left.
func TestSetAccountsKeepsTheSelection(t *testing.T) {
	accts := keyfobtest.Fixtures()
	l := newList(t, accts, 120, 40)
	press(l, "j", "j") // garage
	if l.SelectedID() != "a0000003" {
		t.Fatalf("selected %q", l.SelectedID())
	}
	reordered := []accounts.Account{accts[2], accts[0], accts[6]}
	l.SetAccounts(reordered)
	if got := shown(l); !slices.Equal(got, []string{"garage", "home", "sold"}) {
		t.Errorf("rows %v", got)
	}
	if l.SelectedID() != "a0000003" || l.Row("a0000002") != nil {
		t.Errorf("selected %q; the account that left is still there: %v", l.SelectedID(), l.Row("a0000002") != nil)
	}
	// The selected account leaves: the cursor stays in range.
	l.SetAccounts(reordered[:1])
	l.SetAccounts(nil)
	if l.Selected() != nil || l.SelectedID() != "" || l.Summary() != "no accounts yet" {
		t.Errorf("empty list: selected %v, summary %q", l.Selected(), l.Summary())
	}
}

// SetAccount replaces one account in its place, without a reload; an
// account that is no longer listed is not brought back. Under a filter,
// the account shows or hides by what it now is.
func TestSetAccountReplacesInPlace(t *testing.T) {
	accts := keyfobtest.Fixtures()
	l := newList(t, accts, 120, 40)
	work := accts[1]
	work.Name = "fleet-hq"
	if !l.SetAccount(work) || l.Row(work.ID).Name() != "fleet-hq" || shown(l)[1] != "fleet-hq" {
		t.Fatalf("after the rename: %v", shown(l))
	}
	gone := keyfobtest.Account("a00000ff", "gone", "", accounts.KindFleet, "na", keyfobtest.Now, nil)
	if l.SetAccount(gone) || l.Row(gone.ID) != nil {
		t.Error("SetAccount added an account that was not listed")
	}
	press(l, "/", "type:fleet-hq", "enter")
	if got := shown(l); !slices.Equal(got, []string{"fleet-hq"}) {
		t.Fatalf("filtered: %v", got)
	}
	work.Name = "depot"
	l.SetAccount(work)
	if got := shown(l); len(got) != 0 || !strings.Contains(l.Summary(), "0 of 7 accounts match") {
		t.Errorf("the renamed account still matches the filter: %v, %q", got, l.Summary())
	}
}

// The filter matches every word against the name, the email, the kind and
// region, and the scopes (their names and their badges); esc clears it
// and keeps the selection on what it found.
func TestFilter(t *testing.T) {
	l := newList(t, keyfobtest.Fixtures(), 120, 40)
	for filter, want := range map[string][]string{
		"fleet":            {"home", "work", "sold"},
		"owner/na":         {"garage"},
		"selfhost.example": {"selfhost"},
		"charge":           {"home", "partner-na", "sold"}, // vehicle_charging_cmds' badge
		"vehicle_cmds":     {"home", "partner-na", "sold"},
		"fleet eu":         {"work", "sold"},
		"FLEET EU":         {"work", "sold"},
		"nothing":          nil,
	} {
		press(l, "/", "type:"+filter, "enter")
		if got := shown(l); !slices.Equal(got, want) {
			t.Errorf("filter %q shows %v, want %v", filter, got, want)
		}
		press(l, "esc")
	}
	press(l, "/", "type:garage", "esc")
	if l.Filtering() || l.SelectedID() != "a0000003" || len(shown(l)) != 7 {
		t.Errorf("esc: filtering %v, selected %q, %d rows", l.Filtering(), l.SelectedID(), len(shown(l)))
	}
	// Select clears a filter that hides the account it selects.
	press(l, "/", "type:home", "enter")
	if !l.Select("a0000007") || l.SelectedID() != "a0000007" || len(shown(l)) != 7 {
		t.Errorf("Select under a filter: selected %q, %d rows", l.SelectedID(), len(shown(l)))
	}
}

// The cursor stays on the list and the rows under it stay on screen;
// the position shows only when not every row fits.
func TestMovingAndScrolling(t *testing.T) {
	l := newList(t, keyfobtest.Cars(60), 80, 24) // 19 rows on screen
	press(l, "k")
	if l.SelectedID() != "e0000000" || l.Position() != "1/60" {
		t.Errorf("up at the top: %q, position %q", l.SelectedID(), l.Position())
	}
	press(l, "pgdown")
	if got := shown(l); l.Row(l.SelectedID()).Name() != "car-018" || got[0] != "car-000" {
		t.Errorf("page down: selected %s, first on screen %s", l.Row(l.SelectedID()).Name(), got[0])
	}
	press(l, "j")
	if got := shown(l); got[0] != "car-001" || got[len(got)-1] != "car-019" {
		t.Errorf("one past the screen: rows %s…%s", got[0], got[len(got)-1])
	}
	press(l, "G", "j")
	if l.Row(l.SelectedID()).Name() != "car-059" || l.Position() != "60/60" {
		t.Errorf("down at the bottom: %q %q", l.SelectedID(), l.Position())
	}
	if small := newList(t, keyfobtest.Fixtures(), 80, 24); small.Position() != "" {
		t.Errorf("a list that fits shows a position: %q", small.Position())
	}
}

// Keys that do nothing are off, so that help never offers them.
func TestKeyMapEnablesWhatApplies(t *testing.T) {
	one := newList(t, keyfobtest.Fixtures()[:1], 80, 24)
	k := one.KeyMap()
	if k.Down.Enabled() || k.Move.Enabled() || !k.Details.Enabled() || !k.Filter.Enabled() || k.ClearFilter.Enabled() {
		t.Errorf("one account: down %v move %v details %v filter %v clear %v",
			k.Down.Enabled(), k.Move.Enabled(), k.Details.Enabled(), k.Filter.Enabled(), k.ClearFilter.Enabled())
	}
	empty := newList(t, nil, 80, 24)
	if k := empty.KeyMap(); k.Details.Enabled() || k.Filter.Enabled() {
		t.Error("an empty list offers details or the filter")
	}
	press(one, "/", "type:x", "enter")
	if !one.KeyMap().ClearFilter.Enabled() {
		t.Error("an applied filter cannot be cleared")
	}
	if lead, trail := one.ShortHelp(); len(lead) != 2 || len(trail) != 2 {
		t.Errorf("footer parts %d and %d", len(lead), len(trail))
	}
	press(one, "/")
	if lead, trail := one.ShortHelp(); trail != nil || !slices.ContainsFunc(lead, func(b key.Binding) bool { return b.Help().Desc == "keep filter" }) {
		t.Error("while filtering, the footer is not the filter's")
	}
	if a, _ := newList(t, keyfobtest.Fixtures(), 80, 24).Update(keyfobtest.Key("enter")); a != (OpenDetail{ID: "a0000001"}) {
		t.Errorf("enter decided %#v", a)
	}
}

// Accounts yields every account in store order and stops when asked.
func TestAccountsYieldsInOrder(t *testing.T) {
	l := newList(t, keyfobtest.Fixtures(), 80, 24)
	var ids []string
	for a := range l.Accounts() {
		ids = append(ids, a.ID)
		if len(ids) == 3 {
			break
		}
	}
	if !slices.Equal(ids, []string{"a0000001", "a0000002", "a0000003"}) {
		t.Errorf("yielded %v", ids)
	}
}

// A row's status is the scheduler's job when there is one, else the
// account's own; every status reads without colour, as a symbol and a
// word.
func TestRowStatus(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range keyfobtest.Fixtures() {
		text := NewRow(a).Status(keyfobtest.Now, common.NoJob).String()
		if !strings.ContainsAny(text, "✓!✗⊘⊗") || len(strings.Fields(text)) < 2 {
			t.Errorf("%s: status %q lacks a symbol or a word", a.Name, text)
		}
		seen[strings.Fields(text)[1]] = true
	}
	for _, w := range []string{"valid", "expiring", "expired", "revoked", "login", "refresh"} {
		if !seen[w] {
			t.Errorf("no fixture shows the %q status", w)
		}
	}
	r := NewRow(keyfobtest.Fixtures()[0])
	if got := r.Status(keyfobtest.Now, common.Refreshing).String(); got != "refreshing" {
		t.Errorf("refreshing: %q", got)
	}
	if got := r.Status(keyfobtest.Now, common.Queued).String(); got != "… queued" {
		t.Errorf("queued: %q", got)
	}
	if got := r.Status(keyfobtest.Now.Add(8*time.Hour), common.NoJob).Word; got != "expired" {
		t.Errorf("later: %q", got)
	}
}

// The summary says how many accounts there are, or match.
func TestSummary(t *testing.T) {
	l := newList(t, keyfobtest.Fixtures()[:1], 80, 24)
	if l.Summary() != "1 account" {
		t.Errorf("%q", l.Summary())
	}
	l.SetAccounts(keyfobtest.Fixtures())
	press(l, "/", "type:fleet")
	if l.Summary() != "3 of 7 accounts match" {
		t.Errorf("%q", l.Summary())
	}
}
