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
			if kind == accounts.KindFleet && a.Audience != srv.FleetAPIBase("cn") {
				t.Errorf("audience %q", a.Audience)
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
			if stored.Region != "cn" || stored.AccessToken != refreshed.Account.AccessToken || !refreshed.Requested ||
				srv.Stats().Refreshes != 1 {
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

// A refresh whose token names another region of the same hosts comes
// back with the corrected region in its grant, and RegionChangeOf words
// the move; one that names the other hosts' region is not applied and is
// reported refused.
func TestRefreshReportsTheTokensRegion(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{europeUser}})
	e := &oauth.Engine{}
	a := minted(t, e, srv)
	ts := srv.Mint(sandbox.MintRequest{Email: europeUser.Email, Scopes: []string{"openid", "offline_access"}})
	a.AccessToken, a.RefreshToken = ts.AccessToken, ts.RefreshToken
	refreshed := func(a accounts.Account) (accounts.Account, accounts.Grant) {
		t.Helper()
		g, err := e.Refresh(context.Background(), a)
		if err != nil || g.AccessToken == "" {
			t.Fatalf("refresh: %v", err)
		}
		after := a
		after.Apply(g, time.Now())
		return after, g
	}
	after, g := refreshed(a)
	want := oauth.RegionChange{From: "na", To: "eu", FromAudience: a.Audience, ToAudience: srv.FleetAPIBase("eu")}
	if c := oauth.RegionChangeOf(a, after); g.Region != "eu" || c != want || !strings.Contains(c.String(), "region eu, not na") {
		t.Fatalf("grant region %q, change %+v", g.Region, c)
	}
	// Agreeing again: no change.
	a = after
	if after, _ := refreshed(a); oauth.RegionChangeOf(a, after).Changed() {
		t.Fatalf("agreeing refresh: change %+v", oauth.RegionChangeOf(a, after))
	}

	// An account that says cn holding a token of the .com hosts' region:
	// reported refused, not applied, and the tokens still come back.
	a.Region = "cn"
	a.RefreshToken = srv.Mint(sandbox.MintRequest{Email: europeUser.Email, Scopes: []string{"offline_access"}}).RefreshToken
	after, g = refreshed(a)
	c := oauth.RegionChangeOf(a, after)
	if g.Region != "" || after.Region != "cn" || !errors.Is(c.Refused, oauth.ErrRegionHosts) || !strings.Contains(c.String(), "log in again") {
		t.Fatalf("across hosts: grant region %q, change %+v", g.Region, c)
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
	if stored.Region != "eu" || stored.Audience != srv.FleetAPIBase("eu") || saved.Account.Region != "eu" ||
		saved.RegionChange.From != "na" || saved.RegionChange.To != "eu" {
		t.Fatalf("stored %+v, saved change %+v", stored, saved.RegionChange)
	}
}
