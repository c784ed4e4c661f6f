package accounts_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestShortLivedTokensRefreshOnce asks 20 callers at once, each with its
// own Store on the same directory (they share nothing in memory, like
// processes), for a token that lives 4 s while the margin is 5 min. The
// server must see exactly one refresh, and every caller get the same token.
// The clock of the sandbox, the engine and the managers stands still, so a
// slow machine cannot make the token expire under the test.
//
// Checked against the code before the margin was capped: 20 refreshes, one
// per caller, each replacing the token the previous one had just got.
func TestShortLivedTokensRefreshOnce(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	e := newSandbox(t, sandbox.Options{AccessTTL: 4 * time.Second, Now: func() time.Time { return t0 }})
	a := e.minted(1, time.Second)
	// A 4 s token with 1 s left: due, as half its lifetime (2 s) is left.
	a.AccessObtainedAt = t0.Add(-3 * time.Second)
	e.seed(a)

	const callers = 20
	tokens := make([]string, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		m := e.manager()
		wg.Go(func() {
			<-start
			r, err := m.Token(context.Background(), a.Name, accounts.DefaultRefreshMargin)
			got := r.Account
			if err != nil {
				t.Error(err)
			}
			tokens[i] = got.AccessToken
		})
	}
	close(start)
	wg.Wait()
	if n := e.srv.Stats().Refreshes; n != 1 {
		t.Fatalf("%d refreshes at the server for %d callers, want 1", n, callers)
	}
	stored := e.load().Find(a.ID)
	for i, tok := range tokens {
		if tok != stored.AccessToken {
			t.Fatalf("caller %d got another token than the stored one", i)
		}
	}
	// The new token is used as it is from now on: no request.
	if _, err := e.manager().Token(context.Background(), a.Name, accounts.DefaultRefreshMargin); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Stats().Refreshes; n != 1 {
		t.Fatalf("a fresh 4 s token was refreshed again (%d refreshes)", n)
	}
}

// TestRefreshDeadlineFreesTheLock refreshes through an HTTP client with no
// timeout against a server that never answers: the manager's own deadline
// ends the request, the account's lock is free again, and the error says
// that the server may have rotated the refresh token.
//
// Checked by hand against the manager with its deadline removed: Token
// never returned, and the test failed at its 10 s guard.
func TestRefreshDeadlineFreesTheLock(t *testing.T) {
	t.Parallel()
	e := newSandbox(t, sandbox.Options{})
	e.eng.HTTPClient = &http.Client{} // no timeout, as with --http-timeout 0
	a := e.minted(1, -time.Minute)
	e.seed(a)
	m := e.manager()
	m.RefreshTimeout = 300 * time.Millisecond
	e.srv.FailNext(sandbox.FaultTimeout, 1)

	err := withGuard(t, func() error {
		_, err := m.Token(context.Background(), a.Name, accounts.DefaultRefreshMargin)
		return err
	})
	checkOutcomeUnknown(t, err, a)
	// Another process takes the lock at once.
	done := make(chan error, 1)
	go func() {
		_, _, err := e.manager().Edit(context.Background(), a.ID, func(x *accounts.Account) error { x.Name = "renamed"; return nil })
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("another process could not change the account after the refresh gave up: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the account's lock is still held after the refresh gave up")
	}
}

