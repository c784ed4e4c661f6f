package fleetapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

var euUser = sandbox.User{Email: "fahrer@example.de", Region: "EU", FullName: "Fahrerin"}

// fleetAccount is a fleet account of region na on the sandbox holding a
// token minted for email with scopes.
func fleetAccount(s *sandbox.Server, email string, ttl time.Duration, scopes ...string) accounts.Account {
	ts := s.Mint(sandbox.MintRequest{Email: email, Scopes: scopes, AccessTTL: ttl})
	return accounts.Account{ID: "0000000a", Name: "car", Kind: accounts.KindFleet, Region: "na",
		Audience: s.FleetAPIBase("na"), AccessToken: ts.AccessToken, Expiry: ts.Expiry,
		RequestedScopes: []string{"openid", "user_data", "vehicle_cmds"}}
}

func TestCheckFleetOverHTTP2(t *testing.T) {
	s := sandbox.NewTest(t, sandbox.Options{TLS: true})
	c := &Client{HTTP: s.Client()}
	r, err := c.Check(context.Background(), fleetAccount(s, "", time.Hour, "openid", "user_data"))
	if err != nil || !r.OK || r.Problem != "" {
		t.Fatalf("check: %v %+v", err, r)
	}
	if len(r.Calls) != 2 || r.Calls[0].Name != "users/region" || r.Calls[1].Name != "users/me" {
		t.Fatalf("calls %+v", r.Calls)
	}
	for _, x := range r.Calls {
		if x.Status != 200 || x.HTTPVersion != "HTTP/2.0" || x.TLSVersion != "TLS 1.3" || x.Latency <= 0 || x.Error != "" {
			t.Errorf("call %+v", x)
		}
	}
	if r.Region == nil || !r.Region.Match || !r.Region.BaseMatch || r.Region.Tesla != "na" {
		t.Errorf("region %+v", r.Region)
	}
	if r.User == nil || r.User.Email != "driver@example.com" {
		t.Errorf("user %+v", r.User)
	}
	if r.Scopes.Source != "token" || strings.Join(r.Scopes.Granted, " ") != "openid user_data" ||
		strings.Join(r.Scopes.Missing, " ") != "vehicle_cmds" {
		t.Errorf("scopes %+v", r.Scopes)
	}
}

func TestCheckFleetFindsTheRightRegion(t *testing.T) {
	s := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{euUser}})
	c := &Client{}
	r, err := c.Check(context.Background(), fleetAccount(s, euUser.Email, time.Hour, "openid", "user_data"))
	var me *MismatchError
	if !errors.As(err, &me) || !errors.Is(err, ErrMisdirected) || !me.Misdirected || me.Region != "eu" || me.Base != s.FleetAPIBase("eu") {
		t.Fatalf("err %v", err)
	}
	if r.OK || r.Region == nil || r.Region.Match || r.Region.TeslaBase != s.FleetAPIBase("eu") || len(r.Calls) != 2 || r.Calls[1].Status != 421 {
		t.Fatalf("report %+v", r)
	}
	if !strings.Contains(err.Error(), `region eu, served at `+s.FleetAPIBase("eu")) {
		t.Errorf("message %q", err)
	}
	// Without user_data: no users/me, the mismatch alone.
	r, err = c.Check(context.Background(), fleetAccount(s, euUser.Email, time.Hour, "openid"))
	if !errors.As(err, &me) || me.Misdirected || len(r.Calls) != 1 || len(r.Notes) != 1 {
		t.Fatalf("no user_data: %v %+v", err, r)
	}
}

func TestCheckRefusedAndOffline(t *testing.T) {
	s := sandbox.NewTest(t, sandbox.Options{})
	c := &Client{}
	a := fleetAccount(s, "", -time.Minute, "openid", "user_data")
	r, err := c.Check(context.Background(), a)
	var ae *APIError
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ae) || ae.Status != 401 || r.OK || r.Calls[0].Status != 401 {
		t.Fatalf("expired: %v %+v", err, r)
	}
	if strings.Contains(err.Error(), a.AccessToken) {
		t.Fatal("the error holds the token")
	}
	a.AccessToken = ""
	if _, err := c.Check(context.Background(), a); !errors.Is(err, ErrNoAccessToken) {
		t.Fatalf("no token: %v", err)
	}
	a = fleetAccount(s, "", time.Hour, "openid")
	a.Audience = ""
	if _, err := c.Check(context.Background(), a); !errors.Is(err, ErrNoBase) {
		t.Fatalf("no audience: %v", err)
	}
	a = fleetAccount(s, "", time.Hour, "openid")
	s.Close()
	r, err = c.Check(context.Background(), a)
	if !errors.Is(err, ErrUnreachable) || r.Calls[0].Status != 0 || r.Calls[0].Error == "" {
		t.Fatalf("offline: %v %+v", err, r)
	}
}

