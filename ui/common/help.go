package common

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// Shown is the bindings a help line lists: the enabled ones that have a
// help text. A binding without one is the second of a pair that the first
// one's text names ("↑/↓ choose").
func Shown(bindings []key.Binding) []key.Binding {
	out := make([]key.Binding, 0, len(bindings))
	for _, b := range bindings {
		if b.Enabled() && b.Help().Key != "" {
			out = append(out, b)
		}
	}
	return out
}

// Hint is the muted key line at the foot of a dialog, rendered by
// bubbles/help from the dialog's bindings on at most width cells. The
// last binding (the way out: esc cancel, back or close) always stays;
// the others are dropped from the end when the line is too long.
func Hint(st *Styles, width int, bindings ...key.Binding) string {
	return fitHelp(st.HintHelp, bindings, width, 1)
}

// Footer renders bindings on one line of at most width cells. The last two
// (help and quit) always stay; the others are dropped from the end when the
// line is too long, with "…" marking the cut.
func Footer(st *Styles, bindings []key.Binding, width int) string {
	return fitHelp(st.Help, bindings, width, 2)
}

// fitHelp renders the shown bindings on one line of at most width cells,
// keeping the last keep of them and dropping others from the end, with
// "…" marking the cut.
func fitHelp(styles help.Styles, bindings []key.Binding, width, keep int) string {
	h := help.New()
	h.Styles = styles
	shown := Shown(bindings)
	items := make([]string, len(shown))
	for i := range shown {
		items[i] = h.ShortHelpView(shown[i : i+1])
	}
	sep := styles.ShortSeparator.Render(h.ShortSeparator)
	sepW := lipgloss.Width(h.ShortSeparator)
	keep = min(keep, len(items))
	tail := items[len(items)-keep:]
	head := items[:len(items)-keep]
	used := 0
	for i, it := range tail {
		if i > 0 {
			used += sepW
		}
		used += lipgloss.Width(it)
	}
	var kept []string
	cut := false
	for _, it := range head {
		w := lipgloss.Width(it) + sepW
		if used+w > width-2 {
			cut = true
			break
		}
		kept = append(kept, it)
		used += w
	}
	if cut {
		return strings.Join(kept, sep) + " " + styles.Ellipsis.Render(h.Ellipsis) + " " + strings.Join(tail, sep)
	}
	return strings.Join(append(kept, tail...), sep)
}

// FullHelp renders groups of bindings as columns in as many columns as fit
// in width: all of them, else fewer, down to one, so that a narrow
// terminal loses no key.
func FullHelp(st *Styles, groups [][]key.Binding, width int) string {
	h := help.New()
	h.Styles = st.Help
	h.ShowAll = true
	for cols := len(groups); ; cols-- {
		out := h.View(regrouped(groups, cols))
		if cols <= 1 || lipgloss.Width(out) <= width {
			return out
		}
	}
}

// Groups is a help.KeyMap of given columns.
type Groups [][]key.Binding

// ShortHelp implements help.KeyMap.
func (g Groups) ShortHelp() []key.Binding {
	var all []key.Binding
	for _, c := range g {
		all = append(all, c...)
	}
	return all
}

// FullHelp implements help.KeyMap.
func (g Groups) FullHelp() [][]key.Binding { return g }

// regrouped spreads the enabled bindings of groups over n columns, in
// order.
func regrouped(groups [][]key.Binding, n int) Groups {
	if n >= len(groups) {
		return groups
	}
	var all []key.Binding
	for _, g := range groups {
		for _, b := range g {
			if b.Enabled() {
				all = append(all, b)
			}
		}
	}
	per := (len(all) + n - 1) / n
	var out Groups
	for len(all) > 0 {
		k := min(per, len(all))
		out = append(out, all[:k])
		all = all[k:]
	}
	return out
}
