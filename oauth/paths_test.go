package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// Every precondition of a refresh fails before any request, with what to
// do.
func TestRefreshPreconditions(t *testing.T) {
	cases := []struct {
		name string
		a    accounts.Account
		is   error
		says string
	}{
		{"partner without secret", accounts.Account{Kind: accounts.KindPartner, ClientID: "p",
			Endpoints: accounts.Endpoints{TokenURL: "https://auth.example/t"}}, accounts.ErrNotRefreshable, "no client secret"},
		{"custom client credentials without secret", accounts.Account{Kind: accounts.KindCustom, Grant: accounts.GrantClientCredentials,
			ClientID: "c"}, accounts.ErrNotRefreshable, "no client secret"},
		{"partner without token URL", accounts.Account{Kind: accounts.KindPartner, ClientID: "p", ClientSecret: "s"}, nil, "no token URL"},
		{"no refresh token", accounts.Account{Kind: accounts.KindFleet, ClientID: "c"}, accounts.ErrNotRefreshable, "no refresh token"},
		{"legacy without base URL", accounts.Account{Kind: accounts.KindLegacy, ClientID: "c", RefreshToken: "rt"}, nil, "no owner-api base URL"},
		{"token URL not a URL", accounts.Account{Kind: accounts.KindFleet, RefreshToken: "rt",
			Endpoints: accounts.Endpoints{TokenURL: "::bad"}}, nil, "the token URL of the account is not a valid URL"},
		{"token URL not http", accounts.Account{Kind: accounts.KindOwner, RefreshToken: "rt",
			Endpoints: accounts.Endpoints{TokenURL: "ftp://auth.example/t"}}, nil, "is not an http or https URL"},
		{"token URL without host", accounts.Account{Kind: accounts.KindCustom, RefreshToken: "rt",
			Endpoints: accounts.Endpoints{TokenURL: "https:///t"}}, nil, "has no host"},
		{"token URL with a password", accounts.Account{Kind: accounts.KindCustom, RefreshToken: "rt",
			Endpoints: accounts.Endpoints{TokenURL: "https://me:hunter2@auth.example/t"}}, nil, "must not carry a user name or password"},
	}
	for _, tc := range cases {
		_, err := (&Engine{}).Refresh(context.Background(), tc.a)
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Every precondition of a login without a browser fails with the field
// at fault, before any request.
func TestLoginPreconditions(t *testing.T) {
	ctx := context.Background()
	legacy, _ := Preset(accounts.KindLegacy, "na")
	custom := accounts.Account{Kind: accounts.KindCustom, Grant: accounts.GrantPassword, ClientID: "c",
		Endpoints: accounts.Endpoints{TokenURL: "https://auth.example/token"}}
	fleet, _ := Preset(accounts.KindFleet, "na")
	fleet.ClientID, fleet.Endpoints.RedirectURI = "app", "http://localhost:8976/callback"
	cases := []struct {
		name  string
		a     accounts.Account
		c     Credentials
		field Field // "" = not a field error
		says  string
	}{
		{"invalid account", accounts.Account{Kind: "nope"}, Credentials{}, FieldKind, "unknown account kind"},
		{"unsupported grant", accounts.Account{Kind: accounts.KindCustom, Grant: "implicit", ClientID: "c"}, Credentials{}, FieldGrant, "unknown grant"},
		{"client credentials without secret", accounts.Account{Kind: accounts.KindPartner, ClientID: "p",
			Endpoints: accounts.Endpoints{TokenURL: "https://auth.example/t"}, Audience: "https://api.example"}, Credentials{}, FieldClientSecret, "needs the client secret"},
		{"browser kind", fleet, Credentials{}, "", "signs in in the browser"},
		{"legacy without email", legacy, Credentials{Password: "pw"}, FieldEmail, "needs the email"},
		{"legacy without password", legacy, Credentials{Email: "me@example.com"}, FieldPassword, "needs the password"},
		{"custom without password, email from the account", func() accounts.Account { a := custom; a.Email = "me@example.com"; return a }(),
			Credentials{}, FieldPassword, "needs the password"},
		{"legacy without base URL", func() accounts.Account { a := legacy; a.Endpoints.BaseURL = ""; return a }(),
			Credentials{Email: "e", Password: "p"}, FieldBaseURL, "needs the owner-api base URL"},
	}
	for _, tc := range cases {
		_, err := (&Engine{}).Login(ctx, tc.a, tc.c)
		var fe *FieldError
		isField := errors.As(err, &fe)
		if err == nil || !strings.Contains(err.Error(), tc.says) || isField != (tc.field != "") || (isField && fe.Field != tc.field) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// number reads what servers send as numbers; nonsense is 0.
func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
	}{{float64(3600), 3600}, {int64(7), 7}, {" 42 ", 42}, {"4x", 0}, {float64(-1), 0}, {float64(1 << 40), 0}, {true, 0}, {nil, 0}} {
		if got := number(tc.in); got != tc.want {
			t.Errorf("number(%#v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// grantFrom's fallbacks: the endpoint for the message, created_at far
// from the clock, the expiry from the JWT, the identity from the access
// token, and a refresh token equal to the one presented.
func TestGrantFromFallbacks(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	e := &Engine{Now: func() time.Time { return now }}
	a := accounts.Account{Endpoints: accounts.Endpoints{TokenURL: "https://auth.example/oauth2/v3/token?x=secret"}}
	_, err := e.grantFrom(a, &call{status: 200}, tokenFields{}, "")
	var se *ServerError
	if !errors.As(err, &se) || se.Kind != KindMissingFields || se.Endpoint != "auth.example/oauth2/v3/token" {
		t.Errorf("missing access token: %v", err)
	}
	_, err = e.grantFrom(a, &call{status: 200}, tokenFields{access: "x", tokenType: "mac"}, "")
	if !errors.As(err, &se) || se.Kind != KindTokenType || se.TokenType != "mac" || !strings.Contains(err.Error(), "only handles bearer tokens") {
		t.Errorf("mac token: %v", err)
	}
	access := makeJWT(t, map[string]any{"sub": "s1", "email": "a@example.com", "exp": now.Add(2 * time.Hour).Unix(), "ou_code": "NA\x1b[0m"})
	cases := []struct {
		name   string
		f      tokenFields
		expiry time.Time
	}{
		{"created_at a day ahead is a unit mix-up", tokenFields{access: "o", expiresIn: 60, createdAt: now.Add(48 * time.Hour).Unix()}, now.Add(time.Minute)},
		{"created_at a day behind too", tokenFields{access: "o", expiresIn: 60, createdAt: now.Add(-48 * time.Hour).Unix()}, now.Add(time.Minute)},
		{"created_at within a day dates it", tokenFields{access: "o", expiresIn: 60, createdAt: now.Add(-time.Hour).Unix()}, now.Add(-59 * time.Minute)},
		{"no expires_in: the JWT's exp", tokenFields{access: access, refresh: "same"}, now.Add(2 * time.Hour)},
		{"neither: unknown", tokenFields{access: "opaque"}, time.Time{}},
	}
	for _, tc := range cases {
		g, err := e.grantFrom(a, &call{}, tc.f, "same")
		if err != nil || !g.Expiry.Equal(tc.expiry) || g.RefreshToken != "" {
			t.Errorf("%s: %+v %v", tc.name, g, err)
		}
	}
	g, _ := e.grantFrom(a, &call{}, tokenFields{access: access}, "")
	if g.Subject != "s1" || g.Email != "a@example.com" || g.Region != "" {
		t.Errorf("identity from the access token, a hostile ou_code ignored: %+v", g)
	}
}

// revokeServer answers RFC 7009 requests with the statuses given, in
// order, and records the forms.
func revokeServer(t *testing.T, statuses ...int) (*httptest.Server, func() []url.Values) {
	var mu sync.Mutex
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		status := statuses[min(len(forms), len(statuses))-1]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status != 200 {
			_, _ = io.WriteString(w, `{"error":"server_error"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []url.Values { mu.Lock(); defer mu.Unlock(); return slices.Clone(forms) }
}

// Revoke's fallbacks and partial outcomes.
func TestRevokePaths(t *testing.T) {
	ctx := context.Background()
	e := &Engine{}
	custom := accounts.Account{Kind: accounts.KindCustom, ClientID: "c", AccessToken: "at", RefreshToken: "rt"}
	rev, err := e.Revoke(ctx, custom)
	if err != nil || rev.Outcome != accounts.RevokeUnsupported || !strings.Contains(rev.Detail, "only the local record changes") || rev.ConsentURL != "" {
		t.Errorf("no endpoint: %+v %v", rev, err)
	}
	legacyNoBase := accounts.Account{Kind: accounts.KindLegacy, AccessToken: "at"}
	if rev, err := e.Revoke(ctx, legacyNoBase); err != nil || rev.Outcome != accounts.RevokeUnsupported {
		t.Errorf("legacy without base URL: %+v %v", rev, err)
	}
	bad := custom
	bad.Endpoints.RevokeURL = "revoke"
	if rev, err := e.Revoke(ctx, bad); err == nil || rev.Outcome != accounts.RevokeFailed || !strings.Contains(err.Error(), "the revocation URL of the account") {
		t.Errorf("bad URL: %+v %v", rev, err)
	}

	srv, forms := revokeServer(t, 200, 503)
	empty := accounts.Account{Kind: accounts.KindCustom, Endpoints: accounts.Endpoints{RevokeURL: srv.URL}}
	if rev, err := e.Revoke(ctx, empty); err != nil || rev.Outcome != accounts.RevokeUnsupported || !strings.Contains(rev.Detail, "holds no token") {
		t.Errorf("no tokens: %+v %v", rev, err)
	}
	partial := custom
	partial.ClientSecret, partial.Endpoints.RevokeURL = "cs", srv.URL
	rev, err = e.Revoke(ctx, partial)
	if err != nil || rev.Outcome != accounts.RevokedAtServer || !slices.Equal(rev.Revoked, []string{"refresh_token"}) ||
		!strings.Contains(rev.Detail, "revoked the refresh token but not the access token") {
		t.Errorf("partial: %+v %v", rev, err)
	}
	got := forms()
	if len(got) != 2 || got[0].Get("token") != "rt" || got[0].Get("token_type_hint") != "refresh_token" || got[0].Get("client_secret") != "cs" ||
		got[1].Get("token") != "at" || got[1].Get("token_type_hint") != "access_token" || got[1].Get("client_id") != "c" {
		t.Errorf("forms %v", got)
	}

	accessOnly := custom
	accessOnly.RefreshToken = ""
	ok, _ := revokeServer(t, 200)
	accessOnly.Endpoints.RevokeURL = ok.URL
	if rev, err := e.Revoke(ctx, accessOnly); err != nil || !slices.Equal(rev.Revoked, []string{"access_token"}) || rev.Detail != "the server revoked the access token" {
		t.Errorf("access token only: %+v %v", rev, err)
	}
}

// The legacy revocation's fallbacks: no access token, and a failure.
func TestLegacyRevokePaths(t *testing.T) {
	ctx := context.Background()
	failing, _ := revokeServer(t, 503)
	a := accounts.Account{Kind: accounts.KindLegacy, RefreshToken: "rt", Endpoints: accounts.Endpoints{BaseURL: failing.URL}}
	if rev, err := (&Engine{}).Revoke(ctx, a); err != nil || rev.Outcome != accounts.RevokeUnsupported || !strings.Contains(rev.Detail, "no access token") {
		t.Errorf("no access token: %+v %v", rev, err)
	}
	a.AccessToken = "at"
	rev, err := (&Engine{}).Revoke(ctx, a)
	if err == nil || rev.Outcome != accounts.RevokeFailed || !strings.HasPrefix(rev.Detail, "the server did not revoke the tokens: ") {
		t.Errorf("failing: %+v %v", rev, err)
	}
}

// An answer that cannot be used (not a bearer token, or no access token)
// still hands over the rotated refresh token it carried, with the error:
// the standard refresh grant's and the legacy owner-api's JSON one alike.
func TestUnusableRefreshAnswerKeepsTheRotatedToken(t *testing.T) {
	for _, body := range []string{
		`{"access_token":"a","token_type":"mac","refresh_token":"rotated","expires_in":60}`,
		`{"token_type":"Bearer","refresh_token":"rotated","expires_in":60}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		for _, a := range []accounts.Account{
			{Kind: accounts.KindCustom, ClientID: "c", RefreshToken: "old", Endpoints: accounts.Endpoints{TokenURL: srv.URL + "/token"}},
			{Kind: accounts.KindLegacy, ClientID: "c", RefreshToken: "old", Endpoints: accounts.Endpoints{BaseURL: srv.URL}},
		} {
			g, err := (&Engine{}).Refresh(context.Background(), a)
			if err == nil || g.RefreshToken != "rotated" || g.AccessToken != "" {
				t.Errorf("%s, %s: grant %+v, err %v; want the rotated refresh token alone and an error", a.Kind, body, g, err)
			}
		}
		srv.Close()
	}
}
