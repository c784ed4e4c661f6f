package accounts

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serverError is an upstream failure with an optional Retry-After.
type serverError struct{ retry time.Duration }

func (e serverError) Error() string             { return "token endpoint answered 503" }
func (e serverError) RetryDelay() time.Duration { return e.retry }

// failingAuth fails every refresh with err and counts them.
type failingAuth struct {
	calls atomic.Int32
	err   error
	delay time.Duration
}

func (f *failingAuth) Refresh(context.Context, Account) (Grant, error) {
	f.calls.Add(1)
	time.Sleep(f.delay)
	return Grant{}, f.err
}

func (f *failingAuth) Revoke(context.Context, Account) (Revocation, error) { return Revocation{}, nil }

// TestFailingServerSeesOneAttemptPerAccount: 100 callers (of this process
// and another) want a fresh token while the server answers 503: one
// request reaches it, and until the back-off ends no other does.
func TestFailingServerSeesOneAttemptPerAccount(t *testing.T) {
	t.Parallel()
	clock := testNow
	auth := &failingAuth{err: serverError{}, delay: 50 * time.Millisecond}
	m := newStoreManager(t, auth)
	m.Now = func() time.Time { return clock }
	seed(t, m, expired())
	other := reopen(t, m)
	other.Now = m.Now
	var wg sync.WaitGroup
	var backoffs atomic.Int32 // told to wait, or given the stale token with why
	for i := range 100 {
		wg.Go(func() {
			mm := m
			if i%2 == 1 {
				mm = other
			}
			_, err := mm.Token(context.Background(), "home", 5*time.Minute)
			var be *BackoffError
			if errors.As(err, &be) {
				backoffs.Add(1)
			}
		})
	}
	wg.Wait()
	if n := auth.calls.Load(); n != 1 {
		t.Fatalf("%d requests reached the failing server, want 1", n)
	}
	if backoffs.Load() != 99 {
		t.Errorf("%d callers were told to wait, want 99", backoffs.Load())
	}
	a := snapshot(t, m).Find("000000a1")
	if a.LastRefresh == nil || a.LastRefresh.Failures != 1 || !a.LastRefresh.RetryAt.Equal(testNow.Add(BackoffFirst)) {
		t.Fatalf("the failure was not remembered with its back-off: %+v", a.LastRefresh)
	}
	// After the back-off, one more attempt; its failure doubles the wait.
	clock = clock.Add(BackoffFirst)
	_, _ = m.Token(context.Background(), "home", 0)
	_, _ = other.Token(context.Background(), "home", 0)
	if n := auth.calls.Load(); n != 2 {
		t.Fatalf("%d requests after the back-off, want 2 in all", n)
	}
	a = snapshot(t, m).Find("000000a1")
	if a.LastRefresh.Failures != 2 || !a.LastRefresh.RetryAt.Equal(clock.Add(2*BackoffFirst)) {
		t.Fatalf("second failure: %+v", a.LastRefresh)
	}
	// The user's own refresh does not wait for keyfob's back-off.
	if _, err := m.Refresh(context.Background(), *a, Explicit); errors.Is(err, ErrBackoff) || auth.calls.Load() != 3 {
		t.Fatalf("an explicit refresh: %v after %d requests", err, auth.calls.Load())
	}
}

// TestRetryAfterIsHonouredByEveryone: a server's Retry-After holds back
// every refresh of the account, explicit ones too, and the error says
// until when.
func TestRetryAfterIsHonouredByEveryone(t *testing.T) {
	t.Parallel()
	auth := &failingAuth{err: serverError{retry: time.Hour}}
	m := newStoreManager(t, auth)
	seed(t, m, expired())
	if _, err := m.Token(context.Background(), "home", 0); err == nil {
		t.Fatal("no error from a 429")
	}
	a, _ := reopen(t, m).Get(context.Background(), "000000a1")
	if !a.LastRefresh.ServerDelay || !a.RetryAt(testNow).Equal(testNow.Add(time.Hour)) {
		t.Fatalf("the server's delay was not kept: %+v", a.LastRefresh)
	}
	_, err := reopen(t, m).Refresh(context.Background(), a, Explicit)
	var be *BackoffError
	if !errors.As(err, &be) || !be.ServerAsked || be.RetryIn(testNow) != time.Hour {
		t.Fatalf("an explicit refresh during Retry-After: %v", err)
	}
	if auth.calls.Load() != 1 {
		t.Fatalf("%d requests, want 1", auth.calls.Load())
	}
}

