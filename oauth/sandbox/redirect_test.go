package sandbox

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// authorizeWith runs the authorize endpoint for client and redirect.
func authorizeWith(t *testing.T, s *Server, client, redirect string) response {
	t.Helper()
	_, challenge := pkce("abc")
	return get(t, s.Issuer()+"/authorize?"+authorizeParams(client, redirect, challenge, "openid offline_access").Encode())
}

// wantUnknownRedirect fails unless r is Tesla's 400 page for a redirect_uri
// not registered, with no redirect.
func wantUnknownRedirect(t *testing.T, r response, what string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(r.body), "We don't recognize this redirect_uri") {
		t.Errorf("%s: want the 400 unknown-redirect page, got %d %v %s", what, r.status, r.header, r.body)
	}
}

func TestOwnerAPIAcceptsOnlyTeslaCallback(t *testing.T) {
	s := NewTest(t, Options{})
	if u := location(t, authorizeWith(t, s, "ownerapi", OwnerRedirectURI)); u.Query().Get("code") == "" {
		t.Fatalf("tesla://auth/callback refused: %s", u)
	}
	for _, redirect := range []string{
		"https://auth.tesla.com/void/callback", // retired in April 2026
		loopbackRedirect,
		"tesla://auth/callback/",
		"TESLA://auth/callback",
		"tesla://auth/callback?x=1",
	} {
		wantUnknownRedirect(t, authorizeWith(t, s, "ownerapi", redirect), redirect)
	}
	if s.Stats().Authorize != 1 {
		t.Errorf("stats %+v", s.Stats())
	}
}

func TestUnregisteredClientTakesAnyLoopbackPort(t *testing.T) {
	s := NewTest(t, Options{})
	for _, redirect := range []string{"http://127.0.0.1:1234/cb", "http://127.0.0.1:54321/callback", "http://[::1]:80/cb",
		"http://localhost:9/cb", OwnerRedirectURI} {
		for _, client := range []string{FleetClientID, "custom-app"} {
			if u := location(t, authorizeWith(t, s, client, redirect)); u.Query().Get("code") == "" {
				t.Errorf("%s %s: %s", client, redirect, u)
			}
		}
	}
}

func TestRegisteredRedirectURIsMatchExactly(t *testing.T) {
	const registered = "http://127.0.0.1:8080/cb"
	s := NewTest(t, Options{RedirectURIs: map[string][]string{"my-app": {registered}}})
	if u := location(t, authorizeWith(t, s, "my-app", registered)); u.Query().Get("code") == "" {
		t.Fatalf("registered URI refused: %s", u)
	}
	for _, redirect := range []string{"http://127.0.0.1:8081/cb", "http://127.0.0.1/cb", "http://localhost:8080/cb",
		registered + "/", registered + "?a=1"} {
		wantUnknownRedirect(t, authorizeWith(t, s, "my-app", redirect), redirect)
	}
	// ownerapi keeps its default next to other registrations.
	wantUnknownRedirect(t, authorizeWith(t, s, "ownerapi", registered), "ownerapi")

	s.RegisterRedirectURI("my-app", loopbackRedirect)
	s.RegisterRedirectURI("my-app", loopbackRedirect) // twice is once
	login(t, s, "my-app", "openid", nil)
}

func TestRedirectURIOptionReplacesOwnerDefault(t *testing.T) {
	s := NewTest(t, Options{RedirectURIs: map[string][]string{"ownerapi": {loopbackRedirect}}})
	wantUnknownRedirect(t, authorizeWith(t, s, "ownerapi", OwnerRedirectURI), "the replaced default")
	login(t, s, "ownerapi", "openid offline_access", nil)
}

func TestRedirectIsCheckedAgainAtTheExchange(t *testing.T) {
	s := NewTest(t, Options{})
	verifier, challenge := pkce("abc")
	code := authorize(t, s, "late-app", loopbackRedirect, challenge, "openid")
	// Registering another URI ends the client's any-URI regime before the
	// exchange.
	s.RegisterRedirectURI("late-app", "http://127.0.0.1:1/other")
	r := postForm(t, s.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"late-app"},
		"code": {code}, "redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}})
	if r.status != 400 || r.str(t, "error") != "invalid_grant" || !strings.Contains(r.str(t, "error_description"), "registered") {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	if s.Stats().CodeExchanges != 0 {
		t.Error("counted")
	}
}

func TestStrictFleet(t *testing.T) {
	none := NewTest(t, Options{StrictFleet: true})
	for _, redirect := range []string{loopbackRedirect, "http://127.0.0.1:1/cb", OwnerRedirectURI} {
		wantUnknownRedirect(t, authorizeWith(t, none, FleetClientID, redirect), redirect)
	}
	// Other clients keep their regime.
	if u := location(t, authorizeWith(t, none, "custom-app", loopbackRedirect)); u.Query().Get("code") == "" {
		t.Fatalf("custom client: %s", u)
	}
	none.RegisterRedirectURI(FleetClientID, loopbackRedirect)
	login(t, none, FleetClientID, "openid", nil)

	one := NewTest(t, Options{StrictFleet: true, RedirectURIs: map[string][]string{FleetClientID: {loopbackRedirect}}})
	login(t, one, FleetClientID, "openid", nil)
	wantUnknownRedirect(t, authorizeWith(t, one, FleetClientID, "http://127.0.0.1:9998/callback"), "other port")
}
