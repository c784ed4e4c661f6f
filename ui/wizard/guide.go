package wizard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/dialog"
)

// guideKind is the kind chooser's entry for the guided set-up of a Fleet
// API app of the user's own, keyfob login --guide's path in the TUI.
const guideKind accounts.Kind = "new app"

// guideSummary describes it in the kind chooser.
const guideSummary = "no Fleet API app yet? keyfob sets one up with you, step by step"

// guide is the state of the guided set-up: the app (as keyfob remembers
// it, resumed when its set-up is under way), the step shown, its fields,
// and what its last action said.
type guide struct {
	app    fleetapp.App
	step   fleetapp.Step
	form   form
	secret string
	lines  []string // the outcome of the step's last action
	busy   bool
	// signingIn is set while the wizard's own sign-in runs for the login
	// step; saved is the account it saved, handed to the root at the end.
	signingIn bool
	saved     *Saved
}

// Messages of the guide's commands.
type (
	guideLoadedMsg struct {
		app fleetapp.App
		err error
	}
	guideStepMsg struct {
		step  fleetapp.Step
		app   fleetapp.App
		lines []string
		err   error
	}
)

// services are what the guide's steps act through, from Common.
func (w *Model) apps() fleetapp.Apps { return fleetapp.Apps{Dir: w.c.Manager.Dir()} }
func (w *Model) keysOf() fleetapp.Keys {
	return fleetapp.Keys{Dir: w.c.Manager.Dir()}
}
func (w *Model) fleetAPI() *fleetapi.Client { return &fleetapi.Client{HTTP: w.c.Engine.HTTPClient} }

// startGuide opens the guide in w.region, resuming an app whose set-up is
// under way.
func (w *Model) startGuide() tea.Cmd {
	w.guide = &guide{busy: true}
	w.step = stepGuide
	w.err, w.note = "", ""
	apps := w.apps()
	return func() tea.Msg {
		known, err := apps.List()
		var open []fleetapp.App
		for _, a := range known {
			if len(a.Done) > 0 && a.Next() != "" {
				open = append(open, a)
			}
		}
		if len(open) == 1 {
			return guideLoadedMsg{app: open[0], err: err}
		}
		return guideLoadedMsg{err: err}
	}
}

func (w *Model) onGuideLoaded(msg guideLoadedMsg) tea.Cmd {
	g := w.guide
	if g == nil {
		return nil
	}
	g.busy = false
	if msg.err != nil {
		w.err = msg.err.Error()
	}
	g.app = msg.app
	if g.app.RedirectURI == "" {
		g.app.RedirectURI = fleetapp.DefaultRedirectURI
	}
	return w.guideGoTo(g.app.Next())
}

// guideGoTo shows step s with its fields.
func (w *Model) guideGoTo(s fleetapp.Step) tea.Cmd {
	g := w.guide
	g.step, g.lines = s, nil
	var reqs []oauth.Requirement
	switch s {
	case fleetapp.StepApp:
		reqs = []oauth.Requirement{{Field: oauth.FieldDomain, Need: oauth.NeedRequired}, {Field: oauth.FieldClientID, Need: oauth.NeedRequired},
			{Field: oauth.FieldClientSecret, Need: oauth.NeedRequired}, {Field: oauth.FieldRedirectURI, Need: oauth.NeedRequired}}
	case fleetapp.StepRegister, fleetapp.StepLogin:
		if g.secret == "" && w.knownSecret() == "" {
			reqs = []oauth.Requirement{{Field: oauth.FieldClientSecret, Need: oauth.NeedRequired}}
		}
	}
	preset := accounts.Account{Kind: accounts.KindFleet, ClientID: g.app.ClientID, ClientSecret: g.secret,
		Endpoints: accounts.Endpoints{RedirectURI: g.app.RedirectURI}}
	g.form = newForm(reqs, preset, w.inputWidth())
	if i := g.form.index(oauth.FieldDomain); i >= 0 {
		g.form.fields[i].input.SetValue(g.app.Domain)
	}
	if i := g.form.index(oauth.FieldClientSecret); i >= 0 {
		// Required here: the partner token needs it.
		g.form.fields[i].input.Placeholder = "the app's client secret"
	}
	w.SetSize(w.c.Width, w.c.Height)
	return g.form.focusOn(g.form.start())
}

// knownSecret is the client secret of an account of the guide's app.
func (w *Model) knownSecret() string {
	accts, err := w.c.Manager.List(w.c.Ctx)
	if err != nil {
		return ""
	}
	for _, a := range accts {
		if a.ClientID == w.guide.app.ClientID && a.ClientID != "" && a.ClientSecret != "" {
			return a.ClientSecret
		}
	}
	return ""
}

