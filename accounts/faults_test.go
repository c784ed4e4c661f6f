package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adrg/xdg"
)

// errInjected is the failure tests inject into store writes.
var errInjected = errors.New("injected failure")

// failing makes s fail step for every path that fails says yes to.
func failing(s *Store, step string, fails func(path string) bool) {
	s.faults = func(st, path string) error {
		if st == step && fails(path) {
			return errInjected
		}
		return nil
	}
}

// privateState points the XDG state directory (the second recovery
// location) at a scratch directory for the test.
func privateState(t *testing.T) {
	t.Cleanup(xdg.Reload)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	xdg.Reload()
}

func isStore(s *Store) func(string) bool { return func(p string) bool { return p == s.Path() } }

func isRecovery(p string) bool { return strings.HasSuffix(p, RecoveryFile) }

func TestFailedRenameLeavesTheStoreAsItWas(t *testing.T) {
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "home"})
	before, _ := os.ReadFile(s.Path())
	failing(s, stepRename, isStore(s))
	err := s.Update(context.Background(), func(f *File) error { f.Accounts[0].Name = "work"; return nil })
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("got %v, want the injected failure naming %s", err, s.Path())
	}
	if after, _ := os.ReadFile(s.Path()); string(after) != string(before) {
		t.Fatal("the store changed although the rename failed")
	}
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+StoreFile) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	s.faults = nil
	if f, err := s.Load(); err != nil || f.Accounts[0].Name != "home" {
		t.Fatalf("after the failure: %v %+v", err, f)
	}
}

func TestFailedDirectorySyncIsAnError(t *testing.T) {
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "home"})
	failing(s, stepSyncDir, func(string) bool { return true })
	err := s.Update(context.Background(), func(f *File) error { f.Accounts[0].Name = "work"; return nil })
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "cannot sync "+s.Dir()) {
		t.Fatalf("got %v, want the sync failure naming the directory", err)
	}
}

