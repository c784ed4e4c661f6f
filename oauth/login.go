package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyfob/keyfob/accounts"
)

// Inputs are what the user gave for a login or import, by field: the
// command line's flags, or the TUI wizard's form. An empty value means
// "not given": the kind's preset (or the issuer's discovery document)
// fills it.
type Inputs map[Field]string

// Request is a login or import to prepare.
type Request struct {
	Purpose Purpose
	Kind    accounts.Kind
	Region  string // Tesla region: na, eu or cn ("" is na)
	Grant   string // custom accounts: code, password or client_credentials ("" is code)
	Inputs  Inputs
	// Options are the login's choices that are not kept with the account:
	// plain http off loopback, the sign-in page's locale, requiring every
	// requested scope.
	Options LoginOptions
}

// Prepared is an account ready to sign in or to be imported, with the
// credentials of a password grant.
type Prepared struct {
	Account     accounts.Account
	Credentials Credentials
	Options     LoginOptions
}

// Saved is the outcome of a login or import: the account as stored, and
// whether it replaced an earlier login of the same user and client.
type Saved struct {
	Account  accounts.Account
	Replaced bool
	// NameNotUsed is the name the user asked for when the login was of an
	// account already stored under another name, which it kept.
	NameNotUsed string
	// RegionChange says how the tokens (or the sign-in's issuer) corrected
	// the region and audience the login was prepared with; zero when they
	// agreed. The faces show it (RegionChange.String).
	RegionChange RegionChange
}

// Logins is the one path from a user's inputs to a saved account, for both
// faces: Prepare builds and validates the account, Begin checks its name
// and starts the sign-in, the Attempt finishes it and saves the result
// (through Manager.Add, which keeps the tokens in a recovery file when the
// store cannot be written). Import does the same for a refresh token.
type Logins struct {
	Engine  *Engine
	Manager *accounts.Manager
	// Presets returns the defaults of a kind in a region; nil means Preset
	// (Tesla's endpoints). keyfob demo points them at its sandbox.
	Presets func(kind accounts.Kind, region string) (accounts.Account, error)
	// RedirectFor returns the redirect URI last used with a fleet client id,
	// or "": Prepare fills a fleet login's redirect URI from it when the
	// user gave none. Remember is told a fleet client id's redirect URI once
	// a login with it succeeded (Tesla accepted it). The faces keep them in
	// config.json; nil means nothing is remembered.
	RedirectFor func(clientID string) string
	Remember    func(clientID, redirectURI string)
}

// Preset returns the defaults a login of kind k in region starts from.
func (l *Logins) Preset(k accounts.Kind, region string) (accounts.Account, error) {
	if l.Presets != nil {
		return l.Presets(k, region)
	}
	return Preset(k, region)
}

// Prepare builds the account of a request: the kind's preset, then the
// endpoints of the issuer's discovery document when an issuer is given,
// then the user's inputs, which win. It validates the result for the
// request's purpose; the error is a *FieldError when a field is at fault.
func (l *Logins) Prepare(ctx context.Context, r Request) (Prepared, error) {
	a, err := l.Preset(r.Kind, r.Region)
	if err != nil {
		if !r.Kind.Valid() {
			return Prepared{}, fieldErr(FieldKind, "%v", err)
		}
		return Prepared{}, fieldErr(FieldRegion, "%v", err)
	}
	if a.Kind == accounts.KindCustom {
		a.Grant = kindGrant(a.Kind, r.Grant)
	}
	if issuer := strings.TrimSpace(r.Inputs[FieldIssuer]); issuer != "" {
		ep, err := l.Engine.discover(ctx, issuer, r.Options.AllowInsecureHTTP)
		if err != nil {
			return Prepared{}, err
		}
		ep.RedirectURI = a.Endpoints.RedirectURI
		// A legacy server's /oauth/token hangs off the issuer's host.
		ep.BaseURL = strings.TrimSuffix(strings.TrimRight(issuer, "/"), "/oauth2/v3")
		a.Endpoints = ep
	}
	var p Prepared
	for f, v := range r.Inputs {
		if f != FieldPassword {
			v = strings.TrimSpace(v)
		}
		if v != "" {
			setInput(&a, &p.Credentials, f, v)
		}
	}
	if a.Kind == accounts.KindFleet && r.Purpose == PurposeLogin && a.Endpoints.RedirectURI == "" &&
		a.ClientID != "" && l.RedirectFor != nil {
		a.Endpoints.RedirectURI = strings.TrimSpace(l.RedirectFor(a.ClientID))
	}
	if err := ValidateWith(r.Purpose, a, r.Options); err != nil {
		return Prepared{}, err
	}
	p.Account, p.Options = a, r.Options
	return p, nil
}

// setInput stores one given value on the account (the email also in the
// credentials, the password only there).
func setInput(a *accounts.Account, c *Credentials, f Field, v string) {
	switch f {
	case FieldPassword:
		c.Password = v
		return
	case FieldEmail:
		c.Email = v
	}
	Set(a, f, v)
}

// Attempt is a sign-in under way. For the browser kinds it holds the code
// flow, which the face shows (the address to open, a field to paste the
// redirect into); the other grants need nothing more from the user.
type Attempt struct {
	l    *Logins
	p    Prepared
	flow *CodeFlow
}

