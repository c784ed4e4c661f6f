package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// Secrets that every encoding changes and that the long-token heuristic
// does not catch: spaces, quotes, slashes, plus signs, non-ASCII letters.
const (
	echoSecret   = `s3cr<et> & "q"/+=é`
	echoPassword = `pa ss/w+rd "é"`
	echoClient   = "echo-confidential"
)

// secretForms lists every form of s a careless server may echo.
func secretForms(s string) map[string]string {
	html, _ := json.Marshal(s)
	var plain bytes.Buffer
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	noHTML := strings.TrimSuffix(plain.String(), "\n")
	return map[string]string{
		"raw":          s,
		"query":        url.QueryEscape(s),
		"path":         url.PathEscape(s),
		"json":         string(html[1 : len(html)-1]),
		"json-nohtml":  noHTML[1 : len(noHTML)-1],
		"base64":       base64.StdEncoding.EncodeToString([]byte(s)),
		"base64-raw":   base64.RawStdEncoding.EncodeToString([]byte(s)),
		"base64url":    base64.URLEncoding.EncodeToString([]byte(s)),
		"base64url-rw": base64.RawURLEncoding.EncodeToString([]byte(s)),
	}
}

// wantNoSecret fails when any text holds any form of any secret.
func wantNoSecret(t *testing.T, texts []string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec == "" {
			t.Fatal("an empty secret: the test lost track of what was sent")
		}
		for name, form := range secretForms(sec) {
			for _, text := range texts {
				if strings.Contains(text, form) {
					t.Errorf("the %s form of %q is in %q", name, sec, text)
				}
			}
		}
	}
}

// echoTexts is every text of err that reaches a screen or the store.
func echoTexts(t *testing.T, err error) []string {
	t.Helper()
	var se *ServerError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
		t.Fatalf("want the echoing server's 400, got %v", err)
	}
	return []string{err.Error(), se.Description, se.Code}
}

