package demo

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui"
)

func startDemo(t *testing.T) *Demo {
	t.Helper()
	d, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d.BrowseDelay = 0
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestStartSeedsEveryState(t *testing.T) {
	d := startDemo(t)
	fi, err := os.Stat(d.Dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("demo dir %s: %v, mode %v; want 0700", d.Dir, err, fi.Mode().Perm())
	}
	accts, err := d.Manager.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) < 4 || len(accts) > 7 {
		t.Fatalf("%d sample accounts; want 4 to 7", len(accts))
	}
	now := time.Now()
	health := map[accounts.Health]int{}
	kinds := map[accounts.Kind]bool{}
	regions := map[string]bool{}
	expiringSoon, refreshEnding := false, false
	for _, a := range accts {
		refreshEnding = refreshEnding || (a.Health(now) == accounts.HealthValid && a.RefreshExpiresSoon(now))
		health[a.Health(now)]++
		kinds[a.Kind] = true
		regions[a.Region] = true
		if left := a.Expiry.Sub(now); left > 0 && left < 15*time.Minute {
			expiringSoon = true
		}
	}
	for _, h := range []accounts.Health{accounts.HealthValid, accounts.HealthExpiring, accounts.HealthExpired, accounts.HealthLoginRequired} {
		if health[h] == 0 {
			t.Errorf("no sample account is %s: %v", h, health)
		}
	}
	if !expiringSoon {
		t.Error("no sample account expires within a few minutes")
	}
	if !refreshEnding {
		t.Error("no valid sample account has a refresh token near its end")
	}
	if len(kinds) < 4 || len(regions) < 2 {
		t.Errorf("samples cover kinds %v and regions %v; want variety", kinds, regions)
	}
	cfg, err := d.Manager.Config()
	if err != nil || cfg.AutoRefreshOn() {
		t.Errorf("the demo config should start with auto-refresh off: %+v, %v", cfg, err)
	}
}

// Every refreshable sample really refreshes against the sandbox, and the
// login-required one is really dead there (the Manager does not even ask).
func TestSamplesWorkAgainstTheSandbox(t *testing.T) {
	d := startDemo(t)
	ctx := context.Background()
	accts, _ := d.Manager.List(ctx)
	for _, a := range accts {
		r, err := d.Manager.Refresh(ctx, a, accounts.Explicit)
		switch {
		case a.State == accounts.StateLoginRequired:
			if !errors.Is(err, accounts.ErrLoginRequired) || r.Requested {
				t.Errorf("%s: the login-required sample: %v, requested %v", a.Name, err, r.Requested)
			}
			if _, err := d.Engine.Refresh(ctx, a); !errors.Is(err, accounts.ErrLoginRequired) {
				t.Errorf("%s: the sandbox took the login-required sample's refresh token: %v", a.Name, err)
			}
		case err != nil || !r.Requested:
			t.Errorf("%s: %v, requested %v", a.Name, err, r.Requested)
		}
	}
}

func TestCloseRemovesEverything(t *testing.T) {
	d, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	url := d.Server.URL()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Errorf("the demo directory survived Close: %v", err)
	}
	if _, err := d.Browse(context.Background(), url+"/oauth2/v3/authorize"); err == nil {
		t.Error("the sandbox still answers after Close")
	}
}

// The presets point every kind at the sandbox, so the wizard's defaults
// sign in there: a fleet login completes through Browse and the loopback
// listener; an owner login lands on a tesla:// address to paste.
func TestPresetsAndBrowseSignIn(t *testing.T) {
	d := startDemo(t)
	ctx := context.Background()
	for _, k := range accounts.Kinds {
		a, err := d.Presets(k, "eu")
		if err != nil {
			t.Fatal(err)
		}
		u := a.Endpoints.TokenURL + a.Endpoints.BaseURL
		if !strings.HasPrefix(u, d.Server.URL()) {
			t.Errorf("%s preset talks to %q, not the sandbox", k, u)
		}
		if k != accounts.KindLegacy {
			a.Name = "x"
			if k == accounts.KindFleet || k == accounts.KindCustom {
				// These two must be able to log in with the defaults alone.
				if err := oauth.Validate(oauth.PurposeLogin, a); err != nil {
					t.Errorf("%s preset does not validate: %v", k, err)
				}
			}
		}
	}

	fleet, _ := d.Presets(accounts.KindFleet, "na")
	flow, err := d.Engine.StartCodeFlow(ctx, fleet)
	if err != nil {
		t.Fatal(err)
	}
	defer flow.Close()
	done := make(chan error, 1)
	go func() { _, err := flow.Wait(ctx); done <- err }()
	if _, err := d.Browse(ctx, flow.AuthURL()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the loopback login did not complete: %v", err)
	}

	owner, _ := d.Presets(accounts.KindOwner, "na")
	of, err := d.Engine.StartCodeFlow(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	landed, err := d.Browse(ctx, of.AuthURL())
	if err != nil || !strings.HasPrefix(landed, "tesla://auth/callback?") {
		t.Fatalf("owner login landed on %q, %v", landed, err)
	}
	got, err := of.Complete(ctx, landed)
	if err != nil || got.RefreshToken == "" {
		t.Fatalf("completing the owner login: %v", err)
	}
}

func TestOptionsFillsTheDemoParts(t *testing.T) {
	d := startDemo(t)
	o := d.Options(ui.Options{Theme: "mono"})
	if o.Manager != d.Manager || o.Logins == nil || o.Logins.Presets == nil || o.Logins.Manager != d.Manager || o.Browse == nil || o.Theme != "mono" || o.Config.AutoRefreshOn() {
		t.Errorf("Options did not combine the demo with the caller's options: %+v", o)
	}
	if !strings.Contains(o.Banner, strings.TrimPrefix(d.Server.URL(), "http://")) {
		t.Errorf("the banner %q does not name the sandbox", o.Banner)
	}
	// The password the banner names is the one the demo's password
	// logins ask for, and it signs one in.
	_, password, ok := strings.Cut(o.Banner, "legacy and password logins take ")
	if !ok {
		t.Fatalf("the banner %q does not say which logins take its password", o.Banner)
	}
	legacy, err := d.Presets(accounts.KindLegacy, "na")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Engine.LoginWith(context.Background(), legacy, oauth.Credentials{Email: legacy.Email, Password: password}, oauth.LoginOptions{}); err != nil {
		t.Errorf("a legacy login with the banner's password %q: %v", password, err)
	}
	mine := &accounts.Manager{}
	if o := d.Options(ui.Options{Manager: mine}); o.Manager != mine || o.Logins.Manager != mine {
		t.Error("Options replaced the caller's manager")
	}
}
