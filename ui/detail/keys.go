package detail

import "charm.land/bubbles/v2/key"

// KeyMap holds the keys of the detail page.
type KeyMap struct {
	Back key.Binding
	// Up carries the help of the scrolling keys; the others have none of
	// their own.
	Up, Down         key.Binding
	PageUp, PageDown key.Binding
	HalfUp, HalfDown key.Binding
	Top, Bottom      key.Binding
	Left, Right      key.Binding // unused: the page does not scroll sideways
	// RemoveConsumer removes one of the account's consumers of keyfob
	// serve (after a confirm); enabled only when it has some.
	RemoveConsumer key.Binding
	// ShowQR shows a fleet account's pairing link as a QR code; enabled
	// when keyfob knows the app's domain.
	ShowQR key.Binding
}

// DefaultKeyMap returns the detail page's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Back:           key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Up:             key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "scroll")),
		Down:           key.NewBinding(key.WithKeys("down", "j")),
		PageDown:       key.NewBinding(key.WithKeys("pgdown", "space", "ctrl+f")),
		PageUp:         key.NewBinding(key.WithKeys("pgup", "ctrl+b")),
		HalfUp:         key.NewBinding(key.WithKeys("ctrl+u")),
		HalfDown:       key.NewBinding(key.WithKeys("ctrl+d")),
		Top:            key.NewBinding(key.WithKeys("home", "g")),
		Bottom:         key.NewBinding(key.WithKeys("end", "G")),
		Left:           key.NewBinding(key.WithDisabled()),
		Right:          key.NewBinding(key.WithDisabled()),
		RemoveConsumer: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "remove a consumer")),
		ShowQR:         key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pairing QR code")),
	}
}
