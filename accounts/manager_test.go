package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAuth hands out numbered tokens and counts refreshes.
type fakeAuth struct {
	calls atomic.Int32
	delay time.Duration
	err   error
	ttl   time.Duration
	now   func() time.Time
}

func (f *fakeAuth) Refresh(ctx context.Context, a Account) (Grant, error) {
	n := f.calls.Add(1)
	time.Sleep(f.delay)
	if f.err != nil {
		return Grant{}, f.err
	}
	return Grant{AccessToken: fmt.Sprintf("at-%d", n), RefreshToken: fmt.Sprintf("rt-%d", n),
		Expiry: f.now().Add(f.ttl), GrantedScopes: []string{"openid"}}, nil
}

func (f *fakeAuth) Revoke(ctx context.Context, a Account) (Revocation, error) {
	if f.err != nil {
		return Revocation{Outcome: RevokeFailed}, f.err
	}
	return Revocation{Outcome: RevokedAtServer, Revoked: []string{"refresh_token"}}, nil
}

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newManager(t *testing.T) (*Manager, *fakeAuth) {
	auth := &fakeAuth{ttl: 8 * time.Hour, now: func() time.Time { return testNow }}
	m := newStoreManager(t, auth)
	m.Now = auth.now
	return m, auth
}

func expired() Account {
	return Account{ID: "000000a1", Name: "home", Email: "me@example.com", Kind: KindFleet, AccessToken: "at-0",
		RefreshToken: "rt-0", Expiry: testNow.Add(-time.Minute)}
}

func TestTokenFreshMakesNoRequest(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	a := expired()
	a.Expiry = testNow.Add(time.Hour)
	seed(t, m, a)
	got, err := m.Token(context.Background(), "home", 5*time.Minute)
	if err != nil || got.Account.AccessToken != "at-0" || got.Requested || auth.calls.Load() != 0 {
		t.Fatalf("got %q %v after %d calls", got.Account.AccessToken, err, auth.calls.Load())
	}
}

func TestTokenNearExpiryRefreshesOnceAndSavesRotation(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	a := expired()
	a.Expiry = testNow.Add(2 * time.Minute) // inside --min-valid 5m
	seed(t, m, a)
	got, err := m.Token(context.Background(), "home", 5*time.Minute)
	if err != nil || got.Account.AccessToken != "at-1" || !got.Requested || auth.calls.Load() != 1 {
		t.Fatalf("got %q %v after %d calls", got.Account.AccessToken, err, auth.calls.Load())
	}
	s := snapshot(t, m).Find("000000a1")
	if s.RefreshToken != "rt-1" || !s.RefreshObtainedAt.Equal(testNow) || s.State != StateActive || s.Rotation != a.Rotation+1 {
		t.Fatalf("stored %+v", s)
	}
}

func TestConcurrentTokenRefreshesOnce(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	auth.delay = 20 * time.Millisecond
	seed(t, m, expired())
	var wg sync.WaitGroup
	tokens := make([]string, 20)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each caller has its own Manager, like separate processes.
			other := reopen(t, m)
			a, err := other.Token(context.Background(), "", 5*time.Minute)
			if err != nil {
				t.Error(err)
			}
			tokens[i] = a.Account.AccessToken
		}()
	}
	wg.Wait()
	if n := auth.calls.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	for _, tok := range tokens {
		if tok != "at-1" {
			t.Fatalf("tokens differ: %q", tokens)
		}
	}
}

func TestLoginRequiredIsRecordedAndNotRetried(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	auth.err = fmt.Errorf("server says no: %w", ErrLoginRequired)
	seed(t, m, expired())
	_, err := m.Token(context.Background(), "home", 0)
	if !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("got %v", err)
	}
	// The error names the server's words once, not wrapped in prefixes.
	if strings.Count(err.Error(), "server says no") != 1 {
		t.Errorf("message: %v", err)
	}
	if a := snapshot(t, m).Find("000000a1"); a.State != StateLoginRequired || a.RefreshToken != "rt-0" || a.LastRefresh.OK {
		t.Fatalf("stored %+v", a)
	}
	_, err = m.Token(context.Background(), "home", 0)
	if !errors.Is(err, ErrLoginRequired) || auth.calls.Load() != 1 {
		t.Fatalf("second call: %v after %d requests", err, auth.calls.Load())
	}
}

