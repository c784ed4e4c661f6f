package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/present"
)

// LoginOptions are the options of `keyfob login`.
type LoginOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Logins   func() *oauth.Logins
	Prompter func() *Prompter
	// Asker asks in a terminal for what the flags left out; it returns nil
	// without one.
	Asker  func() Asker
	Getenv func(string) string
	Now    func() time.Time

	Account   AccountInputs
	NoBrowser bool
	Timeout   time.Duration
	// Locale is --locale, the sign-in page's language; RequireScopes is
	// --require-scopes (fleet): Tesla refuses the consent unless every
	// requested scope is granted.
	Locale        string
	RequireScopes bool

	// Guide is --guide: the guided set-up of a Fleet API app of the
	// user's own, Domain (--domain) its domain.
	Guide  bool
	Domain string
	// The services the guide uses besides the login's.
	Apps     func() fleetapp.Apps
	Keys     func() fleetapp.Keys
	FleetAPI func() *fleetapi.Client
	Manager  func() *accounts.Manager
	Engine   func() *oauth.Engine
}

// NewCmdLogin returns `keyfob login`; runF replaces its run in tests.
func NewCmdLogin(f *Factory, runF func(*LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IO, Logins: f.Logins, Prompter: f.Prompter, Asker: f.Ask, Getenv: f.getenv, Now: f.now,
		Apps: f.Apps, Keys: f.Keys, FleetAPI: f.FleetAPI, Manager: f.Manager, Engine: f.Engine}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Add an account by logging in (browser, password or client-credentials flow)",
		Long: "login adds an account. Fleet accounts sign in in the browser with the redirect URI registered\n" +
			"for the app (remembered per client id once a login with it worked): a loopback one comes back to\n" +
			"a listener on its port. Owner accounts sign in in the browser and you paste the address you land on;\n" +
			"partner accounts use the client-credentials grant; legacy accounts the password grant.\n" +
			"Secrets never come from flags: the client secret comes from $" + EnvClientSecret + " or\n" +
			"--client-secret-file, a password from stdin or a prompt. A flag the kind does not use is refused.\n" +
			"Endpoints must be https except on this machine; --insecure-http allows plain http, with a warning.\n" +
			"In a terminal, login asks for what the flags leave out, with the fields of the TUI's login wizard\n" +
			"(all of them when no flag is given); without one, a missing flag is an error that names it.\n\n" +
			"--guide (offered in a terminal to a fleet login without a client id) sets up a Fleet API app of your\n" +
			"own, step by step: what to enter at developer.tesla.com, the key pair, publishing the public key on\n" +
			"--domain, registering the domain with Tesla, the sign-in, and pairing your car. keyfob remembers the\n" +
			"steps done, so the same command goes on where it stopped.",
		Example: "  keyfob login --kind fleet --client-id YOUR_APP_ID --redirect-uri http://localhost:8080/callback\n" +
			"  keyfob login --kind fleet --guide --domain app.example.com\n" +
			"  keyfob login --kind owner --email you@example.com\n" +
			"  KEYFOB_CLIENT_SECRET=… keyfob login --kind partner --client-id YOUR_APP_ID --region eu\n" +
			"  keyfob login --kind custom --issuer https://auth.example.com --client-id my-app --scopes \"openid offline_access\"",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			opts.Account.collect(cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return runLogin(opts)
		},
	}
	opts.Account.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "how long to wait for the browser sign-in")
	cmd.Flags().StringVar(&opts.Locale, "locale", "", "language of the sign-in page, e.g. de-DE (browser sign-ins)")
	cmd.Flags().BoolVar(&opts.RequireScopes, "require-scopes", false,
		"fleet: Tesla refuses the consent unless every requested scope is granted (instead of granting fewer)")
	cmd.Flags().BoolVar(&opts.Guide, "guide", false, "fleet: set up a Fleet API app of your own, step by step (resumable)")
	cmd.Flags().StringVar(&opts.Domain, "domain", "", "with --guide: the domain that serves your app's public key")
	return cmd
}