// guideKey handles a key on the guide's page: enter does the step, esc
// closes the wizard (keyfob keeps the progress), the rest edits a field.
func (w *Model) guideKey(msg tea.KeyPressMsg) (common.Action, tea.Cmd) {
	k, g := w.keys(), w.guide
	switch {
	case key.Matches(msg, k.Back):
		if g.saved != nil {
			return *g.saved, nil
		}
		return dialog.Close{}, nil
	case g.busy:
		return nil, nil
	case key.Matches(msg, k.NextField):
		return nil, g.form.focusOn(g.form.focus + 1)
	case key.Matches(msg, k.PrevField):
		return nil, g.form.focusOn(g.form.focus - 1)
	case key.Matches(msg, k.Choose) && msg.String() == "enter":
		return w.guideAct()
	}
	return nil, g.form.update(msg)
}

// guideAct does the step shown.
func (w *Model) guideAct() (common.Action, tea.Cmd) {
	g := w.guide
	w.err = ""
	if i := g.form.missing(); i >= 0 {
		t := kindText(accounts.KindFleet, g.form.fields[i].req.Field)
		w.err = fmt.Sprintf("%s is required. %s", t.label, t.help)
		return nil, g.form.focusOn(i)
	}
	if v := g.form.value(oauth.FieldClientSecret); v != "" {
		g.secret = v
	}
	if g.secret == "" {
		g.secret = w.knownSecret()
	}
	var run func(context.Context) ([]string, error)
	switch g.step {
	case fleetapp.StepApp:
		domain, err := fleetapi.CheckDomain(g.form.value(oauth.FieldDomain))
		if err != nil {
			w.err = err.Error()
			return nil, g.form.focusOn(g.form.index(oauth.FieldDomain))
		}
		g.app.ClientID, g.app.Domain = g.form.value(oauth.FieldClientID), domain
		g.app.RedirectURI = g.form.value(oauth.FieldRedirectURI)
		run = w.guideSaveApp
	case fleetapp.StepKeygen:
		run = w.guideKeygen
	case fleetapp.StepHost:
		run = w.guideHost
	case fleetapp.StepRegister:
		run = w.guideRegister
	case fleetapp.StepLogin:
		return nil, w.guideSignIn()
	case fleetapp.StepPair, "":
		run = func(context.Context) ([]string, error) { return nil, nil }
	}
	g.busy = true
	w.working = "working on: " + fleetapp.StepTitle(g.step)
	step, apps, clientID, ctx := g.step, w.apps(), g.app.ClientID, w.c.Ctx
	return nil, func() tea.Msg {
		lines, err := run(ctx)
		if err != nil || step == "" {
			return guideStepMsg{step: step, lines: lines, err: err}
		}
		app, err := apps.MarkDone(ctx, clientID, step)
		return guideStepMsg{step: step, app: app, lines: lines, err: err}
	}
}

func (w *Model) onGuideStep(msg guideStepMsg) (common.Action, tea.Cmd) {
	g := w.guide
	if g == nil {
		return nil, nil
	}
	g.busy = false
	if msg.err != nil {
		g.lines = msg.lines
		w.err = msg.err.Error()
		return nil, nil
	}
	g.app = msg.app
	if msg.step == fleetapp.StepPair || msg.step == "" {
		if g.saved != nil {
			return *g.saved, nil
		}
		return dialog.Close{}, nil
	}
	cmd := w.guideGoTo(g.app.Next())
	g.lines = msg.lines
	return nil, cmd
}

// The steps' actions, run in commands.

func (w *Model) guideSaveApp(ctx context.Context) ([]string, error) {
	app := w.guide.app
	_, err := w.apps().Update(ctx, app.ClientID, func(a *fleetapp.App) { a.Domain, a.RedirectURI = app.Domain, app.RedirectURI })
	return nil, err
}

func (w *Model) guideKeygen(context.Context) ([]string, error) {
	keys := w.keysOf()
	if _, _, err := keys.Public(); err == nil {
		return []string{"Using the key pair in " + keys.Dir + "."}, nil
	} else if !errors.Is(err, fleetapp.ErrNoKey) {
		return nil, err
	}
	kp, err := keys.Generate(false)
	if err != nil {
		return nil, err
	}
	return []string{"private key " + kp.PrivatePath + " (0600; it never leaves this machine)", "public key  " + kp.PublicPath}, nil
}