func TestRefreshSkipsWhenAnotherProcessRefreshed(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	seed(t, m, expired())
	seen, _ := m.Find(context.Background(), "home")
	if _, err := m.Refresh(context.Background(), seen, Explicit); err != nil {
		t.Fatal(err)
	}
	// A second refresh based on the stale view makes no request.
	got, err := m.Refresh(context.Background(), seen, Explicit)
	if err != nil || got.Account.AccessToken != "at-1" || got.Requested || auth.calls.Load() != 1 {
		t.Fatalf("got %q %v after %d calls", got.Account.AccessToken, err, auth.calls.Load())
	}
}

func TestRefreshManyBoundsConcurrency(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	var inflight, peak atomic.Int32
	m.Auth = authFunc(func(ctx context.Context, a Account) (Grant, error) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		inflight.Add(-1)
		return Grant{AccessToken: "new-" + a.ID, Expiry: testNow.Add(time.Hour)}, nil
	})
	var accts []Account
	for i := range 12 {
		a := expired()
		a.ID, a.Name = fmt.Sprintf("%08x", i), fmt.Sprintf("acct%02d", i)
		accts = append(accts, a)
	}
	seed(t, m, accts...)
	var done atomic.Int32
	res := m.RefreshMany(context.Background(), accts, 3, 0, Explicit, func(int, RefreshManyResult) { done.Add(1) })
	if peak.Load() > 3 || peak.Load() < 2 {
		t.Errorf("peak concurrency %d, want 2..3", peak.Load())
	}
	if done.Load() != 12 {
		t.Errorf("done called %d times", done.Load())
	}
	for i, r := range res {
		if r.Err != nil || r.Account.AccessToken != "new-"+accts[i].ID {
			t.Errorf("result %d: %+v", i, r)
		}
	}
}

type authFunc func(ctx context.Context, a Account) (Grant, error)

func (f authFunc) Refresh(ctx context.Context, a Account) (Grant, error) { return f(ctx, a) }
func (f authFunc) Revoke(context.Context, Account) (Revocation, error) {
	return Revocation{Outcome: RevokeUnsupported}, nil
}

func TestUnsavedRotationGoesToRecovery(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired())
	s := storeOf(m)
	// The records directory takes nothing more; the recovery one does.
	s.faults = func(step, path string) error {
		if step == stepRename && strings.HasPrefix(path, s.path(recordsDir)) {
			return errors.New("no space left on device")
		}
		return nil
	}
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath == "" || ue.InMemory {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "rt-1") || strings.Contains(err.Error(), "at-1") {
		t.Fatal("error text holds a token")
	}
	// The next read, by any process, sees the recovered token.
	a, err := reopen(t, m).Find(context.Background(), "home")
	if err != nil || a.RefreshToken != "rt-1" {
		t.Fatalf("after recovery: %q %v", a.RefreshToken, err)
	}
}