// options are the login's choices that are not kept with the account; the
// flags a kind does not use are refused.
func (opts *LoginOptions) options() (oauth.LoginOptions, error) {
	k := opts.Account.kind()
	if opts.RequireScopes && k != accounts.KindFleet {
		return oauth.LoginOptions{}, usagef("--require-scopes applies to fleet logins only")
	}
	if opts.Locale != "" && k.Valid() && oauth.GrantOf(accounts.Account{Kind: k, Grant: opts.Account.Grant}) != accounts.GrantCode {
		return oauth.LoginOptions{}, usagef("--locale applies to browser sign-ins only; %s has no sign-in page",
			purposeOf(oauth.PurposeLogin, k, opts.Account.Grant))
	}
	return oauth.LoginOptions{Locale: opts.Locale, RequireRequestedScopes: opts.RequireScopes}, nil
}

func runLogin(opts *LoginOptions) error {
	ctx, l := opts.Ctx, opts.Logins()
	ask := opts.Asker()
	if opts.Domain != "" && !opts.Guide {
		return usagef("--domain goes with --guide, the guided set-up of your own app")
	}
	if ask != nil && opts.Account.bare() {
		if err := opts.Account.askChoices(ctx, ask, oauth.PurposeLogin); err != nil {
			return err
		}
		// Asked: from here on as if given.
		opts.Account.kindGiven, opts.Account.regionGiven, opts.Account.grantGiven = true, true, true
		if guided, err := opts.offerGuide(ask); err != nil || guided {
			return orGuide(opts, ask, err)
		}
		if err := opts.Account.askAll(ctx, ask, l, oauth.PurposeLogin); err != nil {
			return err
		}
	} else if guided, err := opts.offerGuide(ask); err != nil || guided {
		return orGuide(opts, ask, err)
	}
	lo, err := opts.options()
	if err != nil {
		return err
	}
	prep, err := opts.Account.prepareAsking(ctx, l, oauth.PurposeLogin, inputSource{opts.Getenv, opts.Prompter}, lo, ask)
	if err != nil {
		return err
	}
	opts.Account.notePrepared(opts.IO.Err, prep)
	if lists(oauth.Requirements(oauth.PurposeLogin, prep.Account.Kind, prep.Account.Grant), oauth.FieldPassword) && prep.Credentials.Password == "" {
		if prep, err = askPassword(opts, prep); err != nil {
			return err
		}
	}
	// Begin fails before the sign-in, not after it, when the name is taken.
	at, err := l.Begin(ctx, prep)
	if err != nil {
		return opts.Account.withFieldFix(err, oauth.PurposeLogin)
	}
	defer at.Close()
	var saved oauth.Saved
	if at.Flow() != nil {
		saved, err = browserLogin(opts, at)
	} else {
		saved, err = at.Finish(ctx)
	}
	if err != nil {
		return err
	}
	verb := "Added"
	if saved.Replaced {
		verb = "Logged in again to"
	}
	fprintf(opts.IO.Err, "%s %s\n", verb, present.Summary(&saved.Account, opts.Now()))
	printRegionChange(opts.IO.Err, present.Clean(saved.Account.Name), saved.RegionChange)
	printNameNotUsed(opts.IO.Err, saved)
	noteLoginConsumers(opts.IO.Err, l.Manager, saved.Account, saved.Replaced)
	return nil
}

// orGuide runs the guide, unless err says the user left.
func orGuide(opts *LoginOptions, ask Asker, err error) error {
	if err != nil {
		return err
	}
	return runGuide(opts, ask)
}

// askPassword completes a password login: the email when --email did not
// give it (only at a terminal), then the password from stdin or a prompt.
func askPassword(opts *LoginOptions, prep oauth.Prepared) (oauth.Prepared, error) {
	email := prep.Credentials.Email
	if email == "" {
		if !opts.IO.InTTY {
			return prep, usagef("--email is required for a password login when stdin is not a terminal")
		}
		line, err := opts.Prompter().Line(opts.Ctx, "Email: ")
		if err != nil {
			return prep, err
		}
		email = line
		prep.Account.Email, prep.Credentials.Email = email, email
	}
	password, err := opts.Prompter().Secret("Password for " + present.OneLine(email) + ": ")
	if err != nil {
		return prep, err
	}
	if password == "" {
		return prep, errors.New("no password given; pipe it on stdin or type it at the prompt")
	}
	prep.Credentials.Password = password
	return prep, nil
}