// TestStillValidTokenIsServedDuringBackoff: a token inside the margin but
// not expired is handed out while the refreshes back off.
func TestStillValidTokenIsServedDuringBackoff(t *testing.T) {
	t.Parallel()
	auth := &failingAuth{err: serverError{}}
	m := newStoreManager(t, auth)
	a := expired()
	a.Expiry, a.AccessObtainedAt = testNow.Add(2*time.Minute), testNow.Add(-8*time.Hour)
	seed(t, m, a)
	for i := range 5 {
		r, err := m.Token(context.Background(), "home", 5*time.Minute)
		if err != nil || r.Account.AccessToken != "at-0" || r.Stale == nil {
			t.Fatalf("got %q %v (stale: %v), want the still-valid token and why", r.Account.AccessToken, err, r.Stale)
		}
		if i > 0 && !errors.Is(r.Stale, ErrBackoff) {
			t.Fatalf("call %d: %v, want the back-off as the reason", i, r.Stale)
		}
	}
	if auth.calls.Load() != 1 {
		t.Fatalf("%d requests, want 1", auth.calls.Load())
	}
}

// TestLoginRequiredNeverReachesTheServer: the one rule (CanRefresh) keeps
// every kind of refresh of a login-required or revoked account away from
// the server.
func TestLoginRequiredNeverReachesTheServer(t *testing.T) {
	t.Parallel()
	for _, state := range []State{StateLoginRequired, StateRevoked} {
		auth := &failingAuth{err: serverError{}}
		m := newStoreManager(t, auth)
		a := expired()
		a.State = state
		b := expired()
		b.ID, b.Name, b.RefreshToken, b.State = "000000b1", "partner", "", StateActive
		seed(t, m, a, b)
		ctx := context.Background()
		_, err1 := m.Token(ctx, "home", 0)
		_, err2 := m.Refresh(ctx, a, Explicit)
		res := m.RefreshMany(ctx, []Account{a, b}, 2, 0, Explicit, nil)
		for i, err := range []error{err1, err2, res[0].Err, res[1].Err} {
			var ce *CannotRefreshError
			if !errors.As(err, &ce) {
				t.Errorf("%s, call %d: %v, want CannotRefreshError", state, i, err)
			}
		}
		if !errors.Is(err1, ErrLoginRequired) || !errors.Is(res[1].Err, ErrNotRefreshable) {
			t.Errorf("%s: %v / %v", state, err1, res[1].Err)
		}
		if auth.calls.Load() != 0 {
			t.Fatalf("%s: %d requests reached the server", state, auth.calls.Load())
		}
	}
}

// TestImplausibleRetryTimeHoldsNothingBack: a back-off that keyfob never
// sets (a wait of ten years, edited in by hand; a failure "in the future",
// after the clock was stepped back) does not stop the account: the next
// token request refreshes it.
func TestImplausibleRetryTimeHoldsNothingBack(t *testing.T) {
	t.Parallel()
	for name, last := range map[string]RefreshResult{
		"ten years":          {At: testNow.Add(-time.Minute), RetryAt: testNow.AddDate(10, 0, 0), Failures: 1, ServerDelay: true},
		"clock stepped back": {At: testNow.Add(48 * time.Hour), RetryAt: testNow.Add(48*time.Hour + BackoffFirst), Failures: 1},
	} {
		t.Run(name, func(t *testing.T) {
			m, auth := newManager(t)
			a := expired()
			a.LastRefresh, a.State = &last, StateError
			seed(t, m, a)
			got, err := m.Token(context.Background(), "home", 5*time.Minute)
			if err != nil || !got.Requested || auth.calls.Load() != 1 {
				t.Fatalf("got %v after %d requests, want one refresh", err, auth.calls.Load())
			}
		})
	}
	// What keyfob sets holds: the server's hour, recorded here or by a
	// machine whose clock is two minutes ahead.
	for _, at := range []time.Time{testNow.Add(-time.Minute), testNow.Add(2 * time.Minute)} {
		m, auth := newManager(t)
		a := expired()
		a.LastRefresh, a.State = &RefreshResult{At: at, RetryAt: at.Add(time.Hour), Failures: 1, ServerDelay: true}, StateError
		seed(t, m, a)
		if _, err := m.Token(context.Background(), "home", 5*time.Minute); !errors.Is(err, ErrBackoff) || auth.calls.Load() != 0 {
			t.Fatalf("failure at %v: got %v after %d requests, want the server's Retry-After honoured", at, err, auth.calls.Load())
		}
	}
}
