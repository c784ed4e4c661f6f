package ui

import (
	"context"
	"testing"

	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
)

// fakeLogins are Tesla's logins (presets, preparation, import) with a
// sign-in whose browser step is fixed: a real one carries a random state
// and port, which goldens cannot hold.
type fakeLogins struct {
	common.Logins
	signIn *fakeSignIn
}

// Begin implements common.Logins.
func (l fakeLogins) Begin(context.Context, oauth.Prepared) (common.SignIn, error) {
	return l.signIn, nil
}

// fakeSignIn is a browser sign-in at a fixed address. Finish waits for the
// end of the sign-in unless waitErr is set; Complete fails with pasteErr.
type fakeSignIn struct {
	authURL, redirect string
	loopback          bool
	waitErr, pasteErr error
}

func (s *fakeSignIn) Browser() common.Browser { return s }
func (s *fakeSignIn) AuthURL() string         { return s.authURL }
func (s *fakeSignIn) RedirectURI() string     { return s.redirect }
func (s *fakeSignIn) Loopback() bool          { return s.loopback }
func (s *fakeSignIn) OpenBrowser() error      { return nil }
func (s *fakeSignIn) Close()                  {}

func (s *fakeSignIn) Finish(ctx context.Context) (oauth.Saved, error) {
	if s.waitErr != nil {
		return oauth.Saved{}, s.waitErr
	}
	<-ctx.Done()
	return oauth.Saved{}, ctx.Err()
}

func (s *fakeSignIn) Complete(context.Context, string) (oauth.Saved, error) {
	return oauth.Saved{}, s.pasteErr
}

// The fixed addresses of the browser step's goldens.
var (
	loopbackSignIn = fakeSignIn{
		loopback: true,
		redirect: "http://127.0.0.1:53682/callback",
		authURL:  "https://auth.tesla.com/oauth2/v3/authorize?client_id=test-client&code_challenge=STATIC-CHALLENGE&code_challenge_method=S256&prompt_missing_scopes=true&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcallback&response_type=code&scope=openid+offline_access+vehicle_device_data&state=STATIC-STATE",
	}
	pasteSignIn = fakeSignIn{
		redirect: "tesla://auth/callback",
		authURL:  "https://auth.tesla.com/oauth2/v3/authorize?client_id=ownerapi&code_challenge=STATIC-CHALLENGE&code_challenge_method=S256&redirect_uri=tesla%3A%2F%2Fauth%2Fcallback&response_type=code&scope=openid+email+offline_access&state=STATIC-STATE",
	}
)

// withSignIn makes the model's logins begin s instead of a real sign-in.
func withSignIn(t testing.TB, m *Model, s fakeSignIn) {
	t.Helper()
	m.c.Logins = fakeLogins{Logins: m.c.Logins, signIn: &s}
}
