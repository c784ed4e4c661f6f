package oauth_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// Sandbox users outside North America.
var (
	chinaUser  = sandbox.User{Email: "cn-driver@example.com", Region: "CN"}
	europeUser = sandbox.User{Email: "eu-driver@example.com", Region: "EU"}
)

// sandboxLogins is the login path over a fresh store whose presets point
// at srv's main host (through discovery), as keyfob demo does.
func sandboxLogins(t *testing.T, srv *sandbox.Server) (*oauth.Logins, *accounts.Manager) {
	t.Helper()
	l, m := newLogins(t, srv)
	l.Presets = func(k accounts.Kind, region string) (accounts.Account, error) {
		return preset(t, l.Engine, srv, k, region), nil
	}
	return l, m
}

// signIn begins a prepared login and plays the browser: a loopback flow
// completes by itself; a tesla:// address is pasted.
func signIn(t *testing.T, srv *sandbox.Server, l *oauth.Logins, r oauth.Request) (oauth.Saved, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := l.Prepare(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	at, err := l.Begin(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	if at.Flow().Loopback() {
		go func() { _, _ = srv.SignIn(ctx, at.Flow().AuthURL()) }()
		return at.Finish(ctx)
	}
	landed, err := srv.SignIn(ctx, at.Flow().AuthURL())
	if err != nil {
		t.Fatal(err)
	}
	return at.Complete(ctx, landed)
}

// A China user who signs in through the main host is sent to the China
// host (the callback's issuer says so): the code is exchanged there, the
// account keeps that host for every later step, and its region is cn.
func TestChinaUserSignsInThroughTheMainHost(t *testing.T) {
	for _, kind := range []accounts.Kind{accounts.KindOwner, accounts.KindFleet} {
		t.Run(string(kind), func(t *testing.T) {
			srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{chinaUser}})
			l, m := sandboxLogins(t, srv)
			r := oauth.Request{Kind: kind, Region: "na", Inputs: oauth.Inputs{oauth.FieldEmail: chinaUser.Email}}
			if kind == accounts.KindFleet {
				r.Inputs[oauth.FieldClientID] = sandbox.FleetClientID
			}
			saved, err := signIn(t, srv, l, r)
			if err != nil {
				t.Fatal(err)
			}
			a := saved.Account
			ep := a.Endpoints
			for _, u := range []string{ep.AuthURL, ep.TokenURL, ep.RevokeURL, ep.UserInfoURL} {
				if !strings.HasPrefix(u, srv.CNIssuer()+"/") {
					t.Errorf("an endpoint stayed on the main host: %+v", ep)
				}
			}
			if a.Region != "cn" || a.Email != chinaUser.Email || saved.RegionChange.To != "cn" || saved.RegionChange.From != "na" {
				t.Errorf("account %+v, change %+v", a, saved.RegionChange)
			}
			if kind == accounts.KindFleet && (a.Audience != sandbox.TeslaFleetAPIBase("cn") || a.Endpoints.APIBaseURL != srv.FleetAPIBase("cn")) {
				t.Errorf("audience %q, API base %q", a.Audience, a.Endpoints.APIBaseURL)
			}
			if info, _ := srv.AccessToken(a.AccessToken); !info.China {
				t.Error("the code was not exchanged at the China host")
			}
			// The sandbox refuses a China refresh token anywhere else.
			refreshed, err := m.Refresh(context.Background(), a, accounts.Explicit)
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			stored, _ := m.Find(context.Background(), a.ID)
			if stored.Region != "cn" || stored.AccessToken != refreshed.Account.AccessToken || srv.Stats().Refreshes != 1 {
				t.Errorf("stored %+v", stored)
			}
			rev, err := l.Engine.Revoke(context.Background(), stored)
			if err != nil || rev.Outcome != accounts.RevokedAtServer || srv.RefreshTokenLive(stored.RefreshToken) ||
				!strings.HasPrefix(rev.ConsentURL, "https://auth.tesla.cn/user/revoke/consent?") {
				t.Errorf("revoke %+v %v", rev, err)
			}
		})
	}
}

