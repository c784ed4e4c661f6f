package oauth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// These tests run the custom kind against an OpenID provider nobody here
// wrote: the example server of zitadel/oidc, a certified OpenID Connect
// library, in process. Its login form is filled in the way a browser would.
// It is a test dependency only: nothing of it is linked into keyfob.

const zitadelClient = "keyfob-native"

// startZitadel serves the example provider on loopback and returns its
// issuer, "http://localhost:PORT/".
func startZitadel(t *testing.T) string {
	t.Helper()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	issuer := "http://localhost:" + port + "/"
	// A native (public, PKCE) client whose loopback redirect takes any port,
	// as RFC 8252 asks.
	storage.RegisterClients(storage.NativeClient(zitadelClient, "http://localhost/callback"))
	router := exampleop.SetupServer(issuer, storage.NewStorage(storage.NewUserStore(issuer)), nil, false)
	srv := &http.Server{Handler: router}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return issuer
}

// zitadelBrowser signs in through the provider's login form: it opens the
// sign-in address, posts the username and password to the form it lands
// on, and follows the redirects back to keyfob's loopback listener.
func zitadelBrowser(t *testing.T, issuer string) func(string) error {
	return func(authURL string) error {
		go func() {
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}
			resp, err := client.Get(authURL)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			id := resp.Request.URL.Query().Get("authRequestID")
			if !strings.HasSuffix(resp.Request.URL.Path, "/login/username") || id == "" {
				t.Errorf("browser: expected the login form, landed on %s", resp.Request.URL)
				return
			}
			host := strings.TrimSuffix(issuer, "/")
			form := url.Values{"id": {id}, "username": {"test-user@localhost"}, "password": {"verysecure"}}
			resp, err = client.PostForm(host+"/login/username", form)
			if err != nil {
				t.Errorf("browser: posting the login form: %v", err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "Signed in to keyfob") {
				t.Errorf("browser: the sign-in ended on %s: %.300s", resp.Request.URL, body)
			}
		}()
		return nil
	}
}

// The whole life of a custom account against zitadel: discovery, the
// authorization code flow with PKCE through the real login form, refresh
// with rotation (the old refresh token dies), and RFC 7009 revocation.
func TestCustomKindAgainstZitadel(t *testing.T) {
	issuer := startZitadel(t)
	ctx := context.Background()
	e := &oauth.Engine{OpenBrowser: zitadelBrowser(t, issuer)}
	m := openManager(t, e)
	l := &oauth.Logins{Engine: e, Manager: m}

	p, err := l.Prepare(ctx, oauth.Request{Kind: accounts.KindCustom, Inputs: oauth.Inputs{
		oauth.FieldName:        "zitadel",
		oauth.FieldIssuer:      issuer,
		oauth.FieldClientID:    zitadelClient,
		oauth.FieldRedirectURI: "http://localhost/callback",
		oauth.FieldScopes:      "openid offline_access email profile",
	}})
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if p.Account.Endpoints.RevokeURL == "" || !strings.HasSuffix(p.Account.Endpoints.AuthURL, "/auth") {
		t.Fatalf("discovered endpoints %+v", p.Account.Endpoints)
	}
	at, err := l.Begin(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Close()
	if err := at.Flow().OpenBrowser(); err != nil {
		t.Fatal(err)
	}
	saved, err := at.Finish(ctx)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	first := saved.Account
	if first.AccessToken == "" || first.RefreshToken == "" || first.Email != "test-user@zitadel.ch" {
		t.Fatalf("logged-in account: email %q, access %t, refresh %t", first.Email, first.AccessToken != "", first.RefreshToken != "")
	}

	r, err := m.Refresh(ctx, first, accounts.Explicit)
	refreshed := r.Account
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.AccessToken == first.AccessToken || refreshed.RefreshToken == first.RefreshToken {
		t.Fatal("the refresh did not rotate the tokens")
	}
	if _, err := e.Refresh(ctx, first); !errors.Is(err, accounts.ErrLoginRequired) {
		t.Fatalf("the rotated-out refresh token: %v, want login required", err)
	}

	rev, err := m.Revoke(ctx, refreshed.ID, accounts.RevokeOptions{})
	if err != nil || rev.Outcome != accounts.RevokedAtServer {
		t.Fatalf("revoke: %+v, %v", rev, err)
	}
	if _, err := e.Refresh(ctx, refreshed); !errors.Is(err, accounts.ErrLoginRequired) {
		t.Fatalf("the revoked refresh token: %v, want login required", err)
	}
}
