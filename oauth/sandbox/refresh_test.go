package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRefreshRotatesSingleUse(t *testing.T) {
	s := NewTest(t, Options{})
	const audience = "https://fleet-api.example.test"
	first := login(t, s, FleetClientID, "openid offline_access vehicle_cmds", url.Values{"audience": {audience}})
	old := first.str(t, "refresh_token")

	r := refresh(t, s, FleetClientID, old)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	body := r.json(t)
	next, _ := body["refresh_token"].(string)
	if next == "" || next == old || !strings.HasPrefix(next, "NA_") {
		t.Fatalf("rotated refresh token %q", next)
	}
	if _, ok := body["scope"]; ok {
		t.Error("a refresh answer carries scope")
	}
	if body["token_type"] != "Bearer" || body["id_token"] == nil {
		t.Errorf("refresh answer %v", body)
	}
	at := claims(t, r.str(t, "access_token"))
	if !slices.Equal(strs(at["aud"]), []string{TeslaFleetAPIBase("na"), TeslaFleetAPIBase("eu"), s.Issuer() + "/userinfo"}) ||
		!slices.Equal(strs(at["scp"]), []string{"openid", "offline_access", "vehicle_cmds"}) || at["azp"] != FleetClientID {
		t.Errorf("refreshed claims %v", at)
	}
	if s.RefreshTokenLive(old) || !s.RefreshTokenLive(next) || s.LiveRefreshTokens() != 1 {
		t.Fatal("the old token is not dead or the new one not live")
	}
	again := refresh(t, s, FleetClientID, old)
	if again.status != 401 || again.str(t, "error") != "login_required" ||
		again.str(t, "error_description") != "The refresh_token is invalid or expired" {
		t.Fatalf("reused token: %d %s", again.status, again.body)
	}
	if strings.Contains(string(again.body), old) {
		t.Error("the error echoes the token")
	}
	if r := refresh(t, s, FleetClientID, next); r.status != 200 {
		t.Fatalf("new token: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.Refreshes != 2 || st.CodeExchanges != 1 {
		t.Errorf("stats %+v", st)
	}
	// Access tokens from earlier in the chain stay valid until they expire.
	if info, _ := s.AccessToken(first.str(t, "access_token")); info.Revoked {
		t.Error("rotation revoked an access token")
	}
}

func TestRefreshRejections(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Scopes: []string{"openid", "offline_access"}})
	cases := []struct {
		name   string
		form   url.Values
		status int
		err    string
	}{
		{"other client", url.Values{"client_id": {"someone-else"}, "refresh_token": {ts.RefreshToken}}, 401, "login_required"},
		{"unknown token", url.Values{"client_id": {FleetClientID}, "refresh_token": {"NA_deadbeef"}}, 401, "login_required"},
		{"access token as refresh", url.Values{"client_id": {FleetClientID}, "refresh_token": {ts.AccessToken}}, 401, "login_required"},
		{"missing token", url.Values{"client_id": {FleetClientID}}, 400, "invalid_request"},
		{"missing client", url.Values{"refresh_token": {ts.RefreshToken}}, 400, "invalid_request"},
	}
	for _, c := range cases {
		c.form.Set("grant_type", "refresh_token")
		r := postForm(t, s.Issuer()+"/token", c.form)
		if r.status != c.status || r.str(t, "error") != c.err {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.err)
		}
	}
	if !s.RefreshTokenLive(ts.RefreshToken) || s.Stats().Refreshes != 0 {
		t.Fatal("a rejected refresh consumed the token")
	}
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Scopes: []string{"openid", "offline_access"}})
	const n = 50
	statuses := make([]int, n)
	errs := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {FleetClientID}, "refresh_token": {ts.RefreshToken}}
			resp, err := http.PostForm(s.Issuer()+"/token", form)
			if err != nil {
				errs[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	ok, rejected := 0, 0
	for i, st := range statuses {
		switch {
		case errs[i] != "":
			t.Errorf("request %d: %s", i, errs[i])
		case st == 200:
			ok++
		case st == 401:
			rejected++
		default:
			t.Errorf("request %d: status %d", i, st)
		}
	}
	if ok != 1 || rejected != n-1 {
		t.Fatalf("%d succeeded, %d rejected; want 1 and %d", ok, rejected, n-1)
	}
	if st := s.Stats(); st.Refreshes != 1 {
		t.Fatalf("Stats.Refreshes = %d", st.Refreshes)
	}
	if s.LiveRefreshTokens() != 1 {
		t.Fatalf("%d live refresh tokens", s.LiveRefreshTokens())
	}
}

func TestConcurrentRefreshWithinGraceAllSucceed(t *testing.T) {
	s := NewTest(t, Options{RefreshGrace: time.Hour})
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range n {
		wg.Go(func() {
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {FleetClientID}, "refresh_token": {ts.RefreshToken}}
			resp, err := http.PostForm(s.Issuer()+"/token", form)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != n || s.Stats().Refreshes != n {
		t.Fatalf("%d of %d refreshes succeeded, stats %+v", ok, n, s.Stats())
	}
}

func TestRefreshGrace(t *testing.T) {
	clk := newClock()
	s := NewTest(t, Options{RefreshGrace: 24 * time.Hour, Now: clk.Now})
	a := s.Mint(MintRequest{Scopes: []string{"offline_access"}}).RefreshToken
	b := refresh(t, s, FleetClientID, a).str(t, "refresh_token")
	clk.Advance(23 * time.Hour)
	if !s.RefreshTokenLive(a) {
		t.Fatal("the rotated-out token died within the grace period")
	}
	// Using it again in the grace period works but does not extend it.
	c := refresh(t, s, FleetClientID, a)
	if c.status != 200 || s.LiveRefreshTokens() != 3 {
		t.Fatalf("refresh within grace: %d, %d live", c.status, s.LiveRefreshTokens())
	}
	clk.Advance(time.Hour)
	if s.RefreshTokenLive(a) {
		t.Fatal("the rotated-out token outlived the grace period")
	}
	if r := refresh(t, s, FleetClientID, a); r.status != 401 || r.str(t, "error") != "login_required" {
		t.Fatalf("after grace: %d %s", r.status, r.body)
	}
	if !s.RefreshTokenLive(b) || !s.RefreshTokenLive(c.str(t, "refresh_token")) {
		t.Fatal("tokens issued in the grace period died with it")
	}
}

func TestRefreshTokenExpiresAfterThreeMonths(t *testing.T) {
	clk := newClock()
	s := NewTest(t, Options{Now: clk.Now})
	rt := s.Mint(MintRequest{Scopes: []string{"offline_access"}}).RefreshToken
	clk.Advance(89 * 24 * time.Hour)
	if !s.RefreshTokenLive(rt) {
		t.Fatal("dead after 89 days")
	}
	clk.Advance(24 * time.Hour)
	if r := refresh(t, s, FleetClientID, rt); r.status != 401 || r.str(t, "error") != "login_required" {
		t.Fatalf("after 90 days: %d %s", r.status, r.body)
	}
}

func TestKillRefreshToken(t *testing.T) {
	s := NewTest(t, Options{RefreshGrace: time.Hour})
	a := s.Mint(MintRequest{})
	b := s.Mint(MintRequest{})
	s.KillRefreshToken(a.RefreshToken)
	s.KillRefreshToken("not-a-token")
	if s.RefreshTokenLive(a.RefreshToken) || !s.RefreshTokenLive(b.RefreshToken) || s.LiveRefreshTokens() != 1 {
		t.Fatal("KillRefreshToken killed the wrong token")
	}
	if r := refresh(t, s, FleetClientID, a.RefreshToken); r.status != 401 || r.str(t, "error") != "login_required" {
		t.Fatalf("killed token: %d %s", r.status, r.body)
	}
	if info, _ := s.AccessToken(a.AccessToken); info.Revoked {
		t.Error("killing the refresh token revoked the access token")
	}
}

func TestOwnerAPIRefreshTokenIsAJWT(t *testing.T) {
	s := NewTest(t, Options{})
	verifier, challenge := pkce("own")
	code := authorize(t, s, "ownerapi", "tesla://auth/callback", challenge, "openid email offline_access")
	r := postForm(t, s.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"ownerapi"},
		"code": {code}, "redirect_uri": {"tesla://auth/callback"}, "code_verifier": {verifier}})
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	rt := r.str(t, "refresh_token")
	c := claims(t, rt)
	if c["iss"] != s.Issuer() || c["sub"] != s.User().Subject || c["azp"] != "ownerapi" {
		t.Errorf("refresh token claims %v", c)
	}
	// Still single use.
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {"ownerapi"}, "refresh_token": {rt},
		"scope": {"openid email offline_access"}}
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 401 {
		t.Fatalf("reuse: %d %s", r.status, r.body)
	}
}

