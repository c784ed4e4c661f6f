package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/present"
)

// guide is the guided set-up of a Fleet API app of the user's own: the app
// at developer.tesla.com, its key pair, the domain serving the public key,
// the domain's registration, the sign-in and the car's pairing, in order.
// Each step done is remembered (fleetapp.Apps), so the same command
// resumes where it stopped.
type guide struct {
	opts   *LoginOptions
	ask    Asker // nil without a terminal
	apps   fleetapp.Apps
	app    fleetapp.App
	secret string
	// io is the command's streams with everything on stderr: the guide
	// talks to a person.
	io *IOStreams
}

// offerGuide reports whether the login is the guided one: --guide, or, in
// a terminal, a fleet login without a client id whose user has no app yet.
func (opts *LoginOptions) offerGuide(ask Asker) (bool, error) {
	if opts.Guide {
		return true, nil
	}
	if ask == nil || opts.Account.kind() != accounts.KindFleet {
		return false, nil
	}
	if _, given := opts.Account.Inputs[oauth.FieldClientID]; given {
		return false, nil
	}
	have := true
	err := ask.Confirm(opts.Ctx, "Do you have a Fleet API app of your own at developer.tesla.com?",
		"No: keyfob walks you through making one — the app, its key pair, its domain, the sign-in and pairing your car.", &have)
	return !have, err
}