// browserLogin runs the browser part of a code login: it opens the browser
// (or prints the address), then waits for the browser to come back to the
// loopback listener, or for the address it landed on to be pasted.
func browserLogin(opts *LoginOptions, at *oauth.Attempt) (oauth.Saved, error) {
	flow, w := at.Flow(), opts.IO.Err
	ctx, cancel := context.WithTimeout(opts.Ctx, opts.Timeout)
	defer cancel()

	opened := false
	if !opts.NoBrowser {
		if err := flow.OpenBrowser(); err != nil {
			fprintf(w, "%s; set $BROWSER to your browser's command, or open the URL below yourself.\n", present.Sentence(err.Error()))
		} else {
			opened = true
		}
	}
	if opened {
		fprintf(w, "Opened your browser to sign in. If nothing happened, open this URL:\n\n  %s\n\n", present.Clean(flow.AuthURL()))
	} else {
		fprintf(w, "Open this URL in a browser to sign in:\n\n  %s\n\n", present.Clean(flow.AuthURL()))
	}
	if flow.Loopback() {
		fprintf(w, "Waiting for the browser to come back to %s (ctrl+c cancels; gives up after %v)…\n",
			present.Clean(flow.RedirectURI()), opts.Timeout)
		if !opts.IO.InTTY {
			return at.Finish(ctx)
		}
		// The browser may run on another machine (keyfob over SSH): then
		// the user pastes the address it could not reach.
		fprintln(w, "If the browser runs on another machine, paste the address it lands on (or its code) here.")
		return waitOrPaste(ctx, opts.Prompter(), w, at)
	}
	for _, line := range present.PasteHelp(flow.RedirectURI()) {
		fprintln(w, line)
	}
	fprintln(w)
	pasted, err := opts.Prompter().Line(ctx, "Redirect URL or code: ")
	if errors.Is(err, context.DeadlineExceeded) {
		return oauth.Saved{}, fmt.Errorf("nothing was pasted within %v; run keyfob login again (--timeout sets how long keyfob waits)", opts.Timeout)
	}
	if err != nil {
		return oauth.Saved{}, err
	}
	return at.Complete(ctx, pasted)
}

// waitOrPaste waits for the browser to come back to the loopback listener
// while taking pasted addresses from stdin; a paste that does not work
// leaves the login waiting for the browser or another paste.
func waitOrPaste(ctx context.Context, p *Prompter, w io.Writer, at *oauth.Attempt) (oauth.Saved, error) {
	type waited struct {
		saved oauth.Saved
		err   error
	}
	done := make(chan waited, 1)
	go func() {
		saved, err := at.Finish(ctx)
		done <- waited{saved, err}
	}()
	pastes := p.next()
	for {
		select {
		case r := <-done:
			return r.saved, r.err
		case l := <-pastes:
			p.taken()
			if l.err != nil {
				pastes = nil // stdin is gone: only the browser can finish
				continue
			}
			pastes = p.next()
			if l.text == "" {
				continue
			}
			saved, err := at.Complete(ctx, l.text)
			if err == nil || saveFailed(err) {
				return saved, err
			}
			fprintf(w, "%s\nPaste the address again, or finish in the browser.\n", present.OneLine(err.Error()))
		}
	}
}

// saveFailed reports an error of saving a signed-in account, after which
// another paste cannot help.
func saveFailed(err error) bool {
	var unsaved *accounts.UnsavedError
	var corrupt *accounts.CorruptError
	var version *accounts.VersionError
	return errors.Is(err, accounts.ErrNameTaken) || errors.Is(err, accounts.ErrLockTimeout) ||
		errors.As(err, &unsaved) || errors.As(err, &corrupt) || errors.As(err, &version)
}
