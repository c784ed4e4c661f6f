package keyfobtest

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Key is the key press whose String() is k: "enter", "esc", "tab",
// "shift+tab", "up", "down", "left", "right", "backspace", "space",
// "pgdown", "pgup", "home", "end", "ctrl+X", or one character ("n", "R",
// "?"); a capital comes with shift, as a terminal sends it.
func Key(k string) tea.KeyPressMsg {
	if code, ok := named[k]; ok {
		if k == "space" {
			return tea.KeyPressMsg{Code: code, Text: " "}
		}
		return tea.KeyPressMsg{Code: code}
	}
	switch k {
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if rest, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(rest[0]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	msg := tea.KeyPressMsg{Code: r, Text: k}
	if r >= 'A' && r <= 'Z' {
		msg.Code = r + ('a' - 'A')
		msg.ShiftedCode = r
		msg.Mod = tea.ModShift
	}
	return msg
}

var named = map[string]rune{
	"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "up": tea.KeyUp, "down": tea.KeyDown,
	"left": tea.KeyLeft, "right": tea.KeyRight, "backspace": tea.KeyBackspace, "space": tea.KeySpace,
	"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "home": tea.KeyHome, "end": tea.KeyEnd,
}

// Keys are the messages of keys as a user types them: each string is one
// key (see Key), or text typed one rune at a time when it starts with
// "type:", or text pasted at once when it starts with "paste:".
func Keys(keys ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range text {
				out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
			}
			continue
		}
		if text, ok := strings.CutPrefix(k, "paste:"); ok {
			out = append(out, tea.PasteMsg{Content: text})
			continue
		}
		out = append(out, Key(k))
	}
	return out
}
