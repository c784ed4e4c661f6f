package common

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// BoxWidth is the width of a dialog box on the current screen: its ideal
// width, or the whole width when the screen is not much wider.
// DialogHeight is how many lines a dialog may take: the screen less the
// header and footer it leaves visible (DialogTop, DialogBottom); on a
// screen too short to keep them and a dialog of 8 lines, the screen.
func (c *Common) DialogHeight() int {
	if room := c.Height - c.DialogTop - c.DialogBottom; room >= minDialogRoom {
		return room
	}
	return c.Height
}

// minDialogRoom is the fewest lines a dialog gets before the header and
// footer give way to it.
const minDialogRoom = 8

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

// Overlay draws box over base (dimmed with backdrop), centred between the
// top lines and the bottom lines of the w×h screen, which stay in view (a
// header and a footer); a box taller than the space between is cut to
// fit (FitHeight). A screen too short for that keeps fewer of them.
func Overlay(backdrop lipgloss.Style, base, box string, w, h, top, bottom int) string {
	lines := strings.Split(ansi.Strip(base), "\n")
	for i, l := range lines {
		lines[i] = backdrop.Render(l)
	}
	room := h - top - bottom
	if room < minDialogRoom {
		top, bottom, room = 0, 0, h
	}
	box = FitHeight(box, room)
	bw, bh := lipgloss.Size(box)
	x, y := max((w-bw)/2, 0), top+max((room-bh)/2, 0)
	c := lipgloss.NewCanvas(w, h)
	c.Compose(lipgloss.NewCompositor(
		lipgloss.NewLayer(strings.Join(lines, "\n")),
		lipgloss.NewLayer(box).X(x).Y(y).Z(1),
	))
	return c.Render()
}

// boxTail is how many lines at the foot of a box a cut keeps: the bottom
// border, the key line and what is above it (a dialog's buttons).
const boxTail = 5

// FitHeight makes a box taller than h lines fit: first its blank lines go,
// from the bottom up, then lines from the middle of its body, marked ⋮,
// so that the title stays at the top and the buttons, the key line and the
// border at the foot.
func FitHeight(box string, h int) string {
	lines := strings.Split(box, "\n")
	if len(lines) <= h || len(lines) < 3 {
		return box
	}
	marker := ""
	for i := len(lines) - 2; i > 0 && len(lines) > h; i-- {
		if isBlankRow(lines[i]) {
			if marker == "" {
				w := ansi.StringWidth(lines[i])
				marker = ansi.Cut(lines[i], 0, 2) + "⋮" + ansi.Cut(lines[i], 3, w)
			}
			lines = append(lines[:i], lines[i+1:]...)
		}
	}
	if len(lines) > h {
		tail := min(boxTail, h/2)
		top := max(h-tail-1, 1)
		cut := lines[:top:top]
		if marker != "" {
			cut = append(cut, marker)
		} else {
			top++
			cut = lines[:top:top]
		}
		lines = append(cut, lines[len(lines)-tail:]...)
	}
	return strings.Join(lines, "\n")
}

// isBlankRow reports whether a line of a box holds nothing but its border.
func isBlankRow(l string) bool {
	return strings.Trim(ansi.Strip(l), "│ ") == ""
}