// TestRotationKeptInMemoryWhenNothingCanBeWritten: with neither the
// store nor a recovery file writable, the process holds the rotated token,
// refreshes from it, and saves it once it can.
func TestRotationKeptInMemoryWhenNothingCanBeWritten(t *testing.T) {
	privateState(t)
	m, auth := newManager(t)
	seed(t, m, expired())
	s := storeOf(m)
	s.faults = func(step, path string) error {
		if step == stepRename {
			return errors.New("read-only file system")
		}
		return nil
	}
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || !ue.InMemory {
		t.Fatalf("got %v", err)
	}
	if a, _ := m.Get(context.Background(), "000000a1"); a.RefreshToken != "rt-1" {
		t.Fatalf("this process does not use the rotation it holds: %q", a.RefreshToken)
	}
	if n := m.SaveUnsaved(context.Background()); n != 1 {
		t.Fatalf("%d unsaved while nothing can be written, want 1", n)
	}
	s.faults = nil
	if n := m.SaveUnsaved(context.Background()); n != 0 {
		t.Fatalf("%d still unsaved", n)
	}
	if a := snapshot(t, m).Find("000000a1"); a.RefreshToken != "rt-1" {
		t.Fatalf("stored %q", a.RefreshToken)
	}
	if auth.calls.Load() != 1 {
		t.Fatalf("%d refreshes", auth.calls.Load())
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	accts := []Account{
		{ID: "aa11", Name: "home", Email: "me@example.com"},
		{ID: "bb22", Name: "work", Email: "boss@corp.example"},
		{ID: "bb33", Name: "workshop"},
	}
	for ref, want := range map[string]string{"home": "aa11", "HOME": "aa11", "me@example.com": "aa11",
		"aa": "aa11", "work": "bb22", "boss": "bb22", "works": "bb33", "bb33": "bb33"} {
		a, err := Resolve(accts, ref)
		if err != nil || a.ID != want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", ref, a, err, want)
		}
	}
	if _, err := Resolve(accts, "bb"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("bb: %v", err)
	}
	if _, err := Resolve(accts, "zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("zzz: %v", err)
	}
	if _, err := Resolve(accts, ""); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("empty ref with 3 accounts: %v", err)
	}
	if a, err := Resolve(accts[:1], ""); err != nil || a.ID != "aa11" {
		t.Errorf("empty ref with 1 account: %v", err)
	}
}

func TestAddNamesAndReplacesSameLogin(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	ctx := context.Background()
	s1, err := m.Add(ctx, Account{Kind: KindFleet, Email: "me@example.com", Subject: "s1", ClientID: "c", AccessToken: "x"})
	a := s1.Account
	if err != nil || s1.Replaced || a.Name != "me" || a.ID == "" {
		t.Fatalf("%+v %v", s1, err)
	}
	s2, err := m.Add(ctx, Account{Kind: KindOwner, Email: "me@example.com", Subject: "s2", AccessToken: "y"})
	if err != nil || s2.Account.Name != "me-2" {
		t.Fatalf("second name %q %v", s2.Account.Name, err)
	}
	s3, err := m.Add(ctx, Account{Name: "car2", Kind: KindFleet, Email: "me@example.com", Subject: "s1", ClientID: "c", AccessToken: "z"})
	c := s3.Account
	if err != nil || !s3.Replaced || c.ID != a.ID || c.Name != "me" || c.AccessToken != "z" || s3.NameNotUsed != "car2" {
		t.Fatalf("re-login: %+v %v", s3, err)
	}
	if _, err := m.Add(ctx, Account{Name: "ME", Kind: KindPartner}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name: %v", err)
	}
	list, _ := m.List(ctx)
	if len(list) != 2 {
		t.Fatalf("%d accounts", len(list))
	}
}