// TestRefreshLostAnswerKeepsTheAccount lets the server perform the refresh
// (rotating the token) but drip its answer so slowly that the deadline
// passes first. With Tesla's grace period the previous refresh token still
// works, as the message says, and the next refresh brings the account back.
func TestRefreshLostAnswerKeepsTheAccount(t *testing.T) {
	t.Parallel()
	e := newSandbox(t, sandbox.Options{RefreshGrace: time.Hour})
	a := e.minted(1, -time.Minute)
	e.seed(a)
	m := e.manager()
	m.RefreshTimeout = 500 * time.Millisecond
	e.srv.FailNext(sandbox.FaultSlowDrip, 1)

	err := withGuard(t, func() error {
		_, err := m.Token(context.Background(), a.Name, 0)
		return err
	})
	checkOutcomeUnknown(t, err, a)
	if e.srv.LiveRefreshTokens() != 2 {
		t.Fatalf("the server did not rotate the token (%d live)", e.srv.LiveRefreshTokens())
	}
	if got := e.load().Find(a.ID); got.RefreshToken != a.RefreshToken || got.State != accounts.StateError {
		t.Fatalf("after a lost answer the account must keep its refresh token and say so: %+v", got)
	}
	// An automatic refresh waits out the back-off; the user's own does not.
	if _, err := m.Token(context.Background(), a.Name, 0); !errors.Is(err, accounts.ErrBackoff) {
		t.Fatalf("an automatic refresh right after the failure: %v, want it postponed", err)
	}
	seen, _ := m.Find(context.Background(), a.ID)
	r, err := m.Refresh(context.Background(), seen, accounts.Explicit)
	if err != nil {
		t.Fatalf("the next refresh, within the grace period: %v", err)
	}
	got := r.Account
	if !e.srv.RefreshTokenLive(got.RefreshToken) || e.load().Find(a.ID).RefreshToken != got.RefreshToken {
		t.Fatal("the account did not come back with a live refresh token")
	}
}

// TestRefreshCancelledMidRequest cancels the caller's context while the
// request is at the server: the outcome is unknown too.
func TestRefreshCancelledMidRequest(t *testing.T) {
	t.Parallel()
	e := newSandbox(t, sandbox.Options{})
	a := e.minted(1, -time.Minute)
	e.seed(a)
	e.srv.FailNext(sandbox.FaultTimeout, 1)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	err := withGuard(t, func() error {
		_, err := e.manager().Token(ctx, a.Name, 0)
		return err
	})
	checkOutcomeUnknown(t, err, a)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("the error does not say it was cancelled: %v", err)
	}
}

// TestServerErrorOutcomeUnknown checks oauth.ServerError's side of the
// sentinel: a timeout after the request went out matches, an answer or a
// server that cannot be reached does not.
func TestServerErrorOutcomeUnknown(t *testing.T) {
	t.Parallel()
	e := newSandbox(t, sandbox.Options{})
	eng := &oauth.Engine{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}}
	for _, c := range []struct {
		fault sandbox.Fault
		want  bool
	}{{sandbox.FaultTimeout, true}, {sandbox.FaultSlowDrip, true}, {sandbox.FaultServerError, false},
		{sandbox.FaultInvalidGrant, false}} {
		e.srv.FailNext(c.fault, 1)
		_, err := eng.Refresh(context.Background(), e.minted(1, time.Hour))
		if got := errors.Is(err, accounts.ErrOutcomeUnknown); got != c.want {
			t.Errorf("%s: errors.Is(ErrOutcomeUnknown) = %v, want %v (%v)", c.fault, got, c.want, err)
		}
	}
	gone := e.minted(2, time.Hour)
	gone.Endpoints.TokenURL = "http://127.0.0.1:1/oauth2/v3/token"
	if _, err := eng.Refresh(context.Background(), gone); err == nil || errors.Is(err, accounts.ErrOutcomeUnknown) {
		t.Errorf("a refused connection cannot have reached the server: %v", err)
	}
}

// withGuard runs fn and fails the test if it has not returned in 10 s.
func withGuard(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh did not return within 10 s: nothing bounds it")
		return nil
	}
}

func checkOutcomeUnknown(t *testing.T, err error, a accounts.Account) {
	t.Helper()
	if !errors.Is(err, accounts.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want an error matching ErrOutcomeUnknown", err)
	}
	msg := err.Error()
	for _, want := range []string{a.Name, "may have rotated the refresh token", "previous one", "log in again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message does not say %q: %s", want, msg)
		}
	}
	for _, secret := range []string{a.AccessToken, a.RefreshToken} {
		if strings.Contains(msg, secret) {
			t.Fatal("the message holds a token")
		}
	}
}
