package common

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Pressed reports whether msg is one of b's keys, even while b is
// disabled: for keys that explain why they do nothing right now.
func Pressed(msg tea.KeyPressMsg, b key.Binding) bool {
	b.SetEnabled(true)
	return key.Matches(msg, b)
}