func TestRefreshOfConfidentialClientNeedsItsSecret(t *testing.T) {
	s := NewTest(t, Options{Secrets: map[string]string{"my-app": "s3cret"}})
	rt := s.Mint(MintRequest{ClientID: "my-app", Scopes: []string{"offline_access"}}).RefreshToken
	r := refresh(t, s, "my-app", rt)
	if r.status != 401 || r.str(t, "error") != "invalid_client" || !s.RefreshTokenLive(rt) {
		t.Fatalf("without secret: %d %s", r.status, r.body)
	}
	r = postForm(t, s.Issuer()+"/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"my-app"},
		"client_secret": {"s3cret"}, "refresh_token": {rt}})
	if r.status != 200 {
		t.Fatalf("with secret: %d %s", r.status, r.body)
	}
}

func TestAccessTTL(t *testing.T) {
	s := NewTest(t, Options{AccessTTL: 2 * time.Minute})
	r := login(t, s, FleetClientID, "offline_access", nil)
	if r.json(t)["expires_in"] != float64(120) {
		t.Fatalf("expires_in %v", r.json(t)["expires_in"])
	}
	r = refresh(t, s, FleetClientID, r.str(t, "refresh_token"))
	if r.json(t)["expires_in"] != float64(120) {
		t.Fatalf("refresh: expires_in %v", r.json(t)["expires_in"])
	}
	c := claims(t, r.str(t, "access_token"))
	if c["exp"].(float64)-c["iat"].(float64) != 120 {
		t.Fatalf("exp-iat %v", c["exp"].(float64)-c["iat"].(float64))
	}
	if ts := s.Mint(MintRequest{}); time.Until(ts.Expiry) > 2*time.Minute {
		t.Fatalf("Mint ignored AccessTTL: %v", ts.Expiry)
	}
	if ts := s.Mint(MintRequest{AccessTTL: time.Hour}); time.Until(ts.Expiry) < 59*time.Minute {
		t.Fatalf("Mint's own AccessTTL lost: %v", ts.Expiry)
	}
	if ts := NewTest(t, Options{}).Mint(MintRequest{}); time.Until(ts.Expiry) < 7*time.Hour {
		t.Fatalf("the default is not 8h: %v", ts.Expiry)
	}
}

