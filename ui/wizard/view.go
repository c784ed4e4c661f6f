package wizard

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/accounts"
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
			if k == guideKind {
				cs[i].desc = guideSummary
			}
		}
		q := present.AskKind
		if w.purpose == purposeImport {
			q = present.AskImportKind
		}
		body = w.chooser(q, cs, w.kindIdx, 8)
		if w.kinds[w.kindIdx] == accounts.KindOwner {
			body += "\n\n" + common.Paragraphs(st.Warning, inner, present.OwnerAPIClosing)
		}
	case stepRegion:
		body = w.chooser(present.AskRegion, choicesOf(regions, present.RegionSummary), w.regionIdx, 5)
	case stepGrant:
		body = w.chooser(present.AskGrant, choicesOf(grants, present.GrantSummary), w.grantIdx, 19)
	case stepFields:
		body = w.formView()
	case stepWorking:
		body = w.c.Frame + " " + st.Info.Render(w.working)
	case stepBrowser:
		body = w.browserPage(0)
	case stepGuide:
		body = w.guideView()
	}
	if w.note != "" && w.step != stepBrowser {
		body += "\n\n" + common.Paragraphs(st.Muted, inner, w.note)
	}
	if w.err != "" {
		body += "\n\n" + common.Paragraphs(st.ErrorText, inner, "✗ "+w.err)
	}
	box := common.Box(st, w.width(), w.title(), body, w.stepKeys()...)
	if over := lipgloss.Height(box) - w.c.DialogHeight(); over > 0 && w.step == stepBrowser {
		// A short terminal: the page fits in fewer lines (see browserPage).
		full := w.browserPage(0)
		page := w.browserPage(lipgloss.Height(full) - over)
		box = common.Box(st, w.width(), w.title(), strings.Replace(body, full, page, 1), w.stepKeys()...)
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
		lines = append(lines, "", common.Paragraphs(st.Hint, w.inner(), w.fieldHelp(w.form.fields[w.form.focus].req.Field)))
	}
	return strings.Join(lines, "\n")
}
