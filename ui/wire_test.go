package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// A refresh whose tokens correct the account's region says so in a toast
// (the engine tells it from inside the refresh; Update shows it), and the
// store holds the corrected region.
func TestRefreshRegionChangeIsAToast(t *testing.T) {
	t.Parallel()
	eu := sandbox.User{Email: "eu-driver@example.com", Region: "EU"}
	e := newFlowEnv(t, sandbox.Options{Users: []sandbox.User{eu}}, seedOne(accounts.KindFleet,
		sandbox.MintRequest{ClientID: sandbox.FleetClientID, Email: eu.Email, AccessTTL: -time.Minute}))
	e.d.Press("r")
	e.d.Until("the region toast", func() bool { return strings.Contains(plain(e.m), "car: region na → eu (its tokens say so)") })
	if got := e.stored(t)[0]; got.Region != "eu" || got.Audience != sandbox.TeslaFleetAPIBase("eu") || got.Endpoints.APIBaseURL != e.srv.FleetAPIBase("eu") {
		t.Fatalf("stored region %q audience %q API base %q", got.Region, got.Audience, got.Endpoints.APIBaseURL)
	}
}

// A sign-in whose tokens name another region than the one chosen says
// so in its toast.
func TestLoginRegionChangeIsInTheToast(t *testing.T) {
	t.Parallel()
	// Only the default user, of region na: the eu preset's login hint
	// finds no user of its region.
	e := newFlowEnv(t, sandbox.Options{Users: []sandbox.User{}}, nil)
	e.d.Press("n", "enter", "down", "enter") // fleet → eu, for a user of region na
	if !e.onForm() {
		t.Fatalf("not on the form:\n%s", plain(e.m))
	}
	e.d.Press("type:car", "enter")
	e.d.Until("the account to be saved", e.noModals)
	e.d.Until("the toast", func() bool { return strings.Contains(plain(e.m), "car signed in") })
	if !strings.Contains(plain(e.m), "region eu → na (its tokens say so)") {
		t.Errorf("the toast does not tell the region change:\n%s", plain(e.m))
	}
	if a, _ := e.storedNamed(t, "car"); a.Region != "na" {
		t.Errorf("stored region %q", a.Region)
	}
}

// The legacy revoke's 200 proves nothing: the result says the revocation
// is not confirmed and the tokens were kept, never that they were revoked.
func TestLegacyRevokeReadsHonestly(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindLegacy,
		sandbox.MintRequest{Legacy: true, ClientID: sandbox.LegacyClientID}))
	e.d.Press("x")
	if text := dialogText(e.m); !strings.Contains(text, "answers yes whether or not it revoked anything") || strings.Contains(text, "stops working") {
		t.Fatalf("the confirm dialog: %s", text)
	}
	e.d.Press("y")
	e.d.Until("the result", func() bool {
		_, ok := e.m.dialogs.Top().(*dialog.Confirm)
		return ok && strings.Contains(dialogText(e.m), "not confirmed")
	})
	text := dialogText(e.m)
	if !strings.Contains(text, "Revocation of car not confirmed") || !strings.Contains(text, "kept its tokens") ||
		strings.Contains(text, "Revoked car") {
		t.Fatalf("the result: %s", text)
	}
	if a := e.stored(t)[0]; a.State != accounts.StateRevoked || a.RefreshToken == "" || a.AccessToken == "" {
		t.Fatalf("stored %+v", a)
	}
}

// The wizard fills a fleet login's redirect URI from memory without
// reading a file in Update: the TUI keeps the settings it started with,
// and what a login remembers goes to config.json and to that copy.
func TestRedirectMemoryIsKeptInTheTUI(t *testing.T) {
	t.Parallel()
	engine := &oauth.Engine{}
	mgr := keyfobtest.Manager(t, nil, accounts.Options{Auth: engine})
	logins := &oauth.Logins{Engine: engine, Manager: mgr}
	cfg := accounts.Config{RedirectURIs: map[string]string{"app": "http://localhost:8976/callback"}}
	m := newModelFor(t, Options{Manager: mgr, Logins: logins, Config: cfg}, 100, 30)
	// The file says nothing: the answer comes from the settings in memory.
	if got := m.c.Logins.RedirectFor("app"); got != "http://localhost:8976/callback" {
		t.Fatalf("RedirectFor = %q", got)
	}
	logins.Remember("other", "http://localhost:9000/cb")
	if got := m.c.Logins.RedirectFor("other"); got != "http://localhost:9000/cb" {
		t.Fatalf("after Remember, RedirectFor = %q", got)
	}
	if c, err := mgr.Config(); err != nil || c.RedirectURIs["other"] != "http://localhost:9000/cb" {
		t.Fatalf("config.json: %+v, %v", c.RedirectURIs, err)
	}
}
