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
	m.fitToast() // a toast set outside Update (tests do)
	var base string
	if m.screen == screenDetail && m.list.Row(m.detail.ID()) != nil {
		base = m.detailScreen()
	} else {
		base = m.listScreen()
	}
	if d := m.dialogs.Top(); d != nil {
		return common.Overlay(m.c.Styles.Backdrop, base, d.View(), m.c.Width, m.c.Height, m.c.DialogTop, m.c.DialogBottom)
	}
	return base
}

// Lines of the screens around their body.
const (
	listChrome   = 5 // header, filter/blank, column titles, toast, footer
	detailChrome = 4 // header, blank, toast, footer
	// maxToastLines is the most lines a long toast wraps to, so that what
	// to do next, at the end of an error, is not cut on a narrow screen.
	maxToastLines = 3
)

// listRows is how many account rows fit on the list screen.
func (m *Model) listRows() int {
	n := m.c.Height - listChrome - (m.toastFit.height - 1)
	if m.banner != "" {
		n--
	}
	return max(n, 1)
}

// detailHeight is the height of the detail page between header and footer.
func (m *Model) detailHeight() int {
	h := m.c.Height - detailChrome - (m.toastFit.height - 1)
	if m.banner != "" {
		h--
	}
	return max(h, 1)
}

// toastFit is the current toast wrapped to the screen's width.
type toastFit struct {
	text   string
	width  int
	lines  []string
	height int // lines the toast takes, at least 1
}

// fitToast wraps the toast to the screen's width and lays the screen out
// again when the toast needs another number of lines.
func (m *Model) fitToast() {
	f := &m.toastFit
	if f.height > 0 && f.text == m.toast.text && f.width == m.c.Width {
		return
	}
	var lines []string
	if m.toast.text != "" {
		w := max(m.c.Width-2, 1)
		lines = common.Wrap(present.OneLine(m.toast.text), w)
		if len(lines) > maxToastLines {
			rest := strings.Join(lines[maxToastLines-1:], " ")
			lines = append(lines[:maxToastLines-1:maxToastLines-1], common.Clip(rest, w))
		}
	}
	old := f.height
	*f = toastFit{text: m.toast.text, width: m.c.Width, lines: lines, height: max(len(lines), 1)}
	if f.height != old {
		m.layout()
	}
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
	for w.lines < m.c.Height-1-m.toastFit.height {
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

// toastLine shows the current toast on its lines (see fitToast), or
// nothing.
func (m *Model) toastLine() string {
	if m.toast.text == "" {
		return ""
	}
	st := m.c.Styles.Notice(m.toast.tone)
	lines := make([]string, len(m.toastFit.lines))
	for i, l := range m.toastFit.lines {
		lines[i] = " " + st.Render(l)
	}
	return strings.Join(lines, "\n")
}