func TestRefreshTTL(t *testing.T) {
	clk := newClock()
	const ttl = 7 * 24 * time.Hour
	s := NewTest(t, Options{Now: clk.Now, RefreshTTL: ttl})
	old := s.Mint(MintRequest{Scopes: []string{"offline_access"}}).RefreshToken
	stale := s.Mint(MintRequest{Scopes: []string{"offline_access"}}).RefreshToken
	clk.Advance(ttl - time.Hour)
	r := refresh(t, s, FleetClientID, old)
	if r.status != 200 {
		t.Fatalf("an hour before expiry: %d %s", r.status, r.body)
	}
	clk.Advance(time.Hour)
	if r := refresh(t, s, FleetClientID, stale); r.status != 401 || r.str(t, "error") != "login_required" {
		t.Fatalf("at expiry: %d %s", r.status, r.body)
	}
	// The rotated token lives RefreshTTL from its own issue.
	clk.Advance(ttl - 2*time.Hour)
	if r := refresh(t, s, FleetClientID, r.str(t, "refresh_token")); r.status != 200 {
		t.Fatalf("rotated token: %d %s", r.status, r.body)
	}

	owner := s.Mint(MintRequest{ClientID: "ownerapi", Scopes: []string{"openid", "offline_access"}})
	c := claims(t, owner.RefreshToken)
	if c["exp"].(float64)-c["iat"].(float64) != ttl.Seconds() {
		t.Errorf("owner refresh JWT lives %vs", c["exp"].(float64)-c["iat"].(float64))
	}
}
