package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "keyfob"
	return v
}

// render draws the whole screen as a string of Height lines: the screen,
// and the dialog on top centred over it.
func (m *Model) render() string {
	if m.quitting {
		return ""
	}
	var base string
	if m.screen == screenDetail && m.list.Row(m.detail.ID()) != nil {
		base = m.detailScreen()
	} else {
		base = m.listScreen()
	}
	if d := m.dialogs.Top(); d != nil {
		return common.Overlay(m.c.Styles.Backdrop, base, d.View(), m.c.Width, m.c.Height)
	}
	return base
}

// Lines of the screens around their body.
const (
	listChrome   = 5 // header, filter/blank, column titles, toast, footer
	detailChrome = 4 // header, blank, toast, footer
)

// listRows is how many account rows fit on the list screen.
func (m *Model) listRows() int {
	n := m.c.Height - listChrome
	if m.banner != "" {
		n--
	}
	return max(n, 1)
}

// detailHeight is the height of the detail page between header and footer.
func (m *Model) detailHeight() int {
	h := m.c.Height - detailChrome
	if m.banner != "" {
		h--
	}
	return max(h, 1)
}

// screenWriter writes the lines of a screen, counting them.
type screenWriter struct {
	b     strings.Builder
	lines int
}

// line writes s (one or more lines) and a line break.
func (w *screenWriter) line(s string) {
	w.b.WriteString(s)
	w.b.WriteByte('\n')
	w.lines += 1 + strings.Count(s, "\n")
}

// top writes the header and the banner.
func (m *Model) top(w *screenWriter) {
	w.line(m.headerLine())
	if m.banner != "" {
		w.line(" " + m.c.Styles.Banner.Render(common.Clip(present.OneLine(m.banner), m.c.Width-2)))
	}
}

func (m *Model) listScreen() string {
	var w screenWriter
	w.b.Grow(max(m.frameSize, m.c.Width*m.c.Height*2))
	m.top(&w)
	w.line(m.list.FilterLine())
	rows := m.listRows()
	switch {
	case !m.store.loaded:
		w.line("")
		w.line("  " + m.c.Frame + m.c.Styles.Muted.Render(" reading the accounts…"))
	case m.store.err != nil:
		for _, l := range m.errorBody(rows + 1) {
			w.line(l)
		}
	case len(m.list.Rows()) == 0:
		for _, l := range m.welcome(rows + 1) {
			w.line(l)
		}
	default:
		w.line(m.list.View())
	}
	for w.lines < m.c.Height-2 {
		w.line("")
	}
	w.line(m.toastLine())
	w.b.WriteString(m.footerLine())
	m.frameSize = w.b.Len()
	return w.b.String()
}

func (m *Model) detailScreen() string {
	var w screenWriter
	m.top(&w)
	w.line("")
	content := m.detail.View()
	w.line(content)
	for n := lipgloss.Height(content); n < m.detailHeight(); n++ {
		w.b.WriteByte('\n')
	}
	w.line(m.toastLine())
	w.b.WriteString(m.footerLine())
	return w.b.String()
}

// headerLine is the wordmark, the count, auto-refresh and the position.
func (m *Model) headerLine() string {
	st, width := m.c.Styles, m.c.Width
	left := st.Title.Render("keyfob")
	var info, right string
	if m.store.loaded && m.store.err == nil {
		info = m.list.Summary()
	}
	auto := "auto-refresh off"
	if m.cfg.AutoRefreshOn() {
		auto = "auto-refresh on"
	}
	if info != "" {
		info += " · "
	}
	info += auto
	switch m.screen {
	case screenList:
		right = m.list.Position()
	case screenDetail:
		if r := m.list.Row(m.detail.ID()); r != nil {
			info = "› " + r.Name()
		}
		right = m.detail.Position()
	}
	avail := width - 1 - lipgloss.Width(left) - 2 - len(right) - 1
	mid := st.Muted.Render(common.Clip(info, max(avail, 0)))
	gap := width - 1 - lipgloss.Width(left) - 2 - lipgloss.Width(mid) - len(right)
	return " " + left + "  " + mid + strings.Repeat(" ", max(gap, 1)) + st.Muted.Render(right)
}

// toastLine shows the current toast, or nothing.
func (m *Model) toastLine() string {
	if m.toast.text == "" {
		return ""
	}
	st := m.c.Styles.Notice(m.toast.tone)
	return " " + st.Render(common.Clip(present.OneLine(m.toast.text), m.c.Width-2))
}
