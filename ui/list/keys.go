package list

import "charm.land/bubbles/v2/key"

// KeyMap holds the keys of the account list.
type KeyMap struct {
	Up, Down    key.Binding
	PageUp      key.Binding
	PageDown    key.Binding
	Top, Bottom key.Binding
	// Move names the up and down keys as one pair in the footer.
	Move        key.Binding
	Filter      key.Binding
	ClearFilter key.Binding
	Details     key.Binding
}

// DefaultKeyMap returns the list's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Move:        key.NewBinding(key.WithKeys("up", "down", "k", "j"), key.WithHelp("↑/↓", "move")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Details:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
	}
}

// FilterKeyMap holds the keys of the filter input while it has the
// keyboard; every other key is typed into it.
type FilterKeyMap struct {
	Keep  key.Binding
	Clear key.Binding
	// Up carries the help of the pair; Down has none of its own.
	Up, Down key.Binding
}

// DefaultFilterKeyMap returns the filter's default keys.
func DefaultFilterKeyMap() FilterKeyMap {
	return FilterKeyMap{
		Keep:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Up:    key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "move")),
		Down:  key.NewBinding(key.WithKeys("down")),
	}
}

// ShortHelp implements help.KeyMap.
func (k FilterKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Keep, k.Clear, k.Up, k.Down} }

// FullHelp implements help.KeyMap.
func (k FilterKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