// TestTwoRecoveryFilesAreMerged puts a recovery file in each location, as
// after failures of two processes, and checks that reads overlay both and
// that the next write merges both and removes both.
func TestTwoRecoveryFilesAreMerged(t *testing.T) {
	privateState(t)
	s := newStore(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seed(t, s, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-a0", AccessObtainedAt: t0},
		Account{ID: "000000b1", Name: "work", RefreshToken: "rt-b0", AccessObtainedAt: t0})
	paths := s.recoveryPaths()
	writeRecovery(t, paths[0], Account{ID: "000000a1", Name: "home", RefreshToken: "rt-a1", AccessObtainedAt: t0.Add(time.Hour)})
	writeRecovery(t, paths[1], Account{ID: "000000b1", Name: "work", RefreshToken: "rt-b1", AccessObtainedAt: t0.Add(time.Hour)},
		Account{ID: "000000c1", Name: "home", RefreshToken: "rt-c1", AccessObtainedAt: t0.Add(time.Hour)})
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	checkTokens(t, f, map[string]string{"000000a1": "rt-a1", "000000b1": "rt-b1", "000000c1": "rt-c1"})
	if c := f.Find("000000c1"); c.Name == "home" {
		t.Errorf("a recovered new account took the name of another: %+v", c)
	}
	if err := s.Update(context.Background(), func(*File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	checkTokens(t, loadFresh(t, s), map[string]string{"000000a1": "rt-a1", "000000b1": "rt-b1", "000000c1": "rt-c1"})
	for _, p := range paths {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed after the merge", p)
		}
	}
}

// TestOnlyMergedRecoveryFilesAreRemoved: a recovery file that cannot be
// decoded, or that is replaced after the merge read it, stays.
func TestOnlyMergedRecoveryFilesAreRemoved(t *testing.T) {
	privateState(t)
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "home"})
	paths := s.recoveryPaths()
	if err := os.WriteFile(paths[0], []byte(`{"version": 1, "accounts": [{"id": "000000a1", "refresh_to`), 0o600); err != nil {
		t.Fatal(err)
	}
	writeRecovery(t, paths[1], Account{ID: "000000a1", Name: "home", RefreshToken: "rt-1", AccessObtainedAt: time.Now()})
	err := s.Update(context.Background(), func(*File) error {
		// A writer that could not take the lock replaces the file after
		// the merge read it.
		writeRecovery(t, paths[1], Account{ID: "000000a1", Name: "home", RefreshToken: "rt-2", AccessObtainedAt: time.Now()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if err := s.Update(context.Background(), func(*File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	checkTokens(t, loadFresh(t, s), map[string]string{"000000a1": "rt-2"})
	if _, err := os.Lstat(paths[0]); err != nil {
		t.Errorf("the undecodable recovery file was removed: %v", err)
	}
}

func TestRecoveryFallsBackToTheStateDirectory(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m.Store, expired())
	paths := m.Store.recoveryPaths()
	failing(m.Store, stepWrite, func(p string) bool { return p == m.Store.Path() || p == paths[0] })
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath != paths[1] {
		t.Fatalf("got %v, want the token kept in %s", err, paths[1])
	}
	m.Store.faults = nil
	if a, _ := m.Find("home"); a.RefreshToken != "rt-1" {
		t.Fatalf("the recovered token is not read back: %+v", a)
	}
}

func TestBothRecoveryLocationsFailing(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m.Store, expired())
	failing(m.Store, stepWrite, func(string) bool { return true })
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath != "" {
		t.Fatalf("got %v, want an UnsavedError with no recovery file", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "nor to a recovery file") || !strings.Contains(msg, "free disk space") || strings.Contains(msg, "rt-1") {
		t.Fatalf("the message does not say that the token is nowhere and what to do, or shows it: %s", msg)
	}
}

// TestConcurrentRecoveryWritesKeepEveryAccount refreshes 24 accounts 8 at
// a time while every store write fails: all rotated tokens must be in
// the recovery file, then back in the store.
func TestConcurrentRecoveryWritesKeepEveryAccount(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	var accts []Account
	for i := range 24 {
		a := expired()
		a.ID, a.Name = fmt.Sprintf("%08x", i), fmt.Sprintf("car%02d", i)
		accts = append(accts, a)
	}
	seed(t, m.Store, accts...)
	m.Auth = authFunc(func(ctx context.Context, a Account) (Grant, error) {
		time.Sleep(20 * time.Millisecond)
		return Grant{AccessToken: "at-" + a.ID, RefreshToken: "rt-" + a.ID, Expiry: testNow.Add(time.Hour)}, nil
	})
	failing(m.Store, stepRename, isStore(m.Store))
	for _, r := range m.RefreshMany(context.Background(), accts, 8, 0, nil) {
		var ue *UnsavedError
		if !errors.As(r.Err, &ue) || ue.RecoveryPath == "" {
			t.Fatalf("%s: %v", r.Account.Name, r.Err)
		}
	}
	m.Store.faults = nil
	if err := m.Store.Update(context.Background(), func(*File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	f := loadFresh(t, m.Store)
	for _, a := range accts {
		if got := f.Find(a.ID).RefreshToken; got != "rt-"+a.ID {
			t.Errorf("%s: stored %q, the rotated token was lost", a.Name, got)
		}
	}
}

func TestAddWhoseWriteFailsKeepsTheLogin(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	failing(m.Store, stepRename, isStore(m.Store))
	login := Account{Kind: KindFleet, Email: "me@example.com", Subject: "s1", ClientID: "c",
		AccessToken: "at-new", RefreshToken: "rt-new", AccessObtainedAt: testNow}
	got, _, err := m.Add(context.Background(), login)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath == "" || !ValidID(got.ID) || got.Name != "me" {
		t.Fatalf("got %+v %v, want the login kept in a recovery file under an id and a name", got, err)
	}
	m.Store.faults = nil
	if err := m.Store.Update(context.Background(), func(*File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	f := loadFresh(t, m.Store)
	if a := f.Find(got.ID); a == nil || a.RefreshToken != "rt-new" || a.Name != "me" {
		t.Fatalf("the login did not make it into the store: %+v", f.Accounts)
	}
}

// TestRefreshWaitingForTheLock changes the account while a refresh waits
// for its lock: removed, marked login-required, or refreshed by another
// process. The waiting refresh makes no request in any case.
func TestRefreshWaitingForTheLock(t *testing.T) {
	cases := map[string]struct {
		change func(a *Account, f *File)
		check  func(t *testing.T, got Account, err error)
	}{
		"removed": {func(a *Account, f *File) { f.Remove(a.ID) }, func(t *testing.T, _ Account, err error) {
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "removed while waiting") {
				t.Fatalf("got %v", err)
			}
		}},
		"login required": {func(a *Account, _ *File) { a.State = StateLoginRequired }, func(t *testing.T, _ Account, err error) {
			if !errors.Is(err, ErrLoginRequired) {
				t.Fatalf("got %v", err)
			}
		}},
		// The other process's token lives an hour and has a minute left:
		// inside the margin, but used as it is.
		"refreshed meanwhile": {func(a *Account, _ *File) {
			a.AccessToken, a.Expiry, a.AccessObtainedAt = "at-other", testNow.Add(time.Minute), testNow.Add(-59*time.Minute)
		}, func(t *testing.T, got Account, err error) {
			if err != nil || got.AccessToken != "at-other" {
				t.Fatalf("got %q %v, want the other process's token", got.AccessToken, err)
			}
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m, auth := newManager(t)
			seed(t, m.Store, expired())
			got, err := whileLocked(t, m, func(ctx context.Context) (Account, error) {
				return m.Token(ctx, "home", 5*time.Minute)
			}, func() {
				err := Open(m.Store.Dir()).Update(context.Background(), func(f *File) error {
					c.change(f.Find("000000a1"), f)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
			c.check(t, got, err)
			if n := auth.calls.Load(); n != 0 {
				t.Fatalf("%d requests, want none", n)
			}
		})
	}
}

func TestCancelledLockWait(t *testing.T) {
	m, auth := newManager(t)
	seed(t, m.Store, expired())
	ctx, cancel := context.WithCancel(context.Background())
	_, err := whileLocked(t, m, func(context.Context) (Account, error) {
		return m.Token(ctx, "home", 0)
	}, cancel)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `stopped waiting for account "home"`) {
		t.Fatalf("got %v", err)
	}
	if auth.calls.Load() != 0 {
		t.Fatal("a request was made")
	}
}

// whileLocked runs call while another holder has the account's lock, lets
// meanwhile run once call waits for it, then lets go.
func whileLocked(t *testing.T, m *Manager, call func(context.Context) (Account, error), meanwhile func()) (Account, error) {
	t.Helper()
	other := Open(m.Store.Dir())
	unlock, err := other.LockAccount(context.Background(), "000000a1", "home")
	if err != nil {
		t.Fatal(err)
	}
	var got Account
	var wg sync.WaitGroup
	wg.Go(func() { got, err = call(context.Background()) })
	time.Sleep(50 * time.Millisecond) // call is waiting for the lock
	meanwhile()
	time.Sleep(20 * time.Millisecond)
	unlock()
	wg.Wait()
	return got, err
}

func writeRecovery(t *testing.T, path string, accts ...Account) {
	t.Helper()
	data, err := encode(&File{Version: CurrentVersion, Accounts: accts})
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			err = os.WriteFile(path+".tmp", data, 0o600)
		}
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func loadFresh(t *testing.T, s *Store) *File {
	t.Helper()
	f, err := Open(s.Dir()).Load()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func checkTokens(t *testing.T, f *File, want map[string]string) {
	t.Helper()
	for id, rt := range want {
		if a := f.Find(id); a == nil || a.RefreshToken != rt {
			t.Errorf("%s: %+v, want refresh token %s", id, a, rt)
		}
	}
}

// TestRevokeIsBounded: a revocation holds the account's lock across its
// request, so the manager's deadline ends a server that never answers.
func TestRevokeIsBounded(t *testing.T) {
	m, _ := newManager(t)
	seed(t, m.Store, expired())
	m.RefreshTimeout = 100 * time.Millisecond
	m.Auth = revokeFunc(func(ctx context.Context) (Revocation, error) {
		<-ctx.Done()
		return Revocation{}, ctx.Err()
	})
	done := make(chan error, 1)
	go func() { _, err := m.Revoke(context.Background(), "000000a1", false); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the revocation held the account's lock without bound")
	}
}

type revokeFunc func(ctx context.Context) (Revocation, error)

func (f revokeFunc) Refresh(context.Context, Account) (Grant, error)           { return Grant{}, nil }
func (f revokeFunc) Revoke(ctx context.Context, _ Account) (Revocation, error) { return f(ctx) }
