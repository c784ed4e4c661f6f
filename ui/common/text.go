package common

import (
	"net/url"
	"strings"

	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/ui/present"
)

// Fit truncates s to w cells (with an ellipsis) and pads it with spaces to
// exactly w cells. s must be plain text.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		return s + strings.Repeat(" ", w-sw)
	}
	return s
}

// FitRight is Fit with the text aligned to the right.
func FitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

// Clip truncates s to w cells, with an ellipsis, without padding.
func Clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// Wrap wraps plain text at word boundaries to width cells; a word longer
// than a line (an address, a token) is broken after one of its separators,
// or cut.
func Wrap(s string, width int) []string {
	if s == "" {
		return []string{""}
	}
	if !strings.Contains(s, " ") && ansi.StringWidth(s) > width {
		// An address: break it after & or ?, never past the width.
		s = ansi.Wrap(s, width, "&?")
		return strings.Split(ansi.Hardwrap(s, width, true), "\n")
	}
	return strings.Split(ansi.Wrap(s, width, ""), "\n")
}

// WrapLines is Wrap joined into one block of lines.
func WrapLines(s string, width int) string {
	return strings.Join(Wrap(s, width), "\n")
}

// Paragraphs cleans each paragraph for the terminal (it may hold a name or
// a server's words), wraps it to width and separates them with a blank
// line.
func Paragraphs(style lipgloss.Style, width int, paras ...string) string {
	out := make([]string, 0, len(paras))
	for _, p := range paras {
		lines := Wrap(present.Clean(p), width)
		for i, l := range lines {
			lines[i] = style.Render(l)
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return strings.Join(out, "\n\n")
}

// CenterBlock places lines in the middle of a width×height area, keeping
// them left-aligned among themselves.
func CenterBlock(lines []string, width, height int) []string {
	bw := 0
	for _, l := range lines {
		bw = max(bw, lipgloss.Width(l))
	}
	pad := strings.Repeat(" ", max((width-bw)/2, 2))
	top := max((height-len(lines))/3, 1)
	out := make([]string, 0, height)
	for range top {
		out = append(out, "")
	}
	for _, l := range lines {
		out = append(out, pad+l)
	}
	return out
}

// Host is the host of an address, for a sentence ("keyfob will ask
// auth.example.com …"), or the address itself when it has none.
func Host(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return present.OneLine(u.Host)
	}
	return present.OneLine(raw)
}

// SizeInput gives a text input the current styles and a width of width
// cells, and works out again which part of its value shows: the input
// with the focus (focused) keeps its cursor where it was, the others show
// the start of their value. textinput works the visible part out only when
// the cursor leaves it, so the cursor goes to the end first.
func SizeInput(st *Styles, in *textinput.Model, width int, focused bool) {
	in.SetStyles(st.Input)
	in.SetWidth(width)
	pos := 0
	if focused {
		pos = in.Position()
	}
	in.CursorEnd()
	in.SetCursor(pos)
}
