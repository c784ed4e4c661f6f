package wizard

import "charm.land/bubbles/v2/key"

// KeyMap holds the keys of every step of the wizard; each step uses its
// own few (see the step's bindings in keys). In the form and the browser
// step, the keys not listed here are typed into the focused input.
type KeyMap struct {
	// The choosers (kind, region, grant). Prev carries the help of the
	// pair; Next has none of its own.
	Prev, Next key.Binding
	Choose     key.Binding
	Back       key.Binding

	// The form.
	NextField, PrevField key.Binding
	Submit               key.Binding
	FormBack             key.Binding

	// A request or a browser sign-in under way. HelpDown and HelpUp
	// scroll the paste help when the screen is too short for it; HelpDown
	// carries the help of the pair.
	Cancel           key.Binding
	UsePaste         key.Binding
	OpenBrowser      key.Binding
	CopyAddress      key.Binding
	HelpDown, HelpUp key.Binding
}

// DefaultKeyMap returns the wizard's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Prev:        key.NewBinding(key.WithKeys("up", "k", "shift+tab"), key.WithHelp("↑/↓", "choose")),
		Next:        key.NewBinding(key.WithKeys("down", "j", "tab")),
		Choose:      key.NewBinding(key.WithKeys("enter", "space"), key.WithHelp("enter", "next")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		NextField:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next field")),
		PrevField:   key.NewBinding(key.WithKeys("shift+tab", "up")),
		Submit:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "sign in")),
		FormBack:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		UsePaste:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "use the pasted address")),
		OpenBrowser: key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "open browser again")),
		CopyAddress: key.NewBinding(key.WithKeys("ctrl+y"), key.WithHelp("ctrl+y", "copy address")),
		HelpDown:    key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn/pgup", "more help")),
		HelpUp:      key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "")),
	}
}

// keys is the key map of the current step, its help worded for the
// purpose and step, the keys that do nothing now disabled.
func (w *Model) keys() KeyMap {
	k := w.keyMap
	if w.step == stepKind {
		k.Back.SetHelp("esc", "cancel")
	}
	if w.purpose == purposeImport {
		k.Submit.SetHelp("enter", "import")
	}
	k.UsePaste.SetEnabled(!w.run.exchanging)
	clipped := w.helpClipped()
	k.HelpDown.SetEnabled(clipped)
	k.HelpUp.SetEnabled(clipped)
	return k
}

// stepKeys is the bindings of the current step, in the order its hint
// line names them.
func (w *Model) stepKeys() []key.Binding {
	k := w.keys()
	switch w.step {
	case stepKind, stepRegion, stepGrant:
		return []key.Binding{k.Prev, k.Next, k.Choose, k.Back}
	case stepFields:
		return []key.Binding{k.NextField, k.PrevField, k.Submit, k.FormBack}
	case stepWorking:
		return []key.Binding{k.Cancel}
	case stepGuide:
		return w.guideKeys(k)
	}
	// HelpDown and HelpUp are named on the help's own line when it scrolls.
	return []key.Binding{k.UsePaste, k.OpenBrowser, k.CopyAddress, k.Cancel}
}
