package sandbox

import (
	"net/url"
	"testing"
	"time"
)

// partnerToken runs the client_credentials grant of PartnerClientID.
func partnerToken(t *testing.T, s *Server, base string) string {
	t.Helper()
	r := postForm(t, base+"/oauth2/v3/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {PartnerClientID},
		"client_secret": {PartnerSecret}, "audience": {s.FleetAPIBase("na")}, "scope": {"openid user_data vehicle_cmds"}})
	if r.status != 200 {
		t.Fatalf("partner token: %d %s", r.status, r.body)
	}
	return r.str(t, "access_token")
}

// wantBody fails unless r has status and exactly body.
func wantBody(t *testing.T, what string, r response, status int, body string) {
	t.Helper()
	if r.status != status || string(r.body) != body {
		t.Errorf("%s: %d %s, want %d %s", what, r.status, r.body, status, body)
	}
}

func TestFleetUsersRegionAnswersAtEveryBase(t *testing.T) {
	s := NewTest(t, Options{Users: []User{euUser, cnUser}})
	for _, c := range []struct{ email, region string }{{"", "na"}, {euUser.Email, "eu"}, {cnUser.Email, "cn"}} {
		tok := s.Mint(MintRequest{Email: c.email, Scopes: []string{"openid"}}).AccessToken
		for _, base := range []string{s.FleetAPIBase("NA"), s.FleetAPIBase("eu"), s.FleetAPIBase("cn")} {
			r := get(t, base+"/api/1/users/region", "Authorization", "Bearer "+tok)
			want := `{"response":{"fleet_api_base_url":"` + s.FleetAPIBase(c.region) + `","region":"` + c.region + `"}}`
			wantBody(t, c.region+" at "+base, r, 200, want)
		}
	}
	// A partner token has no user: Tesla's user endpoints refuse it.
	r := get(t, s.FleetAPIBase("eu")+"/api/1/users/region", "Authorization", "Bearer "+partnerToken(t, s, s.URL()))
	wantBody(t, "partner token", r, 403, `{"error":"user context required"}`)
	if st := s.Stats(); st.FleetAPI != 9 || st.UserInfo != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestFleetUsersMe(t *testing.T) {
	clk := newClock()
	s := NewTest(t, Options{Now: clk.Now, Users: []User{euUser}})
	eu := s.Users()[1]
	withData := s.Mint(MintRequest{Email: eu.Email, Scopes: []string{"openid", "user_data"}, AccessTTL: time.Hour}).AccessToken
	without := s.Mint(MintRequest{Email: eu.Email, Scopes: []string{"openid", "vehicle_device_data"}}).AccessToken
	me := func(region, tok string) response {
		return get(t, s.FleetAPIBase(region)+"/api/1/users/me", "Authorization", "Bearer "+tok)
	}
	wantBody(t, "user_data at home", me("eu", withData), 200,
		`{"response":{"email":"fahrer@example.de","full_name":"Fahrerin","profile_image_url":""}}`)
	wantBody(t, "no user_data", me("eu", without), 403, `{"error":"Unauthorized missing scopes"}`)
	wantBody(t, "out of region", me("na", withData), 421, `{"error":"user out of region, use base URL: `+s.FleetAPIBase("eu")+
		`, see https://developer.tesla.com/docs/fleet-api/getting-started/regions-countries"}`)
	wantBody(t, "partner token", me("eu", partnerToken(t, s, s.URL())), 403, `{"error":"user context required"}`)
	for name, header := range map[string]string{"none": "", "unknown": "Bearer nope", "basic": "Basic " + withData} {
		r := get(t, s.FleetAPIBase("eu")+"/api/1/users/me", "Authorization", header)
		wantBody(t, name, r, 401, `{"error":"invalid_token"}`)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", name)
		}
	}
	// The root users/me stays as it was: no scope needed, any region.
	if r := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+without); r.status != 200 {
		t.Errorf("root users/me: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.FleetAPI != 1 || st.UserInfo != 2 {
		t.Errorf("stats %+v", st)
	}
	clk.Advance(time.Hour)
	wantBody(t, "expired", me("eu", withData), 401, `{"error":"invalid_token"}`)
}

func TestFleetRoutes(t *testing.T) {
	s := NewTest(t, Options{})
	tok := s.Mint(MintRequest{Scopes: []string{"user_data"}}).AccessToken
	for _, p := range []string{"/fleet-api/xx/api/1/users/region", "/fleet-api/NA/api/1/users/region", "/fleet-api/na/api/1/vehicles"} {
		if r := get(t, s.URL()+p, "Authorization", "Bearer "+tok); r.status != 404 || r.str(t, "error") != "not_found" {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	r := postForm(t, s.FleetAPIBase("na")+"/api/1/users/region", url.Values{})
	if r.status != 405 || r.header.Get("Allow") != "GET" {
		t.Errorf("POST users/region: %d %v", r.status, r.header)
	}
	// The China host serves the same Fleet API paths.
	if r := get(t, s.CNURL()+"/fleet-api/na/api/1/users/me", "Authorization", "Bearer "+tok); r.status != 200 {
		t.Errorf("at the China host: %d %s", r.status, r.body)
	}
}
