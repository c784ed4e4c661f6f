package wizard

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/common"
)

// guideTitle heads the guide's pages.
func (w *Model) guideTitle() string {
	n := slices.Index(fleetapp.Steps, w.guide.step) + 1
	if n == 0 {
		return "Your own Fleet API app · " + w.region
	}
	return fmt.Sprintf("Your own Fleet API app · %s  (step %d of %d)", w.region, n, len(fleetapp.Steps))
}

// guideKeys are the guide's keys: enter does the step, esc closes.
func (w *Model) guideKeys(k KeyMap) []key.Binding {
	act := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", w.guideVerb()))
	k.Back.SetHelp("esc", "close (progress kept)")
	out := []key.Binding{act, k.Back}
	if len(w.guide.form.fields) > 1 {
		out = append([]key.Binding{k.NextField}, out...)
	}
	return out
}

// guideVerb is what enter does on the step shown.
func (w *Model) guideVerb() string {
	switch w.guide.step {
	case fleetapp.StepApp:
		return "go on"
	case fleetapp.StepKeygen:
		return "make the key pair"
	case fleetapp.StepHost:
		return "check the domain"
	case fleetapp.StepRegister:
		return "register"
	case fleetapp.StepLogin:
		return "sign in"
	}
	return "finish"
}

// guideView is the guide's page: the steps with a mark each, then what
// the current step asks.
func (w *Model) guideView() string {
	g, st, inner := w.guide, w.c.Styles, w.inner()
	if g.busy && g.step == "" {
		return w.c.Frame + " " + st.Info.Render("reading what keyfob knows of your apps")
	}
	var marks []string
	for _, s := range fleetapp.Steps {
		mark := "·"
		switch {
		case g.app.IsDone(s):
			mark = "✓"
		case s == g.step:
			mark = "›"
		}
		marks = append(marks, mark+" "+string(s))
	}
	lines := []string{st.Muted.Render(common.Clip(strings.Join(marks, "  "), inner)), ""}
	title := fleetapp.StepTitle(g.step)
	if g.step == "" {
		title = "Your app is set up"
	}
	lines = append(lines, st.Bold.Render(title))
	for _, l := range w.guideBody() {
		lines = append(lines, common.Paragraphs(st.Text, inner, l))
	}
	if len(g.form.fields) > 0 {
		lines = append(lines, "", w.guideForm())
	}
	if g.busy {
		lines = append(lines, "", w.c.Frame+" "+st.Info.Render(w.working))
	}
	for _, l := range g.lines {
		lines = append(lines, common.Paragraphs(st.Muted, inner, l))
	}
	return strings.Join(lines, "\n")
}

// guideBody is what the current step says.
func (w *Model) guideBody() []string {
	g := w.guide
	domain := g.app.Domain
	if v := g.form.value("domain"); v != "" {
		domain = v
	}
	if domain == "" {
		domain = "DOMAIN"
	}
	switch g.step {
	case fleetapp.StepApp:
		out := []string{"At " + fleetapp.DeveloperSite + ", create an application with:"}
		for _, e := range fleetapp.AppEntries(domain, g.app.RedirectURI) {
			out = append(out, "  "+e.Label+": "+e.Value)
		}
		return append(out, "then give keyfob what Tesla shows:")
	case fleetapp.StepKeygen:
		return []string{"keyfob makes a prime256v1 key pair in " + w.c.Manager.Dir() + "; the private key never leaves this machine."}
	case fleetapp.StepHost:
		return fleetapp.HostInstructions(domain, w.keysOf().PublicPath())
	case fleetapp.StepRegister:
		return []string{"keyfob gets a partner token with the app's client id and secret and registers " + domain +
			" in every region it can reach (Tesla then fetches " + fleetapi.KeyURL(domain) + ")."}
	case fleetapp.StepLogin:
		return []string{"Sign in with your Tesla account in the browser; it comes back to " + g.app.RedirectURI + "."}
	case fleetapp.StepPair:
		return []string{"Open " + fleetapp.PairingURL(domain) + " on the phone that has the Tesla app, choose the car, " +
			"and confirm with the key card. The account's page shows it as a QR code (p)."}
	}
	return []string{"Every step is done: the account signs in with your app, and your car takes its commands once paired."}
}

// guideForm renders the step's fields.
func (w *Model) guideForm() string {
	st, f := w.c.Styles, &w.guide.form
	var lines []string
	for i, x := range f.fields {
		label := textOf(x.req.Field).label + "*"
		marker, ls := "  ", st.Label
		if i == f.focus {
			marker, ls = "› ", st.LabelFocused
		}
		lines = append(lines, st.Marker.Render(marker)+ls.Render(common.Fit(label, labelWidth))+" "+x.input.View())
	}
	return strings.Join(lines, "\n")
}