func (w *Model) guideHost(ctx context.Context) ([]string, error) {
	keys, domain := w.keysOf(), w.guide.app.Domain
	_, mine, err := keys.Public()
	if err != nil {
		return nil, err
	}
	served, _, err := w.fleetAPI().DomainKey(ctx, domain)
	if err == nil && !slices.Equal(served, mine) {
		err = fmt.Errorf("%s serves another public key than %s", fleetapi.KeyURL(domain), keys.PublicPath())
	}
	if err != nil {
		return nil, fmt.Errorf("not yet: %w; publish the key, then press enter to check again", err)
	}
	return []string{fleetapi.KeyURL(domain) + " serves the app's public key ✓"}, nil
}

func (w *Model) guideRegister(ctx context.Context) ([]string, error) {
	g, m := w.guide, w.c.Manager
	accts, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	var lines []string
	i := slices.IndexFunc(accts, func(a accounts.Account) bool {
		return a.Kind == accounts.KindPartner && a.ClientID == g.app.ClientID && a.AuthCode == ""
	})
	var p accounts.Account
	if i >= 0 {
		p = accts[i]
	} else {
		saved, err := w.signInWith(ctx, accounts.KindPartner, oauth.Inputs{oauth.FieldName: g.app.Domain + " partner"})
		if err != nil {
			return nil, fmt.Errorf("cannot get a partner token: %w", err)
		}
		p = saved.Account
		lines = append(lines, "Added the partner account "+p.Name+".")
	}
	got, err := m.Token(ctx, p.ID, fleetapp.PartnerMinValid)
	if err != nil {
		return lines, fmt.Errorf("cannot get a partner token from %q: %w", p.Name, err)
	}
	p = got.Account
	targets, err := fleetapp.Targets(ctx, m, w.c.Engine, p, "")
	if err != nil {
		return lines, err
	}
	var failed []string
	for _, r := range fleetapp.Register(ctx, w.fleetAPI(), w.apps(), g.app.ClientID, g.app.Domain, targets) {
		if r.Err != nil {
			failed = append(failed, r.Region)
			lines = append(lines, fmt.Sprintf("✗ %s: %v", r.Region, r.Err))
			continue
		}
		lines = append(lines, fmt.Sprintf("✓ registered in %s (%s)", r.Region, r.Base))
	}
	if len(failed) > 0 {
		return lines, fmt.Errorf("the registration failed in %s; press enter to try again", strings.Join(failed, ", "))
	}
	return lines, nil
}

// signInWith runs a login of kind k that needs no browser, with the app's
// client id and secret.
func (w *Model) signInWith(ctx context.Context, k accounts.Kind, in oauth.Inputs) (oauth.Saved, error) {
	in[oauth.FieldClientID], in[oauth.FieldClientSecret] = w.guide.app.ClientID, w.guide.secret
	p, err := w.c.Logins.Prepare(ctx, oauth.Request{Purpose: oauth.PurposeLogin, Kind: k, Region: w.region, Inputs: in})
	if err != nil {
		return oauth.Saved{}, err
	}
	s, err := w.c.Logins.Begin(ctx, p)
	if err != nil {
		return oauth.Saved{}, err
	}
	defer s.Close()
	return s.Finish(ctx)
}

// guideSignIn starts the wizard's own fleet sign-in with the app's client
// id, secret and redirect URI; its end comes back to the guide.
func (w *Model) guideSignIn() tea.Cmd {
	g := w.guide
	w.kind = accounts.KindFleet
	if cmd := w.buildForm(); w.step != stepFields {
		return cmd
	}
	for f, v := range map[oauth.Field]string{oauth.FieldClientID: g.app.ClientID, oauth.FieldClientSecret: g.secret,
		oauth.FieldRedirectURI: g.app.RedirectURI} {
		if i := w.form.index(f); i >= 0 {
			w.form.fields[i].input.SetValue(v)
		}
	}
	g.signingIn = true
	return w.submit()
}

// guideSignedIn takes the fleet account the sign-in saved, records the
// step, and goes on to the pairing.
func (w *Model) guideSignedIn(s Saved) tea.Cmd {
	g := w.guide
	g.signingIn, g.saved = false, &s
	w.step = stepGuide
	g.busy = true
	apps, clientID, ctx, name := w.apps(), g.app.ClientID, w.c.Ctx, s.Account.Name
	return func() tea.Msg {
		if _, err := apps.Update(ctx, clientID, func(a *fleetapp.App) { a.Fleet = name }); err != nil {
			return guideStepMsg{step: fleetapp.StepLogin, err: err}
		}
		app, err := apps.MarkDone(ctx, clientID, fleetapp.StepLogin)
		return guideStepMsg{step: fleetapp.StepLogin, app: app, lines: []string{"Signed in: " + name + "."}, err: err}
	}
}
