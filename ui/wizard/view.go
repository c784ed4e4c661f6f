package wizard

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// View renders the current page in a box.
func (w *Model) View() string {
	st := w.c.Styles
	inner := w.inner()
	var body string
	switch w.step {
	case stepKind:
		cs := make([]choice, len(w.kinds))
		for i, k := range w.kinds {
			cs[i] = choice{string(k), present.KindSummary(k)}
		}
		q := "What kind of account?"
		if w.purpose == purposeImport {
			q = "What kind of account is the refresh token from?"
		}
		body = w.chooser(q, cs, w.kindIdx, 8)
	case stepRegion:
		body = w.chooser("Which region is the account in?", choicesOf(regions, present.RegionSummary), w.regionIdx, 5)
	case stepGrant:
		body = w.chooser("How does the server sign you in?", choicesOf(grants, present.GrantSummary), w.grantIdx, 19)
	case stepFields:
		body = w.formView()
	case stepWorking:
		body = w.c.Frame + " " + st.Info.Render(w.working)
	case stepBrowser:
		body = w.browserPage(0)
	}
	if w.note != "" && w.step != stepBrowser {
		body += "\n\n" + common.Paragraphs(st.Muted, inner, w.note)
	}
	if w.err != "" {
		body += "\n\n" + common.Paragraphs(st.ErrorText, inner, "✗ "+w.err)
	}
	hint := common.Hint(st, w.stepKeys()...)
	box := common.Box(st, w.width(), w.title(), body, hint)
	if over := lipgloss.Height(box) - w.c.Height; over > 0 && w.step == stepBrowser {
		// A short terminal: the address gives up lines (ctrl+y copies it
		// whole), then the explanation shrinks to one line.
		full := w.browserPage(0)
		box = common.Box(st, w.width(), w.title(), strings.Replace(body, full, w.browserPage(over), 1), hint)
		if over := lipgloss.Height(box) - w.c.Height; over > 0 {
			box = common.Box(st, w.width(), w.title(), strings.Replace(body, full, w.browserPage(-1), 1), hint)
		}
	}
	return box
}

// choicesOf pairs values with their descriptions.
func choicesOf(values []string, desc func(string) string) []choice {
	cs := make([]choice, len(values))
	for i, v := range values {
		cs[i] = choice{v, desc(v)}
	}
	return cs
}

func (w *Model) chooser(question string, cs []choice, cur, valueW int) string {
	st := w.c.Styles
	inner := w.inner()
	lines := []string{st.Text.Render(question), ""}
	for i, c := range cs {
		marker, vs, ds := "  ", st.Choice, st.Muted
		if i == cur {
			marker, vs, ds = "› ", st.ChoiceActive, st.Text
		}
		line := st.Marker.Render(marker) + vs.Render(common.Fit(c.value, valueW)) + " " +
			ds.Render(common.Clip(c.desc, max(inner-valueW-3, 5)))
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// formView renders the fields, a * on those the user must fill in, and
// the help of the focused one.
func (w *Model) formView() string {
	st := w.c.Styles
	lines := make([]string, 0, len(w.form.fields)+2)
	for i, f := range w.form.fields {
		label := textOf(f.req.Field).label
		if f.req.Need == oauth.NeedRequired {
			label += "*"
		}
		marker, ls := "  ", st.Label
		if i == w.form.focus {
			marker, ls = "› ", st.LabelFocused
		}
		lines = append(lines, st.Marker.Render(marker)+ls.Render(common.Fit(label, labelWidth))+" "+f.input.View())
	}
	if w.form.focus < len(w.form.fields) {
		lines = append(lines, "", common.Paragraphs(st.Hint, w.inner(), textOf(w.form.fields[w.form.focus].req.Field).help))
	}
	return strings.Join(lines, "\n")
}

// browserPage renders the browser step; the address loses cut lines when
// the screen is too short for all of it, and with cut < 0 everything is as
// short as it gets.
func (w *Model) browserPage(cut int) string {
	tight := cut < 0
	if tight {
		cut = 1 << 10
	}
	st := w.c.Styles
	inner := w.inner()
	redirect := present.OneLine(w.run.redirect)
	var parts []string
	switch {
	case w.run.exchanging:
		parts = append(parts, w.c.Frame+" "+st.Info.Render("Exchanging the code for tokens…"))
	case w.run.loopback:
		parts = append(parts, w.c.Frame+" "+st.Info.Render("Waiting for the browser to come back to "+redirect))
	case tight:
		parts = append(parts, st.Text.Render(common.Clip("Sign in, then paste the "+redirect+"… address you land on.", inner)))
	default:
		parts = append(parts, common.Paragraphs(st.Text, inner,
			"Sign in in the browser. The server then sends it to "+redirect+"…, which keyfob cannot receive: copy that final address (from the address bar, or the network panel of the browser's developer tools) and paste it below."))
	}
	opened := "keyfob opened your browser; if it did not, open this address:"
	if w.c.Browse != nil {
		opened = "keyfob is signing in to the sandbox for you; the address is:"
	}
	addr := common.Wrap(present.OneLine(w.run.authURL), inner)
	if cut > 0 {
		keep := max(len(addr)-cut, 1)
		if keep < len(addr) {
			addr = addr[:keep]
			addr[keep-1] = common.Clip(addr[keep-1]+"…", inner)
		}
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
