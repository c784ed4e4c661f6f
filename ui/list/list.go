// Package list is the account list of keyfob's terminal interface: one row
// per account with its live countdown, scope badges and status, the
// selection, scrolling, the filter and a render cache that makes a
// one-second tick cost only the rows on screen.
package list

import (
	"fmt"
	"iter"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// OpenDetail asks the root to show the detail page of the account ID.
type OpenDetail struct{ ID string }

// Model is the account list. Create it with New.
type Model struct {
	c          *common.Common
	keys       KeyMap
	filterKeys FilterKeyMap

	rows    []*Row
	byID    map[string]int
	visible []int // indices into rows that pass the filter
	cursor  int   // index into visible
	offset  int   // first visible row on screen
	height  int   // rows that fit on screen

	filtering bool // the filter input has the keyboard
	filter    textinput.Model
	query     string // the applied filter, lower case

	table table
}

// New returns an empty list.
func New(c *common.Common) *Model {
	l := &Model{c: c, keys: DefaultKeyMap(), filterKeys: DefaultFilterKeyMap(), byID: map[string]int{}, height: 1}
	l.filter = textinput.New()
	l.filter.Prompt = "/ "
	l.filter.Placeholder = "name, email or scope"
	l.filter.CharLimit = 100
	return l
}

// SetSize lays the list out for the terminal's width with rows account
// rows on screen, in the current styles.
func (l *Model) SetSize(width, rows int) {
	l.height = max(rows, 1)
	common.SizeInput(l.c.Styles, &l.filter, max(width-24, 10), true)
	l.table = table{st: l.c.Styles, l: computeLayout(width), gen: l.table.gen + 1, buf: l.table.buf}
	l.ensureVisible()
}

// SetAccounts installs the accounts, in their order, keeping the
// selection.
func (l *Model) SetAccounts(accts []accounts.Account) {
	selID := l.SelectedID()
	rows := make([]*Row, len(accts))
	byID := make(map[string]int, len(accts))
	for i, a := range accts {
		r := l.Row(a.ID)
		if r == nil {
			r = NewRow(a)
		} else {
			r.set(a)
		}
		rows[i] = r
		byID[a.ID] = i
	}
	l.rows, l.byID = rows, byID
	l.filterKeeping(selID)
}

// SetAccount replaces one account (after a refresh, a rename or an edit),
// in its place. It reports whether the list holds the account; one that
// left the list is not brought back.
func (l *Model) SetAccount(a accounts.Account) bool {
	r := l.Row(a.ID)
	if r == nil {
		return false
	}
	r.set(a)
	if l.query != "" {
		// The account may match the filter no longer, or now.
		l.filterKeeping(l.SelectedID())
	}
	return true
}

// Accounts yields every account in store order, for reading: the refresh
// scheduler looks at them on a tick without copying the list.
func (l *Model) Accounts() iter.Seq[*accounts.Account] {
	return func(yield func(*accounts.Account) bool) {
		for _, r := range l.rows {
			if !yield(&r.acct) {
				return
			}
		}
	}
}

// Select puts the cursor on the account id, clearing a filter that hides
// it. It reports whether the list holds the account.
func (l *Model) Select(id string) bool {
	r := l.Row(id)
	if r == nil {
		return false
	}
	if l.query != "" && !r.matches(l.query) {
		l.query = ""
		l.filter.SetValue("")
	}
	l.filterKeeping(id)
	return true
}

// Rows is every row, in store order.
func (l *Model) Rows() []*Row { return l.rows }

// Row is the row of the account id, or nil.
func (l *Model) Row(id string) *Row {
	if i, ok := l.byID[id]; ok {
		return l.rows[i]
	}
	return nil
}

// SelectedID is the id of the account under the cursor, or "".
func (l *Model) SelectedID() string {
	if r := l.Selected(); r != nil {
		return r.acct.ID
	}
	return ""
}

// Selected is the row under the cursor, or nil.
func (l *Model) Selected() *Row {
	if l.cursor < 0 || l.cursor >= len(l.visible) || l.visible[l.cursor] >= len(l.rows) {
		return nil
	}
	return l.rows[l.visible[l.cursor]]
}

// Filtering reports whether the filter input has the keyboard.
func (l *Model) Filtering() bool { return l.filtering }

// KeyMap is the list's keys, enabled where they apply now.
func (l *Model) KeyMap() KeyMap {
	k := l.keys
	many := len(l.visible) > 1
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom, &k.Move} {
		b.SetEnabled(many)
	}
	k.Details.SetEnabled(l.Selected() != nil)
	k.Filter.SetEnabled(len(l.rows) > 0)
	k.ClearFilter.SetEnabled(l.query != "")
	return k
}

// ShortHelp is the list's part of the footer: lead comes before the
// account keys, trail after them. While the filter has the keyboard, lead
// is the filter's keys and nothing else belongs in the footer.
func (l *Model) ShortHelp() (lead, trail []key.Binding) {
	if l.filtering {
		return l.filterKeys.ShortHelp(), nil
	}
	k := l.KeyMap()
	return []key.Binding{k.Move, k.Details}, []key.Binding{k.Filter, k.ClearFilter}
}

// FullHelp is the list's column of the help screen.
func (l *Model) FullHelp() []key.Binding {
	k := l.KeyMap()
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Filter, k.ClearFilter, k.Details}
}