// An issuer that is neither the host the login was sent to nor its Tesla
// (or loopback) counterpart means the answer is not this login's: its code
// goes nowhere.
func TestForeignIssuerIsRefused(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	l, _ := sandboxLogins(t, srv)
	ctx := context.Background()
	p, err := l.Prepare(ctx, oauth.Request{Kind: accounts.KindOwner})
	if err != nil {
		t.Fatal(err)
	}
	at, err := l.Begin(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	landed, err := srv.SignIn(ctx, at.Flow().AuthURL())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(landed)
	q := u.Query()
	q.Set("issuer", "https://auth.evil.example/oauth2/v3")
	u.RawQuery = q.Encode()
	if _, err := at.Complete(ctx, u.String()); err == nil || !strings.Contains(err.Error(), "auth.evil.example") {
		t.Fatalf("foreign issuer: %v", err)
	}
	if st := srv.Stats(); st.CodeExchanges != 0 {
		t.Fatalf("the code went somewhere: %+v", st)
	}
	// The real answer still works.
	if _, err := at.Complete(ctx, landed); err != nil {
		t.Fatal(err)
	}
}

// applied is a once a refresh's grant g is stored, as the Manager does.
func applied(a accounts.Account, g accounts.Grant) accounts.Account {
	a.Apply(g, time.Now())
	return a
}

// A refresh whose token names another region of the same hosts carries the
// corrected region in its grant, and the account before and after says so
// (RegionChangeOf, what the faces show); one that names the other hosts'
// region is reported refused.
func TestRefreshReportsTheTokensRegion(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{europeUser}})
	e := &oauth.Engine{}
	a := minted(t, e, srv)
	ts := srv.Mint(sandbox.MintRequest{Email: europeUser.Email, Scopes: []string{"openid", "offline_access"}})
	a.AccessToken, a.RefreshToken = ts.AccessToken, ts.RefreshToken
	g, err := e.Refresh(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	want := oauth.RegionChange{From: "na", To: "eu", FromAudience: a.Audience, ToAudience: sandbox.TeslaFleetAPIBase("eu"),
		FromAPIBase: srv.FleetAPIBase("na"), ToAPIBase: srv.FleetAPIBase("eu")}
	if c := oauth.RegionChangeOf(a, applied(a, g)); g.Region != "eu" || c != want || !strings.Contains(c.String(), "region eu, not na") {
		t.Fatalf("grant region %q, change %+v", g.Region, c)
	}
	// Agreeing again: no change.
	if g.Audience != want.ToAudience || g.APIBaseURL != want.ToAPIBase {
		t.Fatalf("grant audience %q, API base %q", g.Audience, g.APIBaseURL)
	}
	a.Region, a.Audience, a.Endpoints.APIBaseURL, a.RefreshToken = "eu", g.Audience, g.APIBaseURL, g.RefreshToken
	g, err = e.Refresh(context.Background(), a)
	if c := oauth.RegionChangeOf(a, applied(a, g)); err != nil || c.Changed() {
		t.Fatalf("agreeing refresh: %v, change %+v", err, c)
	}

	// An account that says cn holding a token of the .com hosts' region:
	// reported refused, not applied, and the tokens still come back.
	a.Region = "cn"
	a.RefreshToken = srv.Mint(sandbox.MintRequest{Email: europeUser.Email, Scopes: []string{"offline_access"}}).RefreshToken
	g, err = e.Refresh(context.Background(), a)
	c := oauth.RegionChangeOf(a, applied(a, g))
	if err != nil || g.AccessToken == "" || g.Region != "" || !errors.Is(c.Refused, oauth.ErrRegionHosts) ||
		!strings.Contains(c.String(), "log in again") {
		t.Fatalf("across hosts: %v, grant region %q, change %+v", err, g.Region, c)
	}
}

// An import learns the region from the first refresh and corrects the
// stored account.
func TestImportCorrectsTheRegion(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{europeUser}})
	l, m := sandboxLogins(t, srv)
	rt := srv.Mint(sandbox.MintRequest{Email: europeUser.Email, Scopes: []string{"openid", "offline_access"}}).RefreshToken
	p, err := l.Prepare(context.Background(), oauth.Request{Purpose: oauth.PurposeImport, Kind: accounts.KindFleet, Region: "na",
		Inputs: oauth.Inputs{oauth.FieldClientID: sandbox.FleetClientID, oauth.FieldRefreshToken: rt}})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := l.Import(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := m.Find(context.Background(), saved.Account.ID)
	if stored.Region != "eu" || stored.Audience != sandbox.TeslaFleetAPIBase("eu") || stored.Endpoints.APIBaseURL != srv.FleetAPIBase("eu") || saved.Account.Region != "eu" ||
		saved.RegionChange.From != "na" || saved.RegionChange.To != "eu" {
		t.Fatalf("stored %+v, saved change %+v", stored, saved.RegionChange)
	}
}

