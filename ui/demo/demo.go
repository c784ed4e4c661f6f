// Package demo sets up `keyfob demo`: the sandbox authorization server
// in-process on 127.0.0.1, a temporary store with sample accounts in every
// state the TUI shows, and login presets that point at the sandbox, so a
// newcomer can try every flow without a Tesla account and without touching
// their real configuration.
package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/sandbox/presets"
	"github.com/keyfob/keyfob/ui"
)

// Demo is a running demo: the sandbox and a temporary store. Close stops
// the one and removes the other.
type Demo struct {
	// Dir is the temporary config directory (0700) holding the store.
	Dir     string
	Server  *sandbox.Server
	Manager *accounts.Manager
	Engine  *oauth.Engine
	Config  accounts.Config
	// BrowseDelay is how long the simulated browser takes to sign in, so
	// the wizard's waiting step can be seen.
	BrowseDelay time.Duration
	// RedirectURI is the loopback redirect URI registered at the sandbox
	// for its Fleet API app (which, like Tesla, takes no other), preset in
	// the wizard's fleet form.
	RedirectURI string
}

// sampleClient is the client id of the sample Fleet accounts: a different
// app from the one the login wizard uses, so a demo login adds an account
// instead of replacing a sample of the same user.
const sampleClient = "keyfob-demo-fleet"

