package sandbox

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// vehicleCommandHost is how Tesla's vehicle-command (pkg/account) picks
// the Fleet API host of a token: among the aud entries on a Tesla
// fleet-api host, the one containing the ou_code, else the last such
// entry, else North America's.
func vehicleCommandHost(aud []string, ouCode string) string {
	domain := "fleet-api.prd.na.vn.cloud.tesla.com"
	valid := regexp.MustCompile(`^[A-Za-z0-9-.]+$`)
	for _, u := range aud {
		if strings.HasPrefix(u, "https://auth.tesla.") {
			continue
		}
		d, _ := strings.CutPrefix(u, "https://")
		d, _ = strings.CutSuffix(d, "/")
		if !valid.MatchString(d) || !strings.HasPrefix(d, "fleet-api.") ||
			!(strings.HasSuffix(d, ".tesla.com") || strings.HasSuffix(d, ".tesla.cn")) {
			continue
		}
		domain = d
		if strings.Contains(d, "."+strings.ToLower(ouCode)+".") {
			return d
		}
	}
	return domain
}

// The sandbox's user tokens are shaped like Tesla's: vehicle-command
// derives each user's region host from them, and users/region names
// Tesla's base to a client that asked for a Tesla audience (the sandbox's
// own to one that asked for it).
func TestTokensNameTheRegionLikeTesla(t *testing.T) {
	s := NewTest(t, Options{Users: []User{euUser, cnUser}})
	for _, c := range []struct{ email, host string }{
		{"", "fleet-api.prd.na.vn.cloud.tesla.com"},
		{euUser.Email, "fleet-api.prd.eu.vn.cloud.tesla.com"},
		{cnUser.Email, "fleet-api.prd.cn.vn.cloud.tesla.cn"},
	} {
		ts := s.Mint(MintRequest{Email: c.email, Scopes: []string{"openid"}, Audience: TeslaFleetAPIBase("na")})
		cl := claims(t, ts.AccessToken)
		ou, _ := cl["ou_code"].(string)
		if got := vehicleCommandHost(strs(cl["aud"]), ou); got != c.host {
			t.Errorf("%q: vehicle-command would call %s, want %s (aud %v)", c.email, got, c.host, cl["aud"])
		}
		r := get(t, s.FleetAPIBase("na")+"/api/1/users/region", "Authorization", "Bearer "+ts.AccessToken)
		if resp, _ := r.json(t)["response"].(map[string]any); resp["fleet_api_base_url"] != "https://"+c.host {
			t.Errorf("%q: users/region %s", c.email, r.body)
		}
	}
	loopback := s.Mint(MintRequest{Email: euUser.Email, Scopes: []string{"openid"}, Audience: s.FleetAPIBase("na")}).AccessToken
	r := get(t, s.FleetAPIBase("na")+"/api/1/users/region", "Authorization", "Bearer "+loopback)
	if resp, _ := r.json(t)["response"].(map[string]any); resp["fleet_api_base_url"] != s.FleetAPIBase("eu") {
		t.Errorf("a client of the sandbox's own address: %s", r.body)
	}
}

// With RequireRegistration, the Fleet API refuses an app's tokens in a
// region where its domain is not registered, in Tesla's words and with the
// region's address; registering opens the region.
func TestUnregisteredAppGets412(t *testing.T) {
	s := NewTest(t, Options{RequireRegistration: true})
	tok := partnerToken(t, s, s.URL())
	errors := s.FleetAPIBase("eu") + "/api/1/partner_accounts/fleet_telemetry_errors"
	wantBody(t, "unregistered", get(t, errors, "Authorization", "Bearer "+tok), 412,
		`{"error":"Account `+PartnerClientID+` must be registered in the current region `+s.FleetAPIBase("eu")+
			`/, please see https://developer.tesla.com/docs/fleet-api/endpoints/partner-endpoints#register"}`)
	s.registerPartner(partnerKey{"eu", "app.example.com"}, PartnerClientID, make([]byte, 65))
	wantBody(t, "registered", get(t, errors, "Authorization", "Bearer "+tok), 200, `{"response":{"fleet_telemetry_errors":[]}}`)
	if r := get(t, s.FleetAPIBase("na")+"/api/1/partner_accounts/fleet_telemetry_errors", "Authorization", "Bearer "+tok); r.status != 412 {
		t.Errorf("another region: %d %s", r.status, r.body)
	}
	s.SetRequireRegistration(false)
	if r := get(t, s.FleetAPIBase("na")+"/api/1/partner_accounts/fleet_telemetry_errors", "Authorization", "Bearer "+tok); r.status != 200 {
		t.Errorf("knob off: %d %s", r.status, r.body)
	}
	user := s.Mint(MintRequest{Scopes: []string{"openid"}}).AccessToken
	wantBody(t, "user token", get(t, errors, "Authorization", "Bearer "+user), 403, `{"error":"partner token required"}`)
}

// SetAPIRateLimit answers the next API requests 429 with Retry-After and
// the RateLimit-* headers, then lets them through.
func TestAPIRateLimit(t *testing.T) {
	s := NewTest(t, Options{})
	tok := s.Mint(MintRequest{Scopes: []string{"openid"}}).AccessToken
	s.SetAPIRateLimit(2, 1500*time.Millisecond)
	for _, u := range []string{s.FleetAPIBase("na") + "/api/1/users/region", s.URL() + "/api/1/vehicles"} {
		r := get(t, u, "Authorization", "Bearer "+tok)
		if r.status != 429 || r.header.Get("Retry-After") != "2" || r.header.Get("RateLimit-Remaining") != "0" ||
			r.header.Get("RateLimit-Reset") != "2" || r.header.Get("RateLimit-Limit") == "" {
			t.Errorf("%s: %d %v %s", u, r.status, r.header, r.body)
		}
	}
	if r := get(t, s.FleetAPIBase("na")+"/api/1/users/region", "Authorization", "Bearer "+tok); r.status != 200 {
		t.Errorf("after the limit: %d %s", r.status, r.body)
	}
}

// The Owner API answers owner tokens 403 forbidden by default, as Tesla
// does since 2026-06-12, and their vehicles once SetOwnerAPIOpen.
func TestOwnerAPIIsClosing(t *testing.T) {
	s := NewTest(t, Options{})
	owner := s.Mint(MintRequest{ClientID: ownerClientID, Scopes: []string{"openid", "email", "offline_access"}}).AccessToken
	vehicles := s.URL() + "/api/1/vehicles"
	wantBody(t, "closed", get(t, vehicles, "Authorization", "Bearer "+owner), 403,
		`{"error":"forbidden, see https://developer.tesla.com/docs/fleet-api"}`)
	s.SetOwnerAPIOpen(true)
	if r := get(t, vehicles, "Authorization", "Bearer "+owner); r.status != 200 || !strings.Contains(string(r.body), `"vin"`) {
		t.Errorf("open: %d %s", r.status, r.body)
	}
	wantBody(t, "partner token", get(t, vehicles, "Authorization", "Bearer "+partnerToken(t, s, s.URL())), 403,
		`{"error":"user context required"}`)
	if r := get(t, vehicles); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
}