func TestRevokeMarksOrRemoves(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	ctx := context.Background()
	a := expired()
	b := expired()
	b.ID, b.Name = "000000b1", "work"
	seed(t, m, a, b)
	rev, err := m.Revoke(ctx, "000000a1", RevokeOptions{})
	if err != nil || rev.Outcome != RevokedAtServer {
		t.Fatal(rev, err)
	}
	got, _ := m.Find(ctx, "000000a1")
	if got.State != StateRevoked || got.RefreshToken != "" {
		t.Fatalf("%+v", got)
	}
	auth.err = errors.New("network down")
	rev, err = m.Revoke(ctx, "000000b1", RevokeOptions{})
	if err == nil || rev.Outcome != RevokeFailed {
		t.Fatal(rev, err)
	}
	got, _ = m.Find(ctx, "000000b1")
	if got.State != StateRevoked || got.RefreshToken != "rt-0" {
		t.Fatalf("failed revoke dropped the refresh token: %+v", got)
	}
	auth.err = nil
	if _, err := m.Revoke(ctx, "000000b1", RevokeOptions{Remove: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Find(ctx, "000000b1"); !errors.Is(err, ErrNotFound) {
		t.Fatal("not removed")
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a    Account
		want Health
	}{
		{Account{AccessToken: "x", Expiry: testNow.Add(2 * time.Hour)}, HealthValid},
		{Account{AccessToken: "x", Expiry: testNow.Add(30 * time.Minute)}, HealthExpiring},
		{Account{AccessToken: "x", Expiry: testNow.Add(-time.Second)}, HealthExpired},
		{Account{AccessToken: "x", Expiry: testNow.Add(2 * time.Hour), State: StateRevoked}, HealthRevoked},
		{Account{AccessToken: "x", State: StateLoginRequired}, HealthLoginRequired},
		{Account{AccessToken: "x", Expiry: testNow.Add(2 * time.Hour), State: StateError}, HealthValid},
		{Account{AccessToken: "x", Expiry: testNow.Add(-time.Second), State: StateError}, HealthError},
		{Account{}, HealthExpired},
	}
	for i, c := range cases {
		if got := c.a.Health(testNow); got != c.want {
			t.Errorf("%d: %s, want %s", i, got, c.want)
		}
	}
}

func TestImportChecksTheNameBeforeSpendingTheToken(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	seed(t, m, Account{ID: "0000000f", Name: "home", Kind: KindOwner, ClientID: "ownerapi"})
	_, err := m.Import(context.Background(), Account{Name: "home", Kind: KindFleet, ClientID: "app", RefreshToken: "rt-0"})
	if !errors.Is(err, ErrNameTaken) || auth.calls.Load() != 0 {
		t.Fatalf("got %v after %d refreshes; want ErrNameTaken before any", err, auth.calls.Load())
	}
	// The same login under its own name is fine (it is updated in place).
	if _, err := m.Import(context.Background(), Account{Name: "home", Kind: KindOwner, ClientID: "ownerapi", RefreshToken: "rt-0"}); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeAndRemoveKeepsTheAccountWhenTheServerFailed(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	seed(t, m, expired())
	auth.err = errors.New("network down")
	rev, err := m.Revoke(context.Background(), "000000a1", RevokeOptions{Remove: true})
	if err == nil || rev.Outcome != RevokeFailed || !strings.Contains(err.Error(), "was kept") {
		t.Fatalf("%+v %v", rev, err)
	}
	a, err := m.Find(context.Background(), "000000a1")
	if err != nil || a.State != StateRevoked || a.RefreshToken != "rt-0" {
		t.Fatalf("the account must stay, marked revoked, with its tokens: %+v %v", a, err)
	}
}

// Callers that hold an account's id (the token service, exec, revoke)
// look it up with Resolve: another account named like that id must not
// make it ambiguous, nor be taken for it.
func TestResolveByIDBeatsANameLikeIt(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	home := expired()
	other := Account{ID: "000000b2", Name: home.ID, Kind: KindFleet, AccessToken: "at-x", RefreshToken: "rt-x",
		Expiry: testNow.Add(time.Hour)}
	seed(t, m, home, other)
	got, err := m.Token(context.Background(), home.ID, 5*time.Minute)
	if err != nil || got.Account.ID != home.ID || auth.calls.Load() != 1 {
		t.Fatalf("Token(%s) = %s, %v after %d refreshes", home.ID, got.Account.ID, err, auth.calls.Load())
	}
	if a, err := Resolve([]Account{other, home}, home.ID); err != nil || a.ID != home.ID {
		t.Fatalf("Resolve(%s) = %v, %v", home.ID, a, err)
	}
}
