package ui

import "charm.land/bubbles/v2/key"

// KeyMap holds the keys of the main screens. The footer and the
// `?` screen are rendered from these same bindings by bubbles/help; a
// binding that does not apply right now is disabled, so help never lists a
// dead key.
type KeyMap struct {
	Up, Down    key.Binding
	PageUp      key.Binding
	PageDown    key.Binding
	Top, Bottom key.Binding
	Filter      key.Binding
	ClearFilter key.Binding
	Details     key.Binding
	Back        key.Binding
	New         key.Binding
	Import      key.Binding
	Refresh     key.Binding
	RefreshAll  key.Binding
	CopyAccess  key.Binding
	CopyRefresh key.Binding
	Revoke      key.Binding
	Remove      key.Binding
	Rename      key.Binding
	AutoRefresh key.Binding
	Theme       key.Binding
	Help        key.Binding
	Quit        key.Binding

	// Help-only entries that name a pair of keys in the footer.
	moveHelp    key.Binding
	scrollHelp  key.Binding
	emptyImport key.Binding // i in the footer of the empty screen
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Details:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:        key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		New:         key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new login")),
		Import:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import token")),
		Refresh:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		RefreshAll:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "refresh all")),
		CopyAccess:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy token")),
		CopyRefresh: key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "copy refresh token")),
		Revoke:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "revoke")),
		Remove:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "remove")),
		Rename:      key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "rename")),
		AutoRefresh: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "auto-refresh on/off")),
		Theme:       key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "next theme")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		moveHelp:    key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move")),
		scrollHelp:  key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")),
		emptyImport: key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import token")),
	}
}

// ShortHelp is the footer: the keys used most, in the order of a session.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		k.Back, k.moveHelp, k.scrollHelp, k.Details, k.New, k.emptyImport, k.Refresh, k.CopyAccess, k.Filter, k.ClearFilter, k.Help, k.Quit,
	}
}

// FullHelp is the `?` screen, one column per group.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.scrollHelp, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Filter, k.ClearFilter, k.Details, k.Back},
		{k.New, k.Import, k.Refresh, k.RefreshAll, k.Rename, k.Revoke, k.Remove},
		{k.CopyAccess, k.CopyRefresh, k.AutoRefresh, k.Theme, k.Help, k.Quit},
	}
}

// enabledMask packs which bindings are enabled, so the rendered footer can
// be cached until it changes.
func (k *KeyMap) enabledMask() uint64 {
	var m uint64
	for i, b := range []*key.Binding{
		&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom, &k.Filter, &k.ClearFilter,
		&k.Details, &k.Back, &k.New, &k.Import, &k.Refresh, &k.RefreshAll, &k.CopyAccess,
		&k.CopyRefresh, &k.Revoke, &k.Remove, &k.Rename, &k.AutoRefresh, &k.Theme, &k.Help,
		&k.Quit, &k.moveHelp, &k.scrollHelp, &k.emptyImport,
	} {
		if b.Enabled() {
			m |= 1 << i
		}
	}
	return m
}

// filterHelp is the footer while the filter input has the keyboard.
func filterHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move")),
	}
}