// A partner token is proved at a partner endpoint: Tesla's user
// endpoints need a user, and the sandbox refuses a partner token there as
// Tesla does. A 412 (the app not registered in the region) names the
// command that registers it there.
func TestCheckPartnerUsesAPartnerEndpoint(t *testing.T) {
	s := sandbox.NewTest(t, sandbox.Options{})
	c := &Client{}
	p := accounts.Account{Name: "biz", Kind: accounts.KindPartner, Region: "eu", Audience: sandbox.TeslaFleetAPIBase("eu"),
		Endpoints: accounts.Endpoints{APIBaseURL: s.FleetAPIBase("eu") + "/"}, AccessToken: partnerToken(t, s, "eu")}
	r, err := c.Check(context.Background(), p)
	if err != nil || len(r.Calls) != 1 || r.Calls[0].Name != "partner_accounts/fleet_telemetry_errors" || r.Calls[0].Status != 200 ||
		r.Region != nil || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "users/region and users/me not called") ||
		r.APIBaseURL != s.FleetAPIBase("eu") || !strings.HasPrefix(r.Calls[0].URL, s.FleetAPIBase("eu")+"/api/1/") {
		t.Fatalf("partner: %v %+v", err, r)
	}
	s.SetRequireRegistration(true)
	r, err = c.Check(context.Background(), p)
	var ae *APIError
	if !errors.Is(err, ErrNotRegistered) || !errors.As(err, &ae) || ae.Region != "eu" || ae.Base != s.FleetAPIBase("eu") || r.OK ||
		!strings.Contains(err.Error(), "must be registered in the current region "+s.FleetAPIBase("eu")+"/") ||
		!strings.Contains(err.Error(), "keyfob partner register --region eu") {
		t.Fatalf("unregistered: %v", err)
	}
}

// An owner account is proved at its sign-in's userinfo and at the Owner
// API, whose answer is reported as it is: Tesla's 403 "forbidden, see
// https://developer.tesla.com/docs/fleet-api" (the address intact) by
// default, the vehicles once the sandbox's Owner API is open. A legacy
// account asks the Owner API alone; a custom one without userinfo has
// nothing to call.
func TestCheckOwnerCallsTheOwnerAPI(t *testing.T) {
	s := sandbox.NewTest(t, sandbox.Options{})
	c := &Client{}
	ts := s.Mint(sandbox.MintRequest{ClientID: "ownerapi", Scopes: []string{"openid", "email"}})
	owner := accounts.Account{Name: "home", Kind: accounts.KindOwner, Region: "na", AccessToken: ts.AccessToken,
		Endpoints: accounts.Endpoints{UserInfoURL: s.Issuer() + "/userinfo", APIBaseURL: s.URL()}}
	r, err := c.Check(context.Background(), owner)
	if !errors.Is(err, ErrOwnerAPIRefused) || len(r.Calls) != 2 || r.Calls[0].Name != "userinfo" || r.Calls[0].Status != 200 ||
		r.Calls[1].Name != "owner-api vehicles" || r.Calls[1].Status != 403 || r.User.Email != "driver@example.com" || r.OK ||
		!strings.Contains(err.Error(), "403 Forbidden (forbidden, see https://developer.tesla.com/docs/fleet-api)") {
		t.Fatalf("owner, closed: %v %+v", err, r)
	}
	s.SetOwnerAPIOpen(true)
	r, err = c.Check(context.Background(), owner)
	if err != nil || !r.OK || len(r.Calls) != 2 || r.Calls[1].Status != 200 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "1 vehicle") {
		t.Fatalf("owner, open: %v %+v", err, r)
	}

	legacy := accounts.Account{Name: "old", Kind: accounts.KindLegacy, Endpoints: accounts.Endpoints{BaseURL: s.URL()},
		AccessToken: s.Mint(sandbox.MintRequest{Legacy: true}).AccessToken}
	if r, err := c.Check(context.Background(), legacy); err != nil || len(r.Calls) != 1 || r.Calls[0].Name != "owner-api vehicles" {
		t.Fatalf("legacy: %v %+v", err, r)
	}
	custom := accounts.Account{Name: "x", Kind: accounts.KindCustom, AccessToken: ts.AccessToken}
	if _, err := c.Check(context.Background(), custom); !errors.Is(err, ErrNothingToCall) {
		t.Fatalf("nothing to call: %v", err)
	}
}

