package dialog

import "charm.land/bubbles/v2/key"

// ConfirmKeyMap holds the keys of a dialog with buttons. Each button also
// has a key of its own, named on the button.
type ConfirmKeyMap struct {
	// Prev carries the help of the pair; Next has none of its own.
	Prev, Next key.Binding
	Confirm    key.Binding
	Cancel     key.Binding
	// Close is the only key of a dialog with a single button.
	Close key.Binding
}

// DefaultConfirmKeyMap returns the default keys of a dialog with buttons.
func DefaultConfirmKeyMap() ConfirmKeyMap {
	return ConfirmKeyMap{
		Prev:    key.NewBinding(key.WithKeys("left", "shift+tab", "h"), key.WithHelp("←/→", "choose")),
		Next:    key.NewBinding(key.WithKeys("right", "tab", "l")),
		Confirm: key.NewBinding(key.WithKeys("enter", "space"), key.WithHelp("enter", "confirm")),
		Cancel:  key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "cancel")),
		Close:   key.NewBinding(key.WithKeys("enter", "space", "esc", "q"), key.WithHelp("enter or esc", "close")),
	}
}

// ShortHelp implements help.KeyMap.
func (k ConfirmKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Prev, k.Next, k.Confirm, k.Cancel, k.Close}
}

// FullHelp implements help.KeyMap.
func (k ConfirmKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// RenameKeyMap holds the keys of the rename dialog; every other key edits
// the name.
type RenameKeyMap struct {
	Save   key.Binding
	Cancel key.Binding
}

// DefaultRenameKeyMap returns the rename dialog's default keys.
func DefaultRenameKeyMap() RenameKeyMap {
	return RenameKeyMap{
		Save:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp implements help.KeyMap.
func (k RenameKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Save, k.Cancel} }

// FullHelp implements help.KeyMap.
func (k RenameKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// HelpKeyMap holds the keys of the help screen.
type HelpKeyMap struct {
	Close key.Binding
}

// DefaultHelpKeyMap returns the help screen's default keys.
func DefaultHelpKeyMap() HelpKeyMap {
	return HelpKeyMap{
		Close: key.NewBinding(key.WithKeys("esc", "?", "q", "enter"), key.WithHelp("esc or ?", "close")),
	}
}

// ShortHelp implements help.KeyMap.
func (k HelpKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Close} }

// FullHelp implements help.KeyMap.
func (k HelpKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
