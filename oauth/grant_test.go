package oauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// TestTokenRequestsDoNotFollowRedirects: a token endpoint that redirects
// must not make keyfob send the refresh token or secret somewhere else.
func TestTokenRequestsDoNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	e := &Engine{}
	for _, op := range errOps {
		err := op.run(e, srv.URL)
		if err == nil || !strings.Contains(err.Error(), "307") {
			t.Errorf("%s: %v", op.name, err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("%d requests followed the redirect", n)
	}
}

func TestGrantFromAnswer(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	e := &Engine{Now: func() time.Time { return now }}
	a := accounts.Account{RequestedScopes: []string{"openid", "wanted"}}
	access := makeJWT(t, map[string]any{"sub": "from-access", "scp": []string{"openid"}, "ou_code": "CN", "exp": now.Add(time.Hour).Unix()})
	id := makeJWT(t, map[string]any{"sub": "from-id", "email": "me@example.com"})
	rc := &call{endpoint: "h/t", status: 200}

	g, err := e.grantFrom(a, rc, tokenFields{access: access, idToken: id, refresh: "r2", scope: "openid wanted"}, "r1")
	if err != nil {
		t.Fatal(err)
	}
	// Scopes come from scp (Tesla drops scopes silently), identity from the
	// id token, expiry from exp when expires_in is absent; the region is
	// RegionCheck's: an account without one learns it from ou_code.
	if strings.Join(g.GrantedScopes, " ") != "openid" || g.Subject != "from-id" || g.Email != "me@example.com" ||
		g.Region != "" || !g.Expiry.Equal(now.Add(time.Hour)) || g.RefreshToken != "r2" || g.TokenType != "Bearer" {
		t.Errorf("grant %+v", g)
	}
	if g, _ := regionOf(accounts.Account{Kind: accounts.KindPartner}, g, false); g.Region != "cn" {
		t.Errorf("a partner account without a region learnt %q from ou_code CN", g.Region)
	}

	cases := []struct {
		name      string
		f         tokenFields
		expiry    time.Time
		scopes    string
		refreshed string
	}{
		{"expires_in wins", tokenFields{access: "opaque", expiresIn: 60, refresh: "r1"}, now.Add(time.Minute), "openid wanted", ""},
		{"created_at dates it", tokenFields{access: "opaque", expiresIn: 3600, createdAt: now.Add(-10 * time.Minute).Unix()},
			now.Add(50 * time.Minute), "openid wanted", ""},
		{"created_at in milliseconds is ignored", tokenFields{access: "opaque", expiresIn: 3600, createdAt: now.UnixMilli()},
			now.Add(time.Hour), "openid wanted", ""},
		{"scope field", tokenFields{access: "opaque", scope: "a,b"}, time.Time{}, "a b", ""},
		{"rotated", tokenFields{access: "opaque", refresh: "r9"}, time.Time{}, "openid wanted", "r9"},
	}
	for _, tc := range cases {
		g, err := e.grantFrom(a, rc, tc.f, "r1")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !g.Expiry.Equal(tc.expiry) || strings.Join(g.GrantedScopes, " ") != tc.scopes || g.RefreshToken != tc.refreshed {
			t.Errorf("%s: %+v", tc.name, g)
		}
	}
	for _, tt := range []string{"", "bearer", "BEARER"} {
		if _, err := e.grantFrom(a, rc, tokenFields{access: "x", tokenType: tt}, ""); err != nil {
			t.Errorf("token type %q refused: %v", tt, err)
		}
	}
}

func TestLearnEmailFromUsersMe(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		io.WriteString(w, `{"response":{"email":"owner@example.com","full_name":"Owner"}}`)
	}))
	defer srv.Close()
	a := accounts.Account{AccessToken: "tok", Endpoints: accounts.Endpoints{UserInfoURL: srv.URL + "/api/1/users/me"}}
	(&Engine{}).learnEmail(context.Background(), &a, false)
	if a.Email != "owner@example.com" || auth != "Bearer tok" {
		t.Errorf("email %q auth %q", a.Email, auth)
	}
	// Failures are ignored.
	b := accounts.Account{AccessToken: "tok", Endpoints: accounts.Endpoints{UserInfoURL: srv.URL + "x:bad"}}
	(&Engine{}).learnEmail(context.Background(), &b, false)
	if b.Email != "" {
		t.Errorf("email %q", b.Email)
	}
}

// An expires_in too large for a duration (here in a form-encoded answer,
// which x/oauth2 does not bound) must not wrap around into a token that
// expired centuries ago, which every request would refresh again.
func TestHugeExpiresInDoesNotWrap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = io.WriteString(w, "access_token=opaque&token_type=bearer&refresh_token=r2&expires_in=10000000000")
	}))
	defer srv.Close()
	now := time.Now()
	a := accounts.Account{Kind: accounts.KindCustom, ClientID: "c", RefreshToken: "r1",
		Endpoints: accounts.Endpoints{TokenURL: srv.URL + "/token"}}
	g, err := (&Engine{Now: func() time.Time { return now }}).Refresh(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Expiry.IsZero() && g.Expiry.Before(now) {
		t.Fatalf("expires_in=10000000000 became an expiry in the past: %v", g.Expiry)
	}
}