// Rate limits are honoured once for every call: a GET answered 429 waits
// the Retry-After (no longer than MaxWait) and asks once more, and both
// answers are in the report with the RateLimit-* headers; a longer wait
// comes back as ErrRateLimited saying when to try again; a POST is never
// asked twice.
func TestRateLimitsAreHonoured(t *testing.T) {
	s := sandbox.NewTest(t, sandbox.Options{})
	var waited []time.Duration
	c := &Client{Sleep: func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }}
	a := fleetAccount(s, "", time.Hour, "openid")
	s.SetAPIRateLimit(1, 2*time.Second)
	r, err := c.Check(context.Background(), a)
	if err != nil || len(r.Calls) != 2 || r.Calls[0].Status != 429 || r.Calls[0].RetryAfterS != 2 ||
		r.Calls[0].RateLimit["ratelimit-remaining"] != "0" || r.Calls[1].Status != 200 || r.Calls[1].WaitedS != 2 ||
		len(waited) != 1 || waited[0] != 2*time.Second {
		t.Fatalf("short wait: %v, waited %v, report %+v", err, waited, r)
	}

	c.MaxWait = time.Second
	s.SetAPIRateLimit(1, 2*time.Second)
	r, err = c.Check(context.Background(), a)
	var ae *APIError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter != 2*time.Second || len(r.Calls) != 1 || len(waited) != 1 ||
		!strings.Contains(err.Error(), "try again in 2s") || !strings.Contains(err.Error(), "ratelimit-limit 60, ratelimit-remaining 0, ratelimit-reset 2") {
		t.Fatalf("long wait: %v, waited %v, calls %+v", err, waited, r.Calls)
	}

	c.MaxWait = 0
	s.SetAPIRateLimit(1, time.Second)
	_, x, err := c.RegisterPartner(context.Background(), s.FleetAPIBase("na"), partnerToken(t, s, "na"), "app.example.com")
	if !errors.Is(err, ErrRateLimited) || len(x.Earlier) != 0 || len(waited) != 1 {
		t.Fatalf("POST: %v, waited %v, %+v", err, waited, x)
	}
}

// TestServerTextIsMadeSafe: a server echoing the token, or sending escape
// sequences, gets neither into an error.
func TestServerTextIsMadeSafe(t *testing.T) {
	const tok = "eyJhbGciOiJIUzI1NiJ9.short"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"bad \u001b[2J token ` + tok + ` / ` + url.QueryEscape(tok) + `"}`))
	}))
	defer srv.Close()
	_, x, err := (&Client{}).UsersRegion(context.Background(), srv.URL, tok)
	if err == nil || strings.Contains(err.Error(), tok) || strings.Contains(x.Error, tok) || strings.ContainsRune(err.Error(), 0x1b) {
		t.Fatalf("err %q", err)
	}
	if !strings.Contains(err.Error(), "400 Bad Request (bad token [redacted] / [redacted])") {
		t.Fatalf("err %q", err)
	}
}

// partnerToken runs the sandbox's client-credentials grant for region.
func partnerToken(t *testing.T, s *sandbox.Server, region string) string {
	t.Helper()
	resp, err := s.Client().PostForm(s.Issuer()+"/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {sandbox.PartnerClientID}, "client_secret": {sandbox.PartnerSecret},
		"audience": {s.FleetAPIBase(region)}, "scope": {"openid vehicle_cmds"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeBody(resp, &out); err != nil || out.AccessToken == "" {
		t.Fatalf("partner token: %v %d", err, resp.StatusCode)
	}
	return out.AccessToken
}

func TestCleanRemovesEscapes(t *testing.T) {
	if got := clean("a\x1b[31mred\x1b[0m \x1b]0;title\x07b\x1b]8;;x\x1b\\c\nd", 100, ""); got != "ared bc d" {
		t.Fatalf("clean = %q", got)
	}
}