// Start launches the sandbox on 127.0.0.1, creates a temporary store with
// sample accounts and returns the demo. ctx only bounds the setup.
func Start(ctx context.Context) (*Demo, error) {
	redirect, err := FreeRedirectURI()
	if err != nil {
		return nil, err
	}
	srv, err := sandbox.Start(presets.Options(sandbox.Options{}))
	if err != nil {
		return nil, fmt.Errorf("cannot start the sandbox server: %w", err)
	}
	srv.RegisterRedirectURI(sandbox.FleetClientID, redirect)
	dir, err := os.MkdirTemp("", "keyfob-demo-")
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("cannot create the demo's temporary directory: %w", err)
	}
	d := &Demo{
		Dir:         dir,
		Server:      srv,
		Engine:      &oauth.Engine{},
		BrowseDelay: 700 * time.Millisecond,
		RedirectURI: redirect,
	}
	if d.Manager, err = accounts.Open("", accounts.Options{Dir: dir, Auth: d.Engine}); err != nil {
		d.Close()
		return nil, err
	}
	// Auto-refresh starts off so the sample states stay visible until the
	// user presses a.
	off := false
	d.Config = accounts.Config{AutoRefresh: &off}
	if err := d.seed(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close stops the sandbox and removes the temporary directory.
func (d *Demo) Close() error {
	var errs []error
	if d.Server != nil {
		errs = append(errs, d.Server.Close())
	}
	if d.Dir != "" {
		errs = append(errs, os.RemoveAll(d.Dir))
	}
	return errors.Join(errs...)
}

// Banner is the header note of the demo: where its sandbox runs, and the
// password of the only logins that ask for one (the browser sign-ins are
// approved at once).
func (d *Demo) Banner() string {
	u := d.Server.User()
	return fmt.Sprintf("demo · sandbox on %s · legacy and password logins take %s", strings.TrimPrefix(d.Server.URL(), "http://"), u.Password)
}

// Options completes base with the demo: logins with the sandbox presets,
// the simulated browser and the banner; the demo's manager, engine and
// settings where base has none. The caller keeps Input, Output and Theme.
func (d *Demo) Options(base ui.Options) ui.Options {
	o := base
	if o.Manager == nil {
		o.Manager = d.Manager
	}
	if o.Engine == nil {
		o.Engine = d.Engine
	}
	if reflect.DeepEqual(o.Config, accounts.Config{}) {
		o.Config = d.Config
	}
	if o.Banner == "" {
		o.Banner = d.Banner()
	}
	o.Logins = &oauth.Logins{Engine: o.Engine, Manager: o.Manager, Presets: d.Presets}
	o.Browse = d.Browse
	return o
}

// Presets are Tesla's presets pointed at the demo's sandbox (see
// presets.Sandbox), with the Fleet app's registered redirect URI, so that
// `n` → fleet → enter signs in against the sandbox. Options puts them in
// the logins of the TUI; the command line's login can use them too.
func (d *Demo) Presets(kind accounts.Kind, region string) (accounts.Account, error) {
	return presets.Sandbox{Server: d.Server, RedirectURI: d.RedirectURI}.Preset(kind, region)
}

// Browse plays the user's browser against the sandbox: it opens the
// sign-in address (the sandbox approves at once) and follows the redirects
// while they are web addresses. It returns the last address: the loopback
// callback, which completes the login by itself, or a tesla:// address the
// wizard fills into its paste field.
func (d *Demo) Browse(ctx context.Context, authURL string) (string, error) {
	if d.BrowseDelay > 0 {
		t := time.NewTimer(d.BrowseDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
	return d.Server.SignIn(ctx, authURL)
}

// sample is a demo account and how its tokens are made.
type sample struct {
	acct     accounts.Account
	mint     sandbox.MintRequest // its client, scopes and audience come from acct
	age      time.Duration       // how long ago the refresh token was obtained
	kill     bool                // the refresh token is dead: login required
	lastFail string
}

// seed writes the sample accounts: fresh, expiring in a few minutes,
// expired, login required, a partner token and a custom server, across
// kinds, regions and scopes.
func (d *Demo) seed(ctx context.Context) error {
	samples, err := d.samples()
	if err != nil {
		return fmt.Errorf("cannot build the demo accounts: %w", err)
	}
	now := time.Now()
	accts := make([]accounts.Account, len(samples))
	oldest := now
	for i, smp := range samples {
		accts[i] = d.mintSample(smp, fmt.Sprintf("de%06x", i+1), now)
		if accts[i].CreatedAt.Before(oldest) {
			oldest = accts[i].CreatedAt
		}
	}
	// The store lists accounts in the order they were added: the samples
	// were added in this order, before the oldest of their tokens.
	for i := range accts {
		accts[i].CreatedAt = oldest.Add(time.Duration(i-len(accts)) * time.Minute)
	}
	if _, err := d.Manager.Put(ctx, accts...); err != nil {
		return fmt.Errorf("cannot write the demo accounts: %w", err)
	}
	if err := d.Manager.SaveConfig(d.Config); err != nil {
		return fmt.Errorf("cannot write the demo settings: %w", err)
	}
	// The sample Fleet app's domain, as keyfob partner register would
	// remember it: its accounts' pages show the pairing link and QR code.
	if _, err := (fleetapp.Apps{Dir: d.Dir}).Update(ctx, sampleClient, func(a *fleetapp.App) { a.Domain = DemoAppDomain }); err != nil {
		return fmt.Errorf("cannot write the demo app's domain: %w", err)
	}
	return nil
}

// DemoAppDomain is the domain of the demo's Fleet app, for its pairing
// link (nothing is served there).
const DemoAppDomain = "app.example.com"

// samples are the demo's accounts, each starting from the preset the
// wizard would start from and changing only what differs.
func (d *Demo) samples() ([]sample, error) {
	day := 24 * time.Hour
	var presetErr error
	preset := func(name string, kind accounts.Kind, region string, change func(*accounts.Account)) accounts.Account {
		a, err := d.Presets(kind, region)
		presetErr = cmp.Or(presetErr, err)
		a.Name = name
		if change != nil {
			change(&a)
		}
		return a
	}
	fleetApp := func(a *accounts.Account) { a.ClientID = sampleClient }
	yScopes := []string{"openid", "offline_access", "vehicle_device_data", "vehicle_location", "vehicle_charging_cmds"}
	samples := []sample{
		{
			// vehicle_specs shows how the detail view marks a scope Tesla is
			// not known to grant third-party tokens.
			acct: preset("model-3", accounts.KindFleet, "na", func(a *accounts.Account) {
				fleetApp(a)
				a.RequestedScopes = append(a.RequestedScopes, "vehicle_specs")
			}),
			age: 3 * day,
		},
		{
			acct: preset("model-y", accounts.KindFleet, "eu", func(a *accounts.Account) {
				fleetApp(a)
				a.RequestedScopes = yScopes
			}),
			mint: sandbox.MintRequest{AccessTTL: 7 * time.Minute},
			age:  41 * day,
		},
		{
			acct: preset("powerwall", accounts.KindOwner, "na", nil),
			mint: sandbox.MintRequest{AccessTTL: -25 * time.Minute},
			age:  84 * day,
		},
		{
			acct: preset("fleet-partner", accounts.KindPartner, "eu", nil),
			mint: sandbox.MintRequest{ClientCredentials: true, AccessTTL: 2*time.Hour + 13*time.Minute},
		},
		{
			acct:     preset("old-app", accounts.KindLegacy, "na", nil),
			mint:     sandbox.MintRequest{Legacy: true, AccessTTL: -3 * time.Hour},
			age:      50 * day,
			kill:     true,
			lastFail: "the server rejected the refresh token (login_required); sign in again",
		},
		{
			// Logged in 86 days ago: its refresh token nears Tesla's three
			// months, so the list warns before it dies.
			acct: preset("cybertruck", accounts.KindFleet, "na", fleetApp),
			mint: sandbox.MintRequest{AccessTTL: 5*time.Hour + 20*time.Minute},
			age:  86 * day,
		},
		{
			acct: preset("homelab", accounts.KindCustom, "", func(a *accounts.Account) { a.Grant = accounts.GrantCode }),
			mint: sandbox.MintRequest{AccessTTL: 46 * time.Minute},
			age:  9 * day,
		},
	}
	return samples, presetErr
}

// mintSample gets the sample's tokens from the sandbox and fills in the
// account as a login would have, id and all.
func (d *Demo) mintSample(smp sample, id string, now time.Time) accounts.Account {
	s, day := d.Server, 24*time.Hour
	a := smp.acct
	smp.mint.ClientID, smp.mint.Scopes, smp.mint.Audience = a.ClientID, a.RequestedScopes, a.Audience
	if a.Kind == accounts.KindFleet || a.Kind == accounts.KindOwner {
		smp.mint.Email = presets.UserOf(s, a.Region) // tokens that agree with the sample's region
	}
	ts := s.Mint(smp.mint)
	a.ID = id
	g := accounts.Grant{
		TokenType: "Bearer", AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken,
		IDToken: ts.IDToken, Expiry: ts.Expiry, GrantedScopes: ts.Scopes,
	}
	if c, ok := oauth.Inspect(ts.AccessToken); ok {
		g.Subject, g.Email = c.Subject, c.Email
	}
	if c, ok := oauth.Inspect(ts.IDToken); ok && c.Email != "" {
		g.Email = c.Email
	}
	if !smp.mint.ClientCredentials { // a partner token acts for no user
		g.Email = cmp.Or(g.Email, s.User().Email)
		g.Subject = cmp.Or(g.Subject, s.User().Subject)
	}
	issued := ts.Expiry.Add(-8 * time.Hour)
	if smp.mint.Legacy {
		issued = ts.Expiry.Add(-45 * day)
	}
	if issued.After(now) {
		issued = now
	}
	a.Apply(g, issued)
	a.CreatedAt = now.Add(-smp.age - day)
	if a.RefreshToken != "" {
		a.RefreshObtainedAt = now.Add(-smp.age)
	}
	if smp.kill {
		s.KillRefreshToken(ts.RefreshToken)
		a.State, a.StateDetail = accounts.StateLoginRequired, smp.lastFail
		a.LastRefresh = &accounts.RefreshResult{At: now.Add(-2 * time.Hour), Error: smp.lastFail}
	}
	return a
}