// Begin starts the sign-in of a prepared account. It fails before anything
// reaches the server when the account's name belongs to another account
// or the store cannot be read; for the browser kinds it then starts the
// code flow (PKCE, state, and a loopback listener where the redirect URI
// allows one).
func (l *Logins) Begin(ctx context.Context, p Prepared) (*Attempt, error) {
	if err := l.Manager.CheckName(ctx, p.Account); err != nil {
		return nil, err
	}
	at := &Attempt{l: l, p: p}
	if GrantOf(p.Account) == accounts.GrantCode {
		flow, err := l.Engine.StartCodeFlowWith(ctx, p.Account, p.Options)
		if err != nil {
			return nil, err
		}
		at.flow = flow
	}
	return at, nil
}

// Flow is the browser sign-in, or nil for the grants that need none.
func (at *Attempt) Flow() *CodeFlow { return at.flow }

// Finish completes the sign-in and saves the account: it runs the password
// or client-credentials grant, or, for a browser sign-in, waits for the
// browser to come back to the loopback listener.
func (at *Attempt) Finish(ctx context.Context) (Saved, error) {
	if at.flow != nil {
		if !at.flow.Loopback() {
			return Saved{}, errors.New("this sign-in has no listener: paste the address the browser landed on")
		}
		got, err := at.flow.Wait(ctx)
		if err != nil {
			return Saved{}, err
		}
		return at.save(ctx, got)
	}
	got, err := at.l.Engine.LoginWith(ctx, at.p.Account, at.p.Credentials, at.p.Options)
	if err != nil {
		return Saved{}, err
	}
	return at.save(ctx, got)
}

// Complete finishes a browser sign-in from what the user pasted (the
// address the browser landed on, or its code) and saves the account. A
// paste that is not usable leaves the attempt waiting for another.
func (at *Attempt) Complete(ctx context.Context, pasted string) (Saved, error) {
	if at.flow == nil {
		return Saved{}, errors.New("this sign-in does not use the browser")
	}
	got, err := at.flow.Complete(ctx, pasted)
	if err != nil {
		return Saved{}, err
	}
	return at.save(ctx, got)
}

// Close abandons the attempt: a loopback listener stops.
func (at *Attempt) Close() {
	if at.flow != nil {
		_ = at.flow.Close()
	}
}

func (at *Attempt) save(ctx context.Context, a accounts.Account) (Saved, error) {
	a.AllowInsecureHTTP = keepsInsecure(at.p)
	got, err := at.l.Manager.Add(ctx, a)
	p := at.p.Account
	if err == nil && a.Kind == accounts.KindFleet && p.Endpoints.RedirectURI != "" && at.l.Remember != nil {
		at.l.Remember(p.ClientID, p.Endpoints.RedirectURI)
	}
	out := Saved{Account: got.Account, Replaced: got.Replaced, NameNotUsed: got.NameNotUsed}
	if c := (RegionChange{From: p.Region, To: a.Region, FromAudience: p.Audience, ToAudience: a.Audience}); c.Changed() {
		out.RegionChange = c
	}
	return out, err
}

// Import adds a prepared account from its refresh token: the manager checks
// the name, refreshes at once (which proves the token works and learns the
// expiry, scopes and email) and saves the account with the rotated token.
func (l *Logins) Import(ctx context.Context, p Prepared) (Saved, error) {
	if p.Account.RefreshToken == "" {
		return Saved{}, fieldErr(FieldRefreshToken, "no refresh token was given")
	}
	a := p.Account
	a.AllowInsecureHTTP = keepsInsecure(p)
	got, err := l.Manager.Import(ctx, a)
	out := Saved{Account: got.Account, Replaced: got.Replaced, NameNotUsed: got.NameNotUsed}
	if err != nil {
		return out, err
	}
	out.Account, out.RegionChange, err = l.correctRegion(ctx, p.Account, got.Account)
	return out, err
}

// correctRegion corrects the region and audience of an account just
// imported to what its token says, in the store, unless it changed
// meanwhile; a refused correction changes nothing and comes back in the
// RegionChange. The change is relative to the account as prepared.
func (l *Logins) correctRegion(ctx context.Context, prepared, saved accounts.Account) (accounts.Account, RegionChange, error) {
	c := RegionCheck(saved)
	if c.Changed() && c.Refused == nil {
		_, after, err := l.Manager.Edit(ctx, saved.ID, func(p *accounts.Account) error {
			if p.AccessToken == saved.AccessToken {
				c.apply(p)
			}
			return nil
		})
		if err != nil {
			return saved, c, fmt.Errorf("the account was imported, but its region could not be corrected (%s): %w", c, err)
		}
		saved = after
	}
	c.From, c.FromAudience = prepared.Region, prepared.Audience
	if !c.Changed() {
		c = RegionChange{}
	}
	return saved, c, nil
}

// keepsInsecure reports whether the account of p keeps the opt-in to plain
// http off loopback for its later refreshes: the user gave it, and one of
// the account's endpoints needs it.
func keepsInsecure(p Prepared) bool {
	return p.Options.AllowInsecureHTTP && NeedsInsecureHTTP(p.Account)
}
