package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// refreshRequest is a v3 refresh of rt as an *http.Request.
func refreshRequest(t *testing.T, ctx context.Context, s *Server, rt string) *http.Request {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {FleetClientID}, "refresh_token": {rt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Issuer()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func TestFaultsOnTokenEndpoint(t *testing.T) {
	cases := []struct {
		fault  Fault
		status int
		check  func(t *testing.T, r response)
	}{
		{FaultServerError, 503, func(t *testing.T, r response) {
			if r.str(t, "error") != "server_error" {
				t.Errorf("body %s", r.body)
			}
		}},
		{FaultMalformedJSON, 200, func(t *testing.T, r response) {
			if string(r.body) != `{"access_token": "ab` || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("%v %q", r.header, r.body)
			}
		}},
		{FaultHTML, 502, func(t *testing.T, r response) {
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "<html>") {
				t.Errorf("%v %q", r.header, r.body)
			}
		}},
		{FaultRateLimit, 429, func(t *testing.T, r response) {
			if r.header.Get("Retry-After") != "7" || r.str(t, "error") != "rate_limited" {
				t.Errorf("%v %s", r.header, r.body)
			}
		}},
		{FaultLoginRequired, 401, func(t *testing.T, r response) {
			if r.str(t, "error") != "login_required" || r.str(t, "error_description") == "" {
				t.Errorf("body %s", r.body)
			}
		}},
		{FaultInvalidGrant, 400, func(t *testing.T, r response) {
			if r.str(t, "error") != "invalid_grant" {
				t.Errorf("body %s", r.body)
			}
		}},
		{FaultMissingFields, 200, func(t *testing.T, r response) {
			b := r.json(t)
			if _, ok := b["access_token"]; ok || b["token_type"] != "Bearer" || b["expires_in"] != float64(28800) {
				t.Errorf("body %s", r.body)
			}
		}},
		{FaultWrongTokenType, 200, func(t *testing.T, r response) {
			b := r.json(t)
			if b["token_type"] != "mac" || r.str(t, "access_token") == "" || r.str(t, "refresh_token") == "" {
				t.Errorf("body %s", r.body)
			}
		}},
	}
	for _, c := range cases {
		t.Run(string(c.fault), func(t *testing.T) {
			s := NewTest(t, Options{})
			ts := s.Mint(MintRequest{Scopes: []string{"openid", "offline_access"}})
			s.FailNext(c.fault, 1)
			r := do(t, noRedirect, refreshRequest(t, context.Background(), s, ts.RefreshToken))
			if r.status != c.status {
				t.Fatalf("status %d, want %d; body %q", r.status, c.status, r.body)
			}
			c.check(t, r)
			if strings.Contains(string(r.body), ts.RefreshToken) {
				t.Error("the answer echoes the refresh token")
			}
			if !s.RefreshTokenLive(ts.RefreshToken) {
				t.Error("the fault consumed the refresh token")
			}
			if st := s.Stats(); st.Failures != 1 || st.Refreshes != 0 {
				t.Errorf("stats %+v", st)
			}
			// One fault, one request: the next refresh is served.
			if r := refresh(t, s, FleetClientID, ts.RefreshToken); r.status != 200 {
				t.Fatalf("after the fault: %d %s", r.status, r.body)
			}
		})
	}
}

