package wizard

import (
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// browserPage renders the browser step. A paste sign-in shows where to
// find the address to paste (present.PasteHelp). With maxLines > 0 the
// page is made to fit in that many lines where it can: the sign-in address
// gives up lines first (ctrl+y copies it whole), then the help shows a
// window of its lines that pgup/pgdn scroll.
func (w *Model) browserPage(maxLines int) string {
	inner := w.inner()
	addr := common.Wrap(present.OneLine(w.run.authURL), inner)
	var help []string
	if !w.run.exchanging && !w.run.loopback {
		help = w.helpLines()
	}
	page := w.composeBrowser(addr, help, 0)
	if maxLines <= 0 || lipgloss.Height(page) <= maxLines {
		w.run.helpWindow = len(help)
		return page
	}
	if over := lipgloss.Height(page) - maxLines; len(addr) > 1 {
		keep := max(len(addr)-over, 1)
		addr[keep-1] = common.Clip(addr[keep-1]+"…", inner)
		addr = addr[:keep]
	}
	page = w.composeBrowser(addr, help, 0)
	if over := lipgloss.Height(page) - maxLines; over > 0 && len(help) > 0 {
		// The window loses the lines that do not fit, and one more for the
		// line that says there is more.
		window := max(len(help)-over-1, 1)
		w.run.helpWindow = window
		return w.composeBrowser(addr, help, window)
	}
	w.run.helpWindow = len(help)
	return page
}

// composeBrowser lays the browser step out: what is happening or what to
// do, the sign-in address, a note, and the paste field. With window > 0
// only that many help lines show, from the scroll position.
func (w *Model) composeBrowser(addr, help []string, window int) string {
	st := w.c.Styles
	inner := w.inner()
	redirect := present.OneLine(w.run.redirect)
	var parts []string
	switch {
	case w.run.exchanging:
		parts = append(parts, w.c.Frame+" "+st.Info.Render("Exchanging the code for tokens…"))
	case w.run.loopback:
		parts = append(parts, w.c.Frame+" "+st.Info.Render("Waiting for the browser to come back to "+redirect))
	default:
		parts = append(parts, w.helpBlock(help, window))
	}
	opened := "keyfob opened your browser; if it did not, open this address:"
	if w.c.Browse != nil {
		opened = "keyfob is signing in to the sandbox for you; the address is:"
	}
	parts = append(parts, common.Paragraphs(st.Muted, inner, opened)+"\n"+st.Link.Render(strings.Join(addr, "\n")))
	if w.note != "" {
		parts = append(parts, common.Paragraphs(st.Warning, inner, w.note))
	}
	label := "Or paste the address you landed on:"
	if !w.run.loopback {
		label = "Paste the address you landed on:"
	}
	parts = append(parts, st.Text.Render(label)+"\n"+st.LabelFocused.Render("› ")+w.paste.View())
	return strings.Join(parts, "\n\n")
}

// helpLines are the paste help wrapped to the box: each instruction a
// paragraph, the ones after the first indented under a bullet when there
// are several browsers to tell apart.
func (w *Model) helpLines() []string {
	inner := w.inner()
	paras := present.PasteHelp(w.run.redirect)
	var out []string
	for i, p := range paras {
		if i == 0 || len(paras) <= 2 {
			out = append(out, common.Wrap(present.Clean(p), inner)...)
			continue
		}
		for j, l := range common.Wrap(present.Clean(p), inner-2) {
			marker := "  "
			if j == 0 {
				marker = "• "
			}
			out = append(out, marker+l)
		}
	}
	return out
}

// helpBlock renders the help lines, or a window of them from the scroll
// position with a line saying how to see the rest.
func (w *Model) helpBlock(help []string, window int) string {
	st := w.c.Styles
	if window <= 0 || window >= len(help) {
		return st.Text.Render(strings.Join(help, "\n"))
	}
	from := min(max(w.run.helpScroll, 0), len(help)-window)
	shown := st.Text.Render(strings.Join(help[from:from+window], "\n"))
	more := common.Clip(w.keyMap.HelpDown.Help().Key+": more of this help ("+
		strconv.Itoa(from+1)+"–"+strconv.Itoa(from+window)+" of "+strconv.Itoa(len(help))+" lines)", w.inner())
	return shown + "\n" + st.Hint.Render(more)
}

// scrollHelp moves the paste help's window by n lines.
func (w *Model) scrollHelp(n int) {
	total := len(w.helpLines())
	w.run.helpScroll = min(max(w.run.helpScroll+n, 0), max(total-w.run.helpWindow, 0))
}

// helpClipped reports whether the paste help shows only part of its
// lines, which pgup/pgdn then scroll.
func (w *Model) helpClipped() bool {
	return w.step == stepBrowser && !w.run.loopback && !w.run.exchanging && w.run.helpWindow > 0 &&
		w.run.helpWindow < len(w.helpLines())
}