// Tesla's tokens list several Fleet API audiences, North America's first
// even for a European user (ou_code EU): a European user who signs in with
// the default region gets region eu and Europe's Fleet API base — the aud
// entry whose host names the ou_code, as vehicle-command picks it — and the
// sandbox's Europe address to call.
func TestEuropeanUserGetsEuropesAudience(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{europeUser}})
	l, m := sandboxLogins(t, srv)
	saved, err := signIn(t, srv, l, oauth.Request{Kind: accounts.KindFleet,
		Inputs: oauth.Inputs{oauth.FieldEmail: europeUser.Email, oauth.FieldClientID: sandbox.FleetClientID}})
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := oauth.Inspect(saved.Account.AccessToken)
	if len(claims.Audience) < 2 || claims.Audience[0] != sandbox.TeslaFleetAPIBase("na") {
		t.Fatalf("the sandbox's token lists %v: it does not test the first-entry mistake", claims.Audience)
	}
	stored, _ := m.Find(context.Background(), saved.Account.ID)
	if stored.Region != "eu" || stored.Audience != sandbox.TeslaFleetAPIBase("eu") ||
		stored.Endpoints.APIBaseURL != srv.FleetAPIBase("eu") || oauth.APIBase(stored) != srv.FleetAPIBase("eu") {
		t.Fatalf("region %q, audience %q, API base %q", stored.Region, stored.Audience, stored.Endpoints.APIBaseURL)
	}
	if c := saved.RegionChange; c.From != "na" || c.To != "eu" || c.ToAudience != sandbox.TeslaFleetAPIBase("eu") {
		t.Errorf("change %+v", c)
	}
}

// An account already in region eu whose audience stayed North America's
// (what the first-entry mistake left behind) gets Europe's at its next
// refresh, and the faces hear why.
func TestRefreshRealignsTheAudienceOfTheRegion(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{europeUser}})
	e := &oauth.Engine{}
	a := minted(t, e, srv)
	ts := srv.Mint(sandbox.MintRequest{Email: europeUser.Email, Scopes: []string{"openid", "offline_access"}})
	a.Region, a.AccessToken, a.RefreshToken = "eu", ts.AccessToken, ts.RefreshToken
	a.Endpoints.APIBaseURL = srv.FleetAPIBase("eu")
	g, err := e.Refresh(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	c := oauth.RegionChangeOf(a, applied(a, g))
	if g.Region != "" || g.Audience != sandbox.TeslaFleetAPIBase("eu") || g.APIBaseURL != "" ||
		!strings.Contains(c.String(), "region eu, whose Fleet API address is https://fleet-api.prd.eu.vn.cloud.tesla.com") {
		t.Fatalf("grant region %q audience %q API base %q, change %v", g.Region, g.Audience, g.APIBaseURL, c)
	}
}

// APIBase is where keyfob calls an account's API: its own API base when
// set, else the audience (fleet, partner), the region's Owner API
// (owner), the owner-api base (legacy); a custom account has none.
func TestAPIBase(t *testing.T) {
	cases := []struct {
		a    accounts.Account
		want string
	}{
		{accounts.Account{Kind: accounts.KindFleet, Audience: "https://fleet-api.prd.eu.vn.cloud.tesla.com/"}, "https://fleet-api.prd.eu.vn.cloud.tesla.com"},
		{accounts.Account{Kind: accounts.KindFleet, Audience: "https://fleet-api.prd.eu.vn.cloud.tesla.com",
			Endpoints: accounts.Endpoints{APIBaseURL: "http://127.0.0.1:8765/fleet-api/eu"}}, "http://127.0.0.1:8765/fleet-api/eu"},
		{accounts.Account{Kind: accounts.KindPartner, Audience: "https://fleet-api.prd.cn.vn.cloud.tesla.cn"}, "https://fleet-api.prd.cn.vn.cloud.tesla.cn"},
		{accounts.Account{Kind: accounts.KindOwner, Region: "na"}, "https://owner-api.teslamotors.com"},
		{accounts.Account{Kind: accounts.KindOwner, Region: "cn"}, "https://owner-api.vn.cloud.tesla.cn"},
		{accounts.Account{Kind: accounts.KindLegacy, Endpoints: accounts.Endpoints{BaseURL: "https://owner.example/"}}, "https://owner.example"},
		{accounts.Account{Kind: accounts.KindCustom, Audience: "api://x"}, ""},
	}
	for _, tc := range cases {
		if got := oauth.APIBase(tc.a); got != tc.want {
			t.Errorf("%s %+v: %q, want %q", tc.a.Kind, tc.a.Endpoints, got, tc.want)
		}
	}
	for base, region := range map[string]string{
		"https://fleet-api.prd.eu.vn.cloud.tesla.com": "eu", "https://fleet-api.prd.cn.vn.cloud.tesla.cn/": "cn",
		"http://127.0.0.1:8765/fleet-api/na": "na", "https://proxy.example/eu": "", "https://example.com": "",
	} {
		if got := oauth.RegionOfBase(base); got != region {
			t.Errorf("RegionOfBase(%q) = %q, want %q", base, got, region)
		}
	}
}
