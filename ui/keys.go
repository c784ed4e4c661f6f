package ui

import (
	"charm.land/bubbles/v2/key"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
)

// KeyMap holds the root's keys: those of every screen and those that act
// on the current account. The list and the detail page have their own
// (ui/list, ui/detail), and so does each dialog and each step of the
// wizard. The footer and the `?` screen are rendered from these same
// bindings by bubbles/help; a binding that does not apply right now is
// disabled, so help never lists a dead key.
type KeyMap struct {
	// Interrupt quits from anywhere, even a dialog or an input.
	Interrupt   key.Binding
	Quit        key.Binding
	Help        key.Binding
	New         key.Binding
	Import      key.Binding
	RefreshAll  key.Binding
	AutoRefresh key.Binding
	Theme       key.Binding

	// Keys of the current account (the selected one, or the one whose
	// page is open).
	Refresh     key.Binding
	CopyAccess  key.Binding
	CopyRefresh key.Binding
	Revoke      key.Binding
	Remove      key.Binding
	Rename      key.Binding
	// Edit opens the form of the account's endpoints, region, audience
	// and name.
	Edit key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Interrupt:   key.NewBinding(key.WithKeys("ctrl+c")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		New:         key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new login")),
		Import:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import token")),
		RefreshAll:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "refresh all")),
		AutoRefresh: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "auto-refresh on/off")),
		Theme:       key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "next theme")),
		Refresh:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		CopyAccess:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy token")),
		CopyRefresh: key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "copy refresh token")),
		Revoke:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "revoke")),
		Remove:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "remove")),
		Rename:      key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "rename")),
		Edit:        key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "edit endpoints")),
	}
}

// keyMap is the root's keys, enabled exactly where they apply now.
func (m *Model) keyMap() KeyMap {
	k := m.keys
	r := m.current()
	has := r != nil
	k.New.SetEnabled(m.store.err == nil)
	k.Import.SetEnabled(m.store.err == nil)
	k.RefreshAll.SetEnabled(m.anyRefreshable())
	var a accounts.Account
	if has {
		a = r.Account()
	}
	k.Refresh.SetEnabled(has && m.sched.CanStart(&a)) // accounts.CanRefresh, as R and the auto-refresh
	k.CopyAccess.SetEnabled(a.AccessToken != "")
	k.CopyRefresh.SetEnabled(a.RefreshToken != "")
	k.Revoke.SetEnabled(has && (a.State != accounts.StateRevoked || a.AccessToken != "" || a.RefreshToken != ""))
	k.Remove.SetEnabled(has)
	k.Rename.SetEnabled(has)
	k.Edit.SetEnabled(has)
	return k
}

// emptyStore reports a store read without error that holds no account.
func (m *Model) emptyStore() bool {
	return m.store.loaded && m.store.err == nil && len(m.list.Rows()) == 0
}

// shortHelp is the footer: the keys used most, in the order of a session.
// The screen's own keys come first (and last); i is named on the empty
// screen, where importing is one of the two ways to start.
func (m *Model) shortHelp() []key.Binding {
	k := m.keyMap()
	var lead, trail []key.Binding
	if m.screen == screenDetail {
		lead = m.detail.ShortHelp()
	} else {
		lead, trail = m.list.ShortHelp()
		if m.list.Filtering() {
			return lead
		}
	}
	out := append(lead, k.New)
	if m.emptyStore() {
		out = append(out, k.Import)
	}
	out = append(out, k.Refresh, k.CopyAccess)
	out = append(out, trail...)
	return append(out, k.Help, k.Quit)
}

// fullHelp is the `?` screen, one column per group: the screen's keys,
// the account's, then the rest.
func (m *Model) fullHelp() [][]key.Binding {
	k := m.keyMap()
	first := m.list.FullHelp()
	if m.screen == screenDetail {
		first = m.detail.FullHelp()
	}
	return [][]key.Binding{
		first,
		{k.New, k.Import, k.Refresh, k.RefreshAll, k.Rename, k.Revoke, k.Remove},
		{k.Edit, k.CopyAccess, k.CopyRefresh, k.AutoRefresh, k.Theme, k.Help, k.Quit},
	}
}

// footerCache keeps the rendered footer until its bindings, their state
// or the width change.
type footerCache struct {
	line  string
	mask  uint64
	width int
}

// footerLine is the short help on one line.
func (m *Model) footerLine() string {
	bindings := m.shortHelp()
	mask := uint64(len(bindings)) << 56
	for i, b := range bindings {
		if b.Enabled() {
			mask |= 1 << i
		}
	}
	if m.screen == screenDetail {
		mask |= 1 << 55
	}
	if m.footer.line != "" && m.footer.mask == mask && m.footer.width == m.c.Width {
		return m.footer.line
	}
	m.footer = footerCache{line: " " + common.Footer(m.c.Styles, bindings, m.c.Width-2), mask: mask, width: m.c.Width}
	return m.footer.line
}
