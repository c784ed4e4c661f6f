package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "keyfob"
	return v
}

// render draws the whole screen as a string of m.height lines: the screen,
// and the top modal centred over it.
func (m *Model) render() string {
	if m.quitting {
		return ""
	}
	var base string
	switch {
	case m.screen == screenDetail && m.rowByID(m.detail.id) != nil:
		base = m.renderDetailScreen()
	default:
		base = m.renderListScreen()
	}
	if n := len(m.modals); n > 0 {
		return overlay(m.st.Backdrop, base, m.modals[n-1].View(), m.width, m.height)
	}
	return base
}

// overlay draws box centred over base, which recedes into the backdrop
// style; the result is cut to w×h.
func overlay(backdrop lipgloss.Style, base, box string, w, h int) string {
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

// Lines of the list screen around the rows.
const listChrome = 5 // header, filter/blank, column titles, toast, footer

// listRows is how many account rows fit on the list screen.
func (m *Model) listRows() int {
	n := m.height - listChrome
	if m.banner != "" {
		n--
	}
	return max(n, 1)
}

func (m *Model) renderListScreen() string {
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	lines := 0
	line := func(s string) {
		b.WriteString(s)
		b.WriteByte('\n')
		lines++
	}
	line(m.headerLine())
	if m.banner != "" {
		line(" " + m.st.Banner.Render(clip(m.banner, m.width-2)))
	}
	line(m.filterLine())

	rows := m.listRows()
	switch {
	case !m.loaded:
		line("")
		line("  " + m.spin.View() + m.st.Muted.Render(" reading the accounts…"))
	case m.loadErr != nil:
		for _, l := range m.errorBody(rows + 1) {
			line(l)
		}
	case len(m.rows) == 0:
		for _, l := range m.welcome(rows + 1) {
			line(l)
		}
	case len(m.visible) == 0:
		line(m.lv.titles())
		line("")
		line("  " + m.st.Muted.Render(clip(fmt.Sprintf("No account matches %q — esc clears the filter.", m.query), m.width-4)))
	default:
		m.lv.now = m.now
		m.lv.spin = m.spin.View()
		line(m.lv.titles())
		end := min(m.offset+rows, len(m.visible))
		for i := m.offset; i < end; i++ {
			line(m.lv.render(m.rows[m.visible[i]], i == m.cursor))
		}
	}
	for lines < m.height-2 {
		line("")
	}
	line(m.toastLine())
	b.WriteString(m.footerLine())
	return b.String()
}

// headerLine is the wordmark, the count, auto-refresh and the position.
func (m *Model) headerLine() string {
	st := m.st
	left := st.Title.Render("keyfob")
	var info string
	switch {
	case !m.loaded || m.loadErr != nil:
	case m.query != "":
		info = fmt.Sprintf("%d of %d accounts match", len(m.visible), len(m.rows))
	case len(m.rows) == 0:
		info = "no accounts yet"
	case len(m.rows) == 1:
		info = "1 account"
	default:
		info = fmt.Sprintf("%d accounts", len(m.rows))
	}
	auto := "auto-refresh off"
	if m.cfg.AutoRefreshOn() {
		auto = "auto-refresh on"
	}
	if info != "" {
		info += " · "
	}
	info += auto
	right := ""
	if m.screen == screenList && len(m.visible) > m.listRows() {
		right = fmt.Sprintf("%d/%d", m.cursor+1, len(m.visible))
	}
	if m.screen == screenDetail {
		if r := m.rowByID(m.detail.id); r != nil {
			info = "› " + r.acct.Name
		}
		if pct := m.detail.vp.ScrollPercent(); m.detail.vp.TotalLineCount() > m.detail.vp.Height() {
			right = fmt.Sprintf("%d%%", int(pct*100+0.5))
		}
	}
	avail := m.width - 1 - lipgloss.Width(left) - 2 - len(right) - 1
	mid := st.Muted.Render(clip(info, max(avail, 0)))
	gap := m.width - 1 - lipgloss.Width(left) - 2 - lipgloss.Width(mid) - len(right)
	return " " + left + "  " + mid + strings.Repeat(" ", max(gap, 1)) + st.Muted.Render(right)
}

// filterLine is the filter input while it is open, the applied filter, or
// a blank line.
func (m *Model) filterLine() string {
	switch {
	case m.filtering:
		return " " + m.filter.View()
	case m.query != "":
		return " " + m.st.Accent.Render("/ "+clip(m.query, m.width-20)) + m.st.Muted.Render("  (esc clears)")
	}
	return ""
}

// toastLine shows the current toast, or nothing.
func (m *Model) toastLine() string {
	if m.toast.text == "" {
		return ""
	}
	st := m.st.status(m.toast.kind)
	switch m.toast.kind {
	case statusDanger:
		st = m.st.ToastError
	case statusOK:
		st = m.st.ToastOK
	case statusBusy:
		st = m.st.Toast
	}
	return " " + st.Render(clip(oneLine(m.toast.text), m.width-2))
}

// footerLine is the short help, cached until the keys or the width change.
func (m *Model) footerLine() string {
	if m.filtering {
		return " " + shortHelp(m.st, filterHelp(), m.width-2)
	}
	mask := m.keys.enabledMask()
	if m.footer != "" && mask == m.footerKey && m.footerWidth == m.width {
		return m.footer
	}
	m.footer = " " + shortHelp(m.st, m.keys.ShortHelp(), m.width-2)
	m.footerKey, m.footerWidth = mask, m.width
	return m.footer
}

// shortHelp renders the enabled bindings on one line of at most width
// cells. The last two (help and quit) always stay; the others are dropped
// from the end when the line is too long, with "…" marking the cut.
func shortHelp(st *Styles, bindings []key.Binding, width int) string {
	var items []string
	for _, b := range bindings {
		if b.Enabled() {
			items = append(items, st.Help.ShortKey.Render(b.Help().Key)+" "+st.Help.ShortDesc.Render(b.Help().Desc))
		}
	}
	sep := st.Help.ShortSeparator.Render(" • ")
	const sepW = 3
	keep := min(2, len(items))
	tail := items[len(items)-keep:]
	head := items[:len(items)-keep]
	used := 0
	for i, it := range tail {
		if i > 0 {
			used += sepW
		}
		used += lipgloss.Width(it)
	}
	var shown []string
	cut := false
	for _, it := range head {
		w := lipgloss.Width(it) + sepW
		if used+w > width-2 {
			cut = true
			break
		}
		shown = append(shown, it)
		used += w
	}
	line := strings.Join(append(shown, tail...), sep)
	if cut {
		line = strings.Join(shown, sep) + " " + st.Help.Ellipsis.Render("…") + " " + strings.Join(tail, sep)
	}
	return line
}

// welcome is the empty-store screen: what keyfob is and how to start.
func (m *Model) welcome(height int) []string {
	st := m.st
	w := min(m.width-4, 72)
	k := func(s string) string { return st.Help.FullKey.Render(s) }
	var body []string
	body = append(body, st.Title.Render("Welcome to keyfob"), "")
	body = append(body, strings.Split(paragraphs(st.Text, w,
		"keyfob keeps your Tesla API tokens fresh and at hand: every account with its live expiry countdown and granted scopes, refreshed before it expires.",
		"You have no accounts yet."), "\n")...)
	body = append(body, "",
		"  "+k("n")+"  "+st.Text.Render(clip("sign in — Fleet API, Owner API, partner, legacy or custom OAuth", w-5)),
		"  "+k("i")+"  "+st.Text.Render(clip("import a refresh token you already have", w-5)),
		"")
	body = append(body, strings.Split(paragraphs(st.Muted, w,
		"Just looking? Quit (q) and run `keyfob demo`: the same screen on a local sandbox with sample accounts, where every flow works without a Tesla account."), "\n")...)
	return centerBlock(body, m.width, height)
}

// errorBody explains a store that cannot be read.
func (m *Model) errorBody(height int) []string {
	st := m.st
	w := min(m.width-4, 76)
	body := []string{st.ToastError.Render("keyfob cannot read its accounts"), ""}
	body = append(body, strings.Split(paragraphs(st.Text, w, m.loadErr.Error(),
		"keyfob looks again every second; q quits."), "\n")...)
	return centerBlock(body, m.width, height)
}

// centerBlock places lines in the middle of a width×height area, keeping
// them left-aligned among themselves.
func centerBlock(lines []string, width, height int) []string {
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

func (m *Model) renderDetailScreen() string {
	var b strings.Builder
	b.WriteString(m.headerLine())
	b.WriteByte('\n')
	if m.banner != "" {
		b.WriteString(" " + m.st.Banner.Render(clip(m.banner, m.width-2)))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	content := m.detail.vp.View()
	b.WriteString(content)
	b.WriteByte('\n')
	for n := lipgloss.Height(content); n < m.detailHeight(); n++ {
		b.WriteByte('\n')
	}
	b.WriteString(m.toastLine())
	b.WriteByte('\n')
	b.WriteString(m.footerLine())
	return b.String()
}