// Update handles a key, or feeds the filter input while it is open.
func (l *Model) Update(msg tea.Msg) (common.Action, tea.Cmd) {
	if l.filtering {
		return nil, l.updateFilter(msg)
	}
	kp, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, nil
	}
	k := l.KeyMap()
	switch {
	case key.Matches(kp, k.Up):
		l.move(-1)
	case key.Matches(kp, k.Down):
		l.move(1)
	case key.Matches(kp, k.PageUp):
		l.move(-max(l.height-1, 1))
	case key.Matches(kp, k.PageDown):
		l.move(max(l.height-1, 1))
	case key.Matches(kp, k.Top):
		l.move(-len(l.visible))
	case key.Matches(kp, k.Bottom):
		l.move(len(l.visible))
	case key.Matches(kp, k.Filter):
		l.filtering = true
		l.filter.SetValue(l.query)
		l.filter.CursorEnd()
		return nil, l.filter.Focus()
	case key.Matches(kp, k.ClearFilter):
		l.setQuery("")
	case key.Matches(kp, k.Details):
		return OpenDetail{ID: l.SelectedID()}, nil
	}
	return nil, nil
}

// updateFilter feeds the filter input while it has the keyboard.
func (l *Model) updateFilter(msg tea.Msg) tea.Cmd {
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		k := l.filterKeys
		switch {
		case key.Matches(kp, k.Clear):
			l.filtering = false
			l.filter.Blur()
			l.setQuery("")
			return nil
		case key.Matches(kp, k.Keep):
			l.filtering = false
			l.filter.Blur()
			return nil
		case key.Matches(kp, k.Up):
			l.move(-1)
			return nil
		case key.Matches(kp, k.Down):
			l.move(1)
			return nil
		}
	}
	var cmd tea.Cmd
	l.filter, cmd = l.filter.Update(msg)
	l.setQuery(l.filter.Value())
	return cmd
}

// setQuery applies a filter text.
func (l *Model) setQuery(q string) {
	q = strings.ToLower(q)
	if q == l.query && len(l.visible) > 0 {
		return
	}
	l.query = q
	if q == "" {
		l.filter.SetValue("")
	}
	l.filterKeeping(l.SelectedID())
}

// filterKeeping recomputes the visible rows and puts the cursor on the
// account id when it is visible, else keeps it in range.
func (l *Model) filterKeeping(id string) {
	l.visible = l.visible[:0]
	for i, r := range l.rows {
		if l.query == "" || r.matches(l.query) {
			l.visible = append(l.visible, i)
		}
	}
	if i, ok := l.byID[id]; ok && id != "" {
		for vi, ri := range l.visible {
			if ri == i {
				l.cursor = vi
				l.ensureVisible()
				return
			}
		}
	}
	l.cursor = min(l.cursor, max(len(l.visible)-1, 0))
	l.ensureVisible()
}

// move moves the cursor by delta rows, clamped.
func (l *Model) move(delta int) {
	if len(l.visible) == 0 {
		return
	}
	l.cursor = min(max(l.cursor+delta, 0), len(l.visible)-1)
	l.ensureVisible()
}

// ensureVisible scrolls so that the cursor is on screen.
func (l *Model) ensureVisible() {
	n := l.height
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+n {
		l.offset = l.cursor - n + 1
	}
	l.offset = max(min(l.offset, len(l.visible)-n), 0)
}

// Summary says how many accounts there are, or how many match the filter.
func (l *Model) Summary() string {
	switch {
	case l.query != "":
		return fmt.Sprintf("%d of %d accounts match", len(l.visible), len(l.rows))
	case len(l.rows) == 0:
		return "no accounts yet"
	case len(l.rows) == 1:
		return "1 account"
	}
	return fmt.Sprintf("%d accounts", len(l.rows))
}

// Position is where the cursor is, when not every row fits on screen.
func (l *Model) Position() string {
	if len(l.visible) <= l.height {
		return ""
	}
	return fmt.Sprintf("%d/%d", l.cursor+1, len(l.visible))
}

// FilterLine is the filter input while it is open, the applied filter, or
// a blank line.
func (l *Model) FilterLine() string {
	st, w := l.c.Styles, l.c.Width
	switch {
	case l.filtering:
		return " " + l.filter.View()
	case l.query != "":
		return " " + st.Accent.Render("/ "+common.Clip(present.Clean(l.query), w-20)) +
			st.Muted.Render("  ("+l.keys.ClearFilter.Help().Key+" clears)")
	}
	return ""
}

// View renders the column titles and the rows on screen, or says that
// nothing matches the filter.
func (l *Model) View() string {
	st := l.c.Styles
	if len(l.visible) == 0 {
		text := fmt.Sprintf("No account matches %q — %s clears the filter.", present.Clean(l.query), l.keys.ClearFilter.Help().Key)
		return l.table.titles() + "\n\n  " + st.Muted.Render(common.Clip(text, l.c.Width-4))
	}
	l.table.now, l.table.spin = l.c.Now, l.c.Frame
	var b strings.Builder
	b.Grow(l.table.size)
	b.WriteString(l.table.titles())
	end := min(l.offset+l.height, len(l.visible))
	for i := l.offset; i < end; i++ {
		b.WriteByte('\n')
		r := l.rows[l.visible[i]]
		b.WriteString(l.table.row(r, i == l.cursor, l.c.JobOf(r.acct.ID)))
	}
	l.table.size = b.Len()
	return b.String()
}