func runGuide(opts *LoginOptions, ask Asker) error {
	if k := opts.Account.kind(); k != accounts.KindFleet {
		return usagef("--guide sets up a Fleet API app of your own: it goes with --kind fleet, not %s", k)
	}
	io := *opts.IO
	io.Out = io.Err
	g := &guide{opts: opts, ask: ask, apps: opts.Apps(), io: &io}
	if err := g.start(); err != nil {
		return err
	}
	for i, step := range fleetapp.Steps {
		fprintf(g.io.Err, "\n[%d/%d] %s\n", i+1, len(fleetapp.Steps), fleetapp.StepTitle(step))
		if at, done := g.app.Done[step]; done {
			fprintf(g.io.Err, "  ✓ done %s\n", present.Relative(at, opts.Now()))
			continue
		}
		if err := g.run(step); err != nil {
			if errors.Is(err, ErrAborted) || isUsage(err) {
				return err
			}
			return fmt.Errorf("%w; keyfob remembers the steps done: run the same command again to go on from step %d", err, i+1)
		}
		app, err := g.apps.MarkDone(opts.Ctx, g.app.ClientID, step)
		if err != nil {
			return err
		}
		g.app = app
	}
	fprintf(g.io.Err, "\nYour app is set up: %s signs in with it, and your car takes its commands once paired.\n",
		present.Clean(cmpOr(g.app.Fleet, "the fleet account")))
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// start finds the app to set up — the one --client-id names, or the one
// whose set-up is under way — and its domain and redirect URI.
func (g *guide) start() error {
	opts := g.opts
	clientID := strings.TrimSpace(opts.Account.Inputs[oauth.FieldClientID])
	switch {
	case clientID != "":
		app, _, err := g.apps.Find(clientID)
		if err != nil {
			return err
		}
		g.app = app
	default:
		app, err := g.resume()
		if err != nil {
			return err
		}
		g.app = app
	}
	if err := g.domain(); err != nil {
		return err
	}
	if uri := strings.TrimSpace(opts.Account.Inputs[oauth.FieldRedirectURI]); uri != "" {
		g.app.RedirectURI = uri
	}
	if g.app.RedirectURI == "" {
		g.app.RedirectURI = fleetapp.DefaultRedirectURI
	}
	return nil
}

// resume is the app the guide goes on with when no client id is given:
// the one whose set-up is under way, else the only one keyfob knows with
// a domain other than --domain's; none for a new app.
func (g *guide) resume() (fleetapp.App, error) {
	known, err := g.apps.List()
	if err != nil {
		return fleetapp.App{}, err
	}
	domain := strings.ToLower(strings.TrimSpace(g.opts.Domain))
	var open, done []fleetapp.App
	for _, a := range known {
		switch {
		case len(a.Done) == 0 || (domain != "" && a.Domain != domain):
		case a.Next() != "":
			open = append(open, a)
		default:
			done = append(done, a)
		}
	}
	switch {
	case len(open) == 1:
		fprintf(g.io.Err, "Going on with the set-up of the app %s (%s).\n", present.Clean(open[0].ClientID), present.Clean(open[0].Domain))
		return open[0], nil
	case len(open) > 1:
		return fleetapp.App{}, usagef("the set-up of %d apps is under way; name one with --client-id", len(open))
	case len(done) == 1:
		return done[0], nil
	}
	return fleetapp.App{}, nil
}

// domain settles the app's domain: --domain, the one remembered, or asked.
func (g *guide) domain() error {
	d := strings.TrimSpace(g.opts.Domain)
	if d == "" {
		d = g.app.Domain
	}
	if d == "" && g.ask != nil {
		values := oauth.Inputs{}
		if err := g.ask.Fields(g.opts.Ctx, "Your Fleet API app", "The domain that will serve the app's public key, e.g. app.example.com.",
			accounts.KindFleet, []oauth.Requirement{{Field: oauth.FieldDomain, Need: oauth.NeedRequired}}, values); err != nil {
			return err
		}
		d = values[oauth.FieldDomain]
	}
	if d == "" {
		return usagef("--domain is required for the guided set-up: the domain that will serve your app's public key (https://DOMAIN%s)", fleetapi.KeyPath)
	}
	checked, err := fleetapi.CheckDomain(d)
	if err != nil {
		return usageError{err: err}
	}
	g.app.Domain = checked
	return nil
}

func (g *guide) run(step fleetapp.Step) error {
	switch step {
	case fleetapp.StepApp:
		return g.createApp()
	case fleetapp.StepKeygen:
		return g.keygen()
	case fleetapp.StepHost:
		return g.host()
	case fleetapp.StepRegister:
		return g.register()
	case fleetapp.StepLogin:
		return g.login()
	case fleetapp.StepPair:
		return runPartnerPair(&PairOptions{IO: g.io, Apps: g.opts.Apps, Getenv: g.opts.Getenv, Domain: g.app.Domain})
	}
	return nil
}

// createApp says what to enter at developer.tesla.com and takes the app's
// client id.
func (g *guide) createApp() error {
	w := g.io.Err
	fprintf(w, "  At %s, create an application (Dashboard → Create application) with:\n", fleetapp.DeveloperSite)
	for _, e := range fleetapp.AppEntries(g.app.Domain, g.app.RedirectURI) {
		fprintf(w, "    %-21s %s\n    %-21s (%s)\n", e.Label, e.Value, "", e.Note)
	}
	fprintln(w, "  Tesla then shows the app's client id and client secret.")
	clientID := strings.TrimSpace(g.opts.Account.Inputs[oauth.FieldClientID])
	if clientID == "" {
		clientID = g.app.ClientID
	}
	if clientID == "" && g.ask != nil {
		values := oauth.Inputs{}
		if err := g.ask.Fields(g.opts.Ctx, "Your app's credentials", "", accounts.KindFleet,
			[]oauth.Requirement{{Field: oauth.FieldClientID, Need: oauth.NeedRequired}}, values); err != nil {
			return err
		}
		clientID = values[oauth.FieldClientID]
	}
	if clientID == "" {
		return usagef("once the app exists, run this again with --client-id YOUR_APP_ID (and its secret in $%s)", EnvClientSecret)
	}
	app := g.app
	saved, err := g.apps.Update(g.opts.Ctx, clientID, func(a *fleetapp.App) {
		a.Domain, a.RedirectURI = app.Domain, app.RedirectURI
	})
	g.app = saved
	return err
}

func (g *guide) keygen() error {
	keys := g.opts.Keys()
	if _, _, err := keys.Public(); err == nil {
		fprintf(g.io.Err, "  Using the key pair in %s.\n", present.Clean(keys.Dir))
		return nil
	} else if !errors.Is(err, fleetapp.ErrNoKey) {
		return err
	}
	kp, err := keys.Generate(false)
	if err != nil {
		return err
	}
	fprintf(g.io.Err, "  private key  %s  (0600; it never leaves this machine)\n  public key   %s\n", kp.PrivatePath, kp.PublicPath)
	return nil
}

// host checks that the domain serves the key pair's public key, and says
// how to publish it until it does.
func (g *guide) host() error {
	keys := g.opts.Keys()
	_, mine, err := keys.Public()
	if err != nil {
		return err
	}
	for {
		served, _, err := g.opts.FleetAPI().DomainKey(g.opts.Ctx, g.app.Domain)
		switch {
		case err == nil && slices.Equal(served, mine):
			fprintf(g.io.Err, "  %s serves the app's public key ✓\n", present.Clean(fleetapi.KeyURL(g.app.Domain)))
			return nil
		case err == nil:
			err = fmt.Errorf("%s serves another public key than %s", fleetapi.KeyURL(g.app.Domain), keys.PublicPath())
		}
		fprintf(g.io.Err, "  Not yet: %s\n", present.OneLine(err.Error()))
		for _, l := range fleetapp.HostInstructions(g.app.Domain, keys.PublicPath()) {
			fprintln(g.io.Err, "  "+l)
		}
		if g.ask == nil {
			return errors.New("the domain does not serve the app's public key yet")
		}
		again := true
		if err := g.ask.Confirm(g.opts.Ctx, "Published? Check again", "No stops here; the same command goes on from this step later.", &again); err != nil {
			return err
		}
		if !again {
			return errors.New("the domain does not serve the app's public key yet")
		}
	}
}

// register registers the domain with a partner account of the app, made
// from the app's client id and secret when there is none.
func (g *guide) register() error {
	m := g.opts.Manager()
	accts, err := m.List(context.Background())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(accts, func(a accounts.Account) bool {
		return a.Kind == accounts.KindPartner && a.ClientID == g.app.ClientID && a.AuthCode == ""
	})
	var p accounts.Account
	if i >= 0 {
		p = accts[i]
	} else if p, err = g.partnerLogin(); err != nil {
		return err
	}
	if _, err := g.apps.Update(g.opts.Ctx, g.app.ClientID, func(a *fleetapp.App) { a.Partner = p.Name }); err != nil {
		return err
	}
	return runPartnerRegister(&PartnerOptions{IO: g.io, Ctx: g.opts.Ctx, Manager: g.opts.Manager, Engine: g.opts.Engine,
		FleetAPI: g.opts.FleetAPI, Keys: g.opts.Keys, Apps: g.opts.Apps, Action: "register", Domain: g.app.Domain, Account: p.Name})
}

// passThrough are the login flags the guide hands on to its logins.
var passThrough = []oauth.Field{oauth.FieldIssuer, oauth.FieldAudience, oauth.FieldTokenURL, oauth.FieldAuthURL,
	oauth.FieldUserInfoURL, oauth.FieldRevokeURL}

// inputs are the guide's inputs of a login of kind k: the app's client id
// and secret, and the endpoints the flags gave.
func (g *guide) inputs(k accounts.Kind) (oauth.Inputs, error) {
	secret, err := g.clientSecret()
	if err != nil {
		return nil, err
	}
	in := oauth.Inputs{oauth.FieldClientID: g.app.ClientID, oauth.FieldClientSecret: secret}
	reqs := oauth.Requirements(oauth.PurposeLogin, k, "")
	for _, f := range passThrough {
		if v, ok := g.opts.Account.Inputs[f]; ok && lists(reqs, f) {
			in[f] = v
		}
	}
	return in, nil
}

// clientSecret is the app's client secret: from the environment or
// --client-secret-file, a partner account of the app, or asked.
func (g *guide) clientSecret() (string, error) {
	if g.secret != "" {
		return g.secret, nil
	}
	secret, err := secretInput(inputSource{g.opts.Getenv, g.opts.Prompter}, g.opts.Account.ClientSecretFile, EnvClientSecret, oauth.FieldClientSecret)
	if err != nil {
		return "", err
	}
	if secret == "" {
		accts, err := g.opts.Manager().List(context.Background())
		if err != nil {
			return "", err
		}
		for _, a := range accts {
			if a.ClientID == g.app.ClientID && a.ClientSecret != "" {
				secret = a.ClientSecret
			}
		}
	}
	if secret == "" && g.ask != nil {
		values := oauth.Inputs{}
		if err := g.ask.Fields(g.opts.Ctx, "Your app's credentials", "The partner token that registers the domain needs the app's client secret.",
			accounts.KindPartner, []oauth.Requirement{{Field: oauth.FieldClientSecret, Need: oauth.NeedRequired}}, values); err != nil {
			return "", err
		}
		secret = values[oauth.FieldClientSecret]
	}
	if secret == "" {
		return "", usagef("the app's client secret is needed for the partner token: set %s or pass --%s", EnvClientSecret, secretFlag)
	}
	g.secret = secret
	return secret, nil
}

func (g *guide) partnerLogin() (accounts.Account, error) {
	in, err := g.inputs(accounts.KindPartner)
	if err != nil {
		return accounts.Account{}, err
	}
	in[oauth.FieldName] = g.app.Domain + " partner"
	saved, err := g.signIn(accounts.KindPartner, in)
	if err == nil {
		fprintf(g.io.Err, "  Added the partner account %s for the app's partner token.\n", present.Clean(saved.Account.Name))
	}
	return saved.Account, err
}

// login signs in with the app in the browser.
func (g *guide) login() error {
	in, err := g.inputs(accounts.KindFleet)
	if err != nil {
		return err
	}
	in[oauth.FieldRedirectURI] = g.app.RedirectURI
	for _, f := range []oauth.Field{oauth.FieldName, oauth.FieldScopes} {
		if v, ok := g.opts.Account.Inputs[f]; ok {
			in[f] = v
		}
	}
	saved, err := g.signIn(accounts.KindFleet, in)
	if err != nil {
		return err
	}
	fprintf(g.io.Err, "Added %s\n", present.Summary(&saved.Account, g.opts.Now()))
	_, err = g.apps.Update(g.opts.Ctx, g.app.ClientID, func(a *fleetapp.App) { a.Fleet = saved.Account.Name })
	return err
}

// signIn runs one login of kind k with in through the login path.
func (g *guide) signIn(k accounts.Kind, in oauth.Inputs) (oauth.Saved, error) {
	ctx, l := g.opts.Ctx, g.opts.Logins()
	lo, err := g.opts.options()
	if err != nil {
		return oauth.Saved{}, err
	}
	if k != accounts.KindFleet {
		lo = oauth.LoginOptions{} // the sign-in page's options
	}
	lo.AllowInsecureHTTP = g.opts.Account.InsecureHTTP
	prep, err := l.Prepare(ctx, oauth.Request{Purpose: oauth.PurposeLogin, Kind: k, Region: g.opts.Account.Region, Inputs: in, Options: lo})
	if err != nil {
		return oauth.Saved{}, g.opts.Account.withFieldFix(err, oauth.PurposeLogin)
	}
	at, err := l.Begin(ctx, prep)
	if err != nil {
		return oauth.Saved{}, err
	}
	defer at.Close()
	if at.Flow() == nil {
		return at.Finish(ctx)
	}
	return browserLogin(g.opts, at)
}