// TestServerEchoNeverShowsASecret runs every grant and both revocations
// against a server that echoes the request (FaultEcho): no secret of the
// request may survive, in any encoding, in what keyfob shows or stores.
func TestServerEchoNeverShowsASecret(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Secrets: map[string]string{echoClient: echoSecret}})
	e := &Engine{}
	ctx := context.Background()
	ep, err := e.Discover(ctx, srv.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	custom := func(grant string) accounts.Account {
		return accounts.Account{Kind: accounts.KindCustom, Grant: grant, ClientID: echoClient, ClientSecret: echoSecret,
			Endpoints: ep, RequestedScopes: []string{"openid", "offline_access"}}
	}

	t.Run("authorization_code", func(t *testing.T) {
		a := custom(accounts.GrantCode)
		// A private-use scheme: the sign-in stops there, as at tesla://.
		a.Endpoints.RedirectURI = "x-keyfob-test://callback"
		f, err := e.StartCodeFlow(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		landed, err := srv.SignIn(ctx, f.AuthURL())
		if err != nil {
			t.Fatal(err)
		}
		code := mustQuery(t, landed).Get("code")
		srv.FailNext(sandbox.FaultEcho, 1)
		_, err = f.Complete(ctx, landed)
		wantNoSecret(t, echoTexts(t, err), echoSecret, code, f.verifier)
	})
	t.Run("refresh_token", func(t *testing.T) {
		a := custom(accounts.GrantCode)
		a.RefreshToken = srv.Mint(sandbox.MintRequest{ClientID: echoClient, Scopes: a.RequestedScopes}).RefreshToken
		srv.FailNext(sandbox.FaultEcho, 1)
		_, err := e.Refresh(ctx, a)
		wantNoSecret(t, echoTexts(t, err), echoSecret, a.RefreshToken)
	})
	t.Run("password", func(t *testing.T) {
		srv.FailNext(sandbox.FaultEcho, 1)
		_, err := e.Login(ctx, custom(accounts.GrantPassword), Credentials{Email: srv.User().Email, Password: echoPassword})
		wantNoSecret(t, echoTexts(t, err), echoSecret, echoPassword)
	})
	t.Run("client_credentials", func(t *testing.T) {
		srv.FailNext(sandbox.FaultEcho, 1)
		_, err := e.Login(ctx, custom(accounts.GrantClientCredentials), Credentials{})
		wantNoSecret(t, echoTexts(t, err), echoSecret)
	})
	legacy := accounts.Account{Kind: accounts.KindLegacy, ClientID: sandbox.LegacyClientID, ClientSecret: echoSecret,
		Endpoints: accounts.Endpoints{BaseURL: srv.URL()}}
	t.Run("legacy password", func(t *testing.T) {
		srv.FailNext(sandbox.FaultEcho, 1)
		_, err := e.Login(ctx, legacy, Credentials{Email: srv.User().Email, Password: echoPassword})
		wantNoSecret(t, echoTexts(t, err), echoSecret, echoPassword)
	})
	t.Run("legacy refresh", func(t *testing.T) {
		a := legacy
		a.RefreshToken = srv.Mint(sandbox.MintRequest{Legacy: true}).RefreshToken
		srv.FailNext(sandbox.FaultEcho, 1)
		_, err := e.Refresh(ctx, a)
		wantNoSecret(t, echoTexts(t, err), echoSecret, a.RefreshToken)
	})
	t.Run("revocation", func(t *testing.T) {
		a := custom(accounts.GrantCode)
		ts := srv.Mint(sandbox.MintRequest{ClientID: echoClient, Scopes: a.RequestedScopes})
		a.AccessToken, a.RefreshToken = ts.AccessToken, ts.RefreshToken
		srv.FailNextRevoke(sandbox.FaultEcho, 1)
		rev, err := e.Revoke(ctx, a)
		wantNoSecret(t, append(echoTexts(t, err), rev.Detail), echoSecret, a.RefreshToken, a.AccessToken)
	})
	t.Run("legacy revocation", func(t *testing.T) {
		a := legacy
		a.AccessToken = srv.Mint(sandbox.MintRequest{Legacy: true}).AccessToken
		srv.FailNextRevoke(sandbox.FaultEcho, 1)
		rev, err := e.Revoke(ctx, a)
		wantNoSecret(t, append(echoTexts(t, err), rev.Detail), a.AccessToken)
	})
}

// The redactor learns the secrets of any request: the Authorization
// header (Basic credentials decoded, a bearer token), JSON and form bodies,
// and the query; it leaves the rest of the text alone.
func TestRedactorLearnsFromTheRequest(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "https://auth.example/token?code=query-code", strings.NewReader(`{"password":"json pw","email":"me@example.com"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(url.QueryEscape("client id"), url.QueryEscape(echoSecret))
	var r redactor
	body, err := requestBody(req)
	if err != nil {
		t.Fatal(err)
	}
	r.addRequest(req, body)
	if rest, _ := requestBody(req); string(rest) != string(body) {
		t.Fatal("reading the body consumed it")
	}
	basic := strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
	text := "echo " + basic + " " + strings.ToLower(url.QueryEscape(echoSecret)) + " json pw query-code me@example.com"
	got := r.clean(text, 400)
	wantNoSecret(t, []string{got}, basic, echoSecret, "json pw", "query-code", "client id")
	if !strings.HasPrefix(got, "echo [redacted]") || !strings.HasSuffix(got, "me@example.com") {
		t.Errorf("cleaned %q", got)
	}
	if r.code("query-code") != "unreadable_error" || r.code("invalid_grant") != "invalid_grant" {
		t.Error("an error code that is a secret is shown")
	}

	bearer, _ := http.NewRequest(http.MethodGet, "https://auth.example/userinfo", nil)
	bearer.Header.Set("Authorization", "Bearer the-access")
	var b redactor
	b.addRequest(bearer, nil)
	if got := b.clean("token the-access refused", 100); got != "token [redacted] refused" {
		t.Errorf("bearer: %q", got)
	}
}
