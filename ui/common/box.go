package common

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// BoxWidth is the width of a dialog box on the current screen: its ideal
// width, or the whole width when the screen is not much wider.
func (c *Common) BoxWidth(ideal int) int {
	if ideal >= c.Width-6 {
		return c.Width
	}
	return ideal
}

// Box draws a dialog: title, body and the hint line of keys, in a border
// of width w.
func Box(st *Styles, w int, title, body string, keys ...key.Binding) string {
	inner := w - st.Dialog.GetHorizontalFrameSize()
	hint := Hint(st, inner, keys...)
	var b strings.Builder
	b.WriteString(st.DialogTitle.Render(Clip(title, inner)))
	b.WriteString("\n\n")
	b.WriteString(body)
	if hint != "" {
		b.WriteString("\n\n")
		b.WriteString(Clip(hint, inner))
	}
	return st.Dialog.Width(w).Render(b.String())
}

// Overlay draws box centred over base, which recedes into the backdrop
// style; the result is cut to w×h.
func Overlay(backdrop lipgloss.Style, base, box string, w, h int) string {
	lines := strings.Split(ansi.Strip(base), "\n")
	for i, l := range lines {
		lines[i] = backdrop.Render(l)
	}
	bw, bh := lipgloss.Size(box)
	x, y := max((w-bw)/2, 0), max((h-bh)/2, 0)
	c := lipgloss.NewCanvas(w, h)
	c.Compose(lipgloss.NewCompositor(
		lipgloss.NewLayer(strings.Join(lines, "\n")),
		lipgloss.NewLayer(box).X(x).Y(y).Z(1),
	))
	return c.Render()
}
