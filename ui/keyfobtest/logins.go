package keyfobtest

import (
	"context"
	"sync"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
)

// Logins are the login wizard's logins with a sign-in in a state the test
// chooses: Begin starts SignIn (when set), and Prepare fails with
// PrepareErr (when set); the rest is the embedded logins'.
type Logins struct {
	common.Logins
	PrepareErr error
	SignIn     *SignIn
}

// Prepare implements common.Logins.
func (l Logins) Prepare(ctx context.Context, r oauth.Request) (oauth.Prepared, error) {
	if l.PrepareErr != nil {
		return oauth.Prepared{}, l.PrepareErr
	}
	return l.Logins.Prepare(ctx, r)
}

// Begin implements common.Logins.
func (l Logins) Begin(ctx context.Context, p oauth.Prepared) (common.SignIn, error) {
	if l.SignIn == nil {
		return l.Logins.Begin(ctx, p)
	}
	return l.SignIn, nil
}

// SignIn is a browser sign-in at a fixed address (a real one carries a
// random state and port, which goldens cannot hold). Finish waits for the
// sign-in to end unless it was given an error; Complete fails with the
// paste error while there is one, else saves an account named car.
type SignIn struct {
	URL, Redirect string
	IsLoopback    bool

	mu                sync.Mutex
	waitErr, pasteErr error
	closed            bool
}

// LoopbackSignIn is a Fleet API sign-in whose browser comes back to a
// loopback listener.
func LoopbackSignIn() *SignIn {
	return &SignIn{IsLoopback: true, Redirect: "http://127.0.0.1:53682/callback",
		URL: "https://auth.tesla.com/oauth2/v3/authorize?client_id=test-client&code_challenge=STATIC-CHALLENGE&code_challenge_method=S256&prompt_missing_scopes=true&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcallback&response_type=code&scope=openid+offline_access+vehicle_device_data&state=STATIC-STATE"}
}

// PasteSignIn is an Owner API sign-in whose browser lands on a tesla://
// address that the user pastes.
func PasteSignIn() *SignIn {
	return &SignIn{Redirect: "tesla://auth/callback",
		URL: "https://auth.tesla.com/oauth2/v3/authorize?client_id=ownerapi&code_challenge=STATIC-CHALLENGE&code_challenge_method=S256&redirect_uri=tesla%3A%2F%2Fauth%2Fcallback&response_type=code&scope=openid+email+offline_access&state=STATIC-STATE"}
}

// FailWait makes Finish fail with err (the server refused the code).
func (s *SignIn) FailWait(err error) *SignIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waitErr = err
	return s
}

// FailPaste makes Complete fail with err; nil lets it succeed.
func (s *SignIn) FailPaste(err error) *SignIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pasteErr = err
	return s
}

// Closed reports whether the sign-in was closed (its listener, for a
// real one).
func (s *SignIn) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Browser implements common.SignIn.
func (s *SignIn) Browser() common.Browser { return s }

// AuthURL implements common.Browser.
func (s *SignIn) AuthURL() string { return s.URL }

// RedirectURI implements common.Browser.
func (s *SignIn) RedirectURI() string { return s.Redirect }

// Loopback implements common.Browser.
func (s *SignIn) Loopback() bool { return s.IsLoopback }

// OpenBrowser implements common.Browser: no browser opens.
func (s *SignIn) OpenBrowser() error { return nil }

// Finish implements common.SignIn.
func (s *SignIn) Finish(ctx context.Context) (oauth.Saved, error) {
	s.mu.Lock()
	err := s.waitErr
	s.mu.Unlock()
	if err != nil {
		return oauth.Saved{}, err
	}
	<-ctx.Done()
	return oauth.Saved{}, ctx.Err()
}

// Complete implements common.SignIn.
func (s *SignIn) Complete(context.Context, string) (oauth.Saved, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pasteErr != nil {
		return oauth.Saved{}, s.pasteErr
	}
	return oauth.Saved{Account: accounts.Account{ID: "1d000001", Name: "car"}}, nil
}

// Close implements common.SignIn.
func (s *SignIn) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}
