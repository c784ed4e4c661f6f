package keyfobtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/sandbox/presets"
	"github.com/keyfob/keyfob/ui/keyfobtest/loopback"
)

// Sandbox starts a sandbox on loopback for the test, with what keyfob
// demo's presets need of it (presets.Options); it stops when the test
// ends.
func Sandbox(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	return sandbox.NewTest(t, presets.Options(opts))
}

// Presets are keyfob demo's presets at srv (presets.Sandbox), with
// redirect as the Fleet app's registered redirect URI ("" for none), in
// the form oauth.Logins takes.
func Presets(srv *sandbox.Server, redirect string) func(accounts.Kind, string) (accounts.Account, error) {
	return presets.Sandbox{Server: srv, RedirectURI: redirect}.Preset
}

// Minted is an account of kind signed in at srv earlier, in region NA: the
// demo's preset of the kind, named name with keyfob's id id, holding the
// tokens srv mints for req (its client, when req names none, is the
// preset's). The access token counts as obtained 8 hours before it expires
// (Tesla's lifetime, or now when that is later), so that a token near its
// end is not taken for a short-lived one, whose refresh margin keyfob caps
// at half its life; the refresh token as obtained then too.
func Minted(srv *sandbox.Server, id, name string, kind accounts.Kind, req sandbox.MintRequest) accounts.Account {
	a, err := Presets(srv, "")(kind, "na")
	if err != nil {
		panic("keyfobtest: " + err.Error())
	}
	a.ID, a.Name = id, name
	if req.ClientID == "" {
		req.ClientID = a.ClientID
	}
	a.ClientID = req.ClientID
	if kind == accounts.KindCustom && a.Grant == "" {
		a.Grant = accounts.GrantCode
	}
	ts := srv.Mint(req)
	obtained := ts.Expiry.Add(-8 * time.Hour)
	if now := time.Now(); obtained.After(now) {
		obtained = now
	}
	email := srv.User().Email
	if req.Email != "" {
		email = req.Email
	}
	a.Apply(accounts.Grant{TokenType: "Bearer", AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken,
		IDToken: ts.IDToken, Expiry: ts.Expiry, GrantedScopes: ts.Scopes, Email: email, Subject: id}, obtained)
	return a
}

// FleetScopesAsked are the scopes the minted Fleet accounts of the command
// line's and the token service's tests ask for.
var FleetScopesAsked = []string{"openid", "offline_access", "vehicle_device_data"}

// Landed signs in at authURL as a browser would (sandbox.Approve) without
// following the last redirect, and returns where the browser lands: the
// address a user copies from the address bar (tesla://… or a loopback
// callback).
func Landed(t testing.TB, authURL string) string {
	t.Helper()
	loc, err := sandbox.Approve(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// FollowBrowser is a browser that signs in at the sandbox (typing in the
// password where it asks) and follows the redirect: it completes loopback
// logins, as oauth.Engine's OpenBrowser.
func FollowBrowser(authURL string) error {
	loc, err := sandbox.Approve(context.Background(), authURL)
	if err != nil {
		return err
	}
	resp, err := http.Get(loc)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("the sign-in page answered %s", resp.Status)
	}
	return nil
}

// FreeRedirect is a loopback redirect URI on a port free now, which no
// other connection takes meanwhile (see loopback.Port).
func FreeRedirect(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("http://127.0.0.1:%d/callback", loopback.Port(t))
}