func TestFaultsQueueInOrder(t *testing.T) {
	s := NewTest(t, Options{})
	s.FailNext(FaultRateLimit, 2)
	s.FailNext(FaultDenied, 1)
	s.FailNext(FaultHTML, 1)
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	var got []int
	for range 4 {
		got = append(got, refresh(t, s, FleetClientID, ts.RefreshToken).status)
	}
	if want := []int{429, 429, 502, 200}; !equalInts(got, want) {
		t.Fatalf("statuses %v, want %v (FaultDenied is for authorize)", got, want)
	}
	_, challenge := pkce("abc")
	u := location(t, get(t, s.Issuer()+"/authorize?"+authorizeParams(FleetClientID, loopbackRedirect, challenge, "openid").Encode()))
	if u.Query().Get("error") != "login_cancelled" || u.Query().Get("state") != "st4te" || u.Query().Get("code") != "" {
		t.Fatalf("denied redirect %s", u)
	}
	authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid")
	if st := s.Stats(); st.Failures != 4 || st.Authorize != 1 || st.Refreshes != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaultsOnLegacyEndpoint(t *testing.T) {
	s := NewTest(t, Options{})
	u := s.User()
	body := map[string]string{"grant_type": "password", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "email": u.Email, "password": u.Password}
	s.FailNext(FaultServerError, 1)
	s.FailNext(FaultWrongTokenType, 1)
	if r := postJSON(t, s.URL()+"/oauth/token", body); r.status != 503 {
		t.Fatalf("5xx: %d", r.status)
	}
	r := postJSON(t, s.URL()+"/oauth/token", body)
	if r.status != 200 || r.str(t, "token_type") != "mac" || !strings.HasPrefix(r.str(t, "access_token"), "qts-") {
		t.Fatalf("wrong token type: %d %s", r.status, r.body)
	}
	if r := postJSON(t, s.URL()+"/oauth/token", body); r.status != 200 || r.str(t, "token_type") != "bearer" {
		t.Fatalf("after the faults: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.Failures != 2 || st.PasswordGrants != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultTimeoutHoldsUntilTheClientGivesUp(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	s.FailNext(FaultTimeout, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	resp, err := http.DefaultClient.Do(refreshRequest(t, ctx, s, ts.RefreshToken))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a deadline", err)
	}
	if r := refresh(t, s, FleetClientID, ts.RefreshToken); r.status != 200 {
		t.Fatalf("next request: %d", r.status)
	}
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	s.FailNext(FaultTimeout, 1)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(refreshRequest(t, context.Background(), s, ts.RefreshToken))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Wait until the request holds the fault, without assuming how long
	// that takes.
	for s.Stats().Failures == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; err == nil {
		t.Fatal("the held request got an answer")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(s.URL() + "/.well-known/openid-configuration"); err == nil {
		t.Fatal("still serving after Close")
	}
}

func TestFaultSlowDripDeliversAValidBody(t *testing.T) {
	s := NewTest(t, Options{})
	s.mu.Lock()
	s.drip = time.Microsecond
	s.mu.Unlock()
	ts := s.Mint(MintRequest{Scopes: []string{"openid", "offline_access"}})
	s.FailNext(FaultSlowDrip, 1)
	r := do(t, noRedirect, refreshRequest(t, context.Background(), s, ts.RefreshToken))
	if r.status != 200 || r.str(t, "access_token") == "" || r.str(t, "token_type") != "Bearer" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// The grant really happened.
	if s.RefreshTokenLive(ts.RefreshToken) || !s.RefreshTokenLive(r.str(t, "refresh_token")) {
		t.Fatal("the drip did not rotate the refresh token")
	}
	if st := s.Stats(); st.Failures != 1 || st.Refreshes != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultSlowDripSendsHeadersFirst(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	s.FailNext(FaultSlowDrip, 1)
	resp, err := http.DefaultClient.Do(refreshRequest(t, context.Background(), s, ts.RefreshToken))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.ContentLength != -1 {
		t.Fatalf("%d %v length %d", resp.StatusCode, resp.Header, resp.ContentLength)
	}
	// The first bytes arrive one by one at the default pace; two are
	// enough to see the body start.
	head := make([]byte, 2)
	if _, err := io.ReadFull(bufio.NewReader(resp.Body), head); err != nil {
		t.Fatal(err)
	}
	if string(head) != `{"` {
		t.Fatalf("body starts %q", head)
	}
}

func TestFailRate(t *testing.T) {
	s := NewTest(t, Options{FailRate: 7}) // clamped to 1
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	for range 3 {
		if r := refresh(t, s, FleetClientID, ts.RefreshToken); r.status != 503 || r.str(t, "error") != "server_error" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	// Only token endpoints fail.
	if r := get(t, s.URL()+"/.well-known/openid-configuration"); r.status != 200 {
		t.Fatalf("discovery: %d", r.status)
	}
	if st := s.Stats(); st.Failures != 3 || st.Refreshes != 0 || !s.RefreshTokenLive(ts.RefreshToken) {
		t.Fatalf("stats %+v", st)
	}
	// A queued fault goes first and counts once; FailRate does not roll for it.
	s.FailNext(FaultRateLimit, 1)
	if r := refresh(t, s, FleetClientID, ts.RefreshToken); r.status != 429 {
		t.Fatalf("queued fault: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.Failures != 4 {
		t.Fatalf("stats %+v", st)
	}
	for _, p := range []float64{0, -1, math.NaN()} { // NaN and negatives count as never
		s := NewTest(t, Options{FailRate: p})
		ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
		if r := refresh(t, s, FleetClientID, ts.RefreshToken); r.status != 200 || s.Stats().Failures != 0 {
			t.Fatalf("FailRate %v: %d %s", p, r.status, r.body)
		}
	}
}

func TestLatency(t *testing.T) {
	s := NewTest(t, Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/.well-known/openid-configuration", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("answered despite an hour of latency")
	}
	s.SetLatency(0)
	r := get(t, s.URL()+"/.well-known/openid-configuration")
	var doc map[string]any
	if r.status != 200 || json.Unmarshal(r.body, &doc) != nil {
		t.Fatalf("after SetLatency(0): %d", r.status)
	}
}
