package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adrg/xdg"
)

// errInjected is the failure tests inject into store writes.
var errInjected = errors.New("injected failure")

// failing makes the store of m fail step for every path that fails says
// yes to.
func failing(m *Manager, step string, fails func(path string) bool) {
	storeOf(m).faults = func(st, path string) error {
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

func inRecords(m *Manager) func(string) bool {
	dir := storeOf(m).path(recordsDir)
	return func(p string) bool { return filepath.Dir(p) == dir }
}

// TestWritesAreCreatedPrivateSyncedRenamedAndTheDirectorySynced watches
// every write of a refresh, an edit and a login: each temporary file is
// 0600 from the moment it exists (never chmod-ed down later), is synced
// before it is renamed into place, and the directory is synced after.
func TestWritesAreCreatedPrivateSyncedRenamedAndTheDirectorySynced(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired())
	s := storeOf(m)
	var mu sync.Mutex
	var steps []string
	s.faults = func(step, path string) error {
		mu.Lock()
		defer mu.Unlock()
		if step == stepCreate {
			if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s was not created 0600: %v %v", path, fi, err)
			}
			path = "tmp"
		}
		steps = append(steps, step+" "+filepath.Base(path))
		return nil
	}
	ctx := context.Background()
	if _, err := m.Token(ctx, "home", 0); err != nil {
		t.Fatal(err)
	}
	want := []string{"create tmp", "write 000000a1.json", "sync 000000a1.json", "rename 000000a1.json", "syncdir records"}
	if !slices.Equal(steps, want) {
		t.Errorf("a refresh wrote %q, want %q", steps, want)
	}
	steps = nil
	if _, err := m.Rename(ctx, "000000a1", "house"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"000000a1.json", "records"} {
		for _, step := range []string{"sync ", "rename ", "syncdir "} {
			if step == "syncdir " && name != "records" || step != "syncdir " && name == "records" {
				continue
			}
			if !slices.Contains(steps, step+name) {
				t.Errorf("a rename did not %s%s: %q", step, name, steps)
			}
		}
	}
	// The name index is synced before the record that needs it.
	idx := slices.IndexFunc(steps, func(s string) bool { return strings.HasPrefix(s, "syncdir names") })
	rec := slices.Index(steps, "rename 000000a1.json")
	if idx < 0 || rec < 0 || idx > rec {
		t.Errorf("the name index was not synced before the record was replaced: %q", steps)
	}
}

func TestFailedRenameLeavesTheRecordAsItWas(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, Account{ID: "000000a1", Name: "home"})
	path := storeOf(m).recordPath("000000a1")
	before, _ := os.ReadFile(path)
	failing(m, stepRename, inRecords(m))
	_, err := m.Rename(context.Background(), "000000a1", "work")
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want the injected failure naming %s", err, path)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("the record changed although the rename failed")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	storeOf(m).faults = nil
	if a, err := reopen(t, m).Find(context.Background(), "000000a1"); err != nil || a.Name != "home" {
		t.Fatalf("after the failure: %v %+v", err, a)
	}
}

func TestFailedDirectorySyncIsAnError(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, Account{ID: "000000a1", Name: "home"})
	failing(m, stepSyncDir, func(string) bool { return true })
	_, err := m.Rename(context.Background(), "000000a1", "work")
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "cannot sync ") {
		t.Fatalf("got %v, want the sync failure naming the directory", err)
	}
}

// TestTwoRecoveryFilesAreMerged puts a recovery file in each location, as
// after failures of two processes, and checks that reads overlay both and
// that the next write merges both and removes both.
func TestTwoRecoveryFilesAreMerged(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-a0", Rotation: 1},
		Account{ID: "000000b1", Name: "work", RefreshToken: "rt-b0", Rotation: 1},
		Account{ID: "000000d1", Name: "spare"})
	dirs := storeOf(m).recoveryDirs()
	writeRecovery(t, dirs[0], Account{ID: "000000a1", Name: "home", RefreshToken: "rt-a1", Rotation: 2})
	writeRecovery(t, dirs[1], Account{ID: "000000b1", Name: "work", RefreshToken: "rt-b1", Rotation: 2},
		Account{ID: "000000c1", Name: "home", RefreshToken: "rt-c1", Rotation: 1})
	f := snapshot(t, m)
	checkTokens(t, f, map[string]string{"000000a1": "rt-a1", "000000b1": "rt-b1", "000000c1": "rt-c1"})
	if _, err := reopen(t, m).Rename(context.Background(), "000000d1", "spare-2"); err != nil {
		t.Fatal(err)
	}
	f = snapshot(t, m)
	checkTokens(t, f, map[string]string{"000000a1": "rt-a1", "000000b1": "rt-b1", "000000c1": "rt-c1"})
	if c := f.Find("000000c1"); c.Name == "home" {
		t.Errorf("a recovered new account took the name of another: %+v", c)
	}
	for _, d := range dirs {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("%s still holds %d files after the merge", d, len(entries))
		}
	}
}

// TestUnreadableRecoveryFileIsLeftByteForByte: a recovery file that cannot
// be decoded is neither removed nor written over; a new rotation goes to
// the next location.
func TestUnreadableRecoveryFileIsLeftByteForByte(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m, expired())
	dirs := storeOf(m).recoveryDirs()
	broken := []byte(`{"version": 3, "account": {"id": "000000a1", "refresh_to`)
	first := filepath.Join(dirs[0], "000000a1.json")
	if err := os.WriteFile(first, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	failing(m, stepRename, inRecords(m))
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath != filepath.Join(dirs[1], "000000a1.json") {
		t.Fatalf("got %v, want the rotation in the second location", err)
	}
	storeOf(m).faults = nil
	if a, _ := reopen(t, m).Get(context.Background(), "000000a1"); a.RefreshToken != "rt-1" {
		t.Fatalf("the rotation is not read back: %q", a.RefreshToken)
	}
	if _, err := reopen(t, m).Put(context.Background(), Account{Name: "another"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(first); !bytes.Equal(got, broken) {
		t.Fatalf("the unreadable recovery file changed: %q", got)
	}
	checkTokens(t, snapshot(t, m), map[string]string{"000000a1": "rt-1"})
}

func TestRecoveryFallsBackToTheStateDirectory(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m, expired())
	dirs := storeOf(m).recoveryDirs()
	failing(m, stepWrite, func(p string) bool { return filepath.Dir(p) != dirs[1] })
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath != filepath.Join(dirs[1], "000000a1.json") {
		t.Fatalf("got %v, want the token kept in %s", err, dirs[1])
	}
	storeOf(m).faults = nil
	if a, _ := reopen(t, m).Find(context.Background(), "home"); a.RefreshToken != "rt-1" {
		t.Fatalf("the recovered token is not read back: %+v", a)
	}
}

// TestRefreshNotSentWhenNothingCouldBeSaved: when neither the record nor
// a recovery file can be prepared for the answer (a full or read-only
// disk, and no state directory), the refresh is not sent: a rotated token
// with nowhere to go would be lost.
func TestRefreshNotSentWhenNothingCouldBeSaved(t *testing.T) {
	privateState(t)
	m, auth := newManager(t)
	seed(t, m, expired())
	failing(m, stepCreate, func(string) bool { return true })
	_, err := m.Token(context.Background(), "home", 0)
	var nr *NotRefreshedError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), "free disk space") || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("got %v, want the refresh refused with what to do", err)
	}
	if auth.calls.Load() != 0 {
		t.Fatal("the refresh was sent")
	}
	if a := snapshot(t, m).Find("000000a1"); a.RefreshToken != "rt-0" || a.LastRefresh != nil {
		t.Fatalf("the account changed: %+v", a)
	}
}

func TestBothRecoveryLocationsFailing(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m, expired())
	failing(m, stepWrite, func(string) bool { return true })
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath != "" || !ue.InMemory {
		t.Fatalf("got %v, want an UnsavedError with no recovery file", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "nor to a recovery file") || !strings.Contains(msg, "free disk space") || strings.Contains(msg, "rt-1") {
		t.Fatalf("the message does not say that the token is nowhere and what to do, or shows it: %s", msg)
	}
}

// TestUnusableAnswerWithRotationAndFailedWriteKeepsTheRotation: the server
// rotates the refresh token but its answer cannot be used, and the store
// cannot take the failure either: the rotated token goes to the recovery
// file and wins the merge, although the record's access token was
// obtained "later" (its clock stepped back meanwhile).
func TestUnusableAnswerWithRotationAndFailedWriteKeepsTheRotation(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	a := expired()
	a.AccessObtainedAt = testNow.Add(time.Hour) // a clock that stepped back since
	seed(t, m, a)
	m.Auth = authFunc(func(context.Context, Account) (Grant, error) {
		return Grant{RefreshToken: "rt-rotated"}, errors.New("the answer had no access token")
	})
	failing(m, stepRename, inRecords(m))
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath == "" {
		t.Fatalf("got %v, want the rotated token in a recovery file", err)
	}
	storeOf(m).faults = nil
	// The next write of anything merges it.
	if _, err := reopen(t, m).Put(context.Background(), Account{Name: "another"}); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, m).Find("000000a1")
	if got.RefreshToken != "rt-rotated" {
		t.Fatalf("stored %q after the merge: the rotation was lost", got.RefreshToken)
	}
	if entries, _ := os.ReadDir(storeOf(m).path(recoveryDir)); len(entries) != 0 {
		t.Fatalf("recovery file left: %d", len(entries))
	}
}

// TestConcurrentRecoveryWritesKeepEveryAccount refreshes 24 accounts 8 at
// a time while every record write fails: all rotated tokens must be in
// recovery files, then back in the store.
func TestConcurrentRecoveryWritesKeepEveryAccount(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	var accts []Account
	for i := range 24 {
		a := expired()
		a.ID, a.Name = fmt.Sprintf("%08x", i), fmt.Sprintf("car%02d", i)
		accts = append(accts, a)
	}
	seed(t, m, accts...)
	m.Auth = authFunc(func(ctx context.Context, a Account) (Grant, error) {
		time.Sleep(20 * time.Millisecond)
		return Grant{AccessToken: "at-" + a.ID, RefreshToken: "rt-" + a.ID, Expiry: testNow.Add(time.Hour)}, nil
	})
	failing(m, stepRename, inRecords(m))
	for _, r := range m.RefreshMany(context.Background(), accts, 8, 0, Explicit, nil) {
		var ue *UnsavedError
		if !errors.As(r.Err, &ue) || ue.RecoveryPath == "" {
			t.Fatalf("%s: %v", r.Account.Name, r.Err)
		}
	}
	storeOf(m).faults = nil
	if _, err := reopen(t, m).Put(context.Background(), Account{Name: "another"}); err != nil {
		t.Fatal(err)
	}
	f := snapshot(t, m)
	for _, a := range accts {
		if got := f.Find(a.ID).RefreshToken; got != "rt-"+a.ID {
			t.Errorf("%s: stored %q, the rotated token was lost", a.Name, got)
		}
	}
}

func TestAddWhoseWriteFailsKeepsTheLogin(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	failing(m, stepRename, inRecords(m))
	login := Account{Kind: KindFleet, Email: "me@example.com", Subject: "s1", ClientID: "c",
		AccessToken: "at-new", RefreshToken: "rt-new", AccessObtainedAt: testNow}
	got, err := m.Add(context.Background(), login)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath == "" || !ValidID(got.Account.ID) || got.Account.Name != "me" {
		t.Fatalf("got %+v %v, want the login kept in a recovery file under an id and a name", got, err)
	}
	storeOf(m).faults = nil
	if a, err := reopen(t, m).Find(context.Background(), "me"); err != nil || a.RefreshToken != "rt-new" {
		t.Fatalf("the login is not read back: %v %+v", err, a)
	}
	if _, err := reopen(t, m).Put(context.Background(), Account{Name: "another"}); err != nil {
		t.Fatal(err)
	}
	f := snapshot(t, m)
	if a := f.Find(got.Account.ID); a == nil || a.RefreshToken != "rt-new" || a.Name != "me" {
		t.Fatalf("the login did not make it into the store: %+v", f.Accounts)
	}
	if a, err := reopen(t, m).Find(context.Background(), "me"); err != nil || a.ID != got.Account.ID {
		t.Fatalf("the merged login is not in the name index: %v", err)
	}
}

// TestRefreshWaitingForTheLock changes the account while a refresh waits
// for its lock: removed, marked login-required, or refreshed by another
// process. The waiting refresh makes no request in any case.
func TestRefreshWaitingForTheLock(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		change func(t *testing.T, o *Manager, a Account)
		check  func(t *testing.T, got Account, err error)
	}{
		"removed": {func(t *testing.T, o *Manager, a Account) {
			s := storeOf(o)
			if err := s.update(context.Background(), func(t tx) error { t.remove(a.ID); return nil }); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, _ Account, err error) {
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "removed while waiting") {
				t.Fatalf("got %v", err)
			}
		}},
		"login required": {func(t *testing.T, o *Manager, a Account) {
			a.State = StateLoginRequired
			putRaw(t, o, a)
		}, func(t *testing.T, _ Account, err error) {
			if !errors.Is(err, ErrLoginRequired) {
				t.Fatalf("got %v", err)
			}
		}},
		// The other process's token lives an hour and has a minute left:
		// inside the margin, but used as it is.
		"refreshed meanwhile": {func(t *testing.T, o *Manager, a Account) {
			a.AccessToken, a.Expiry, a.AccessObtainedAt = "at-other", testNow.Add(time.Minute), testNow.Add(-59*time.Minute)
			putRaw(t, o, a)
		}, func(t *testing.T, got Account, err error) {
			if err != nil || got.AccessToken != "at-other" {
				t.Fatalf("got %q %v, want the other process's token", got.AccessToken, err)
			}
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m, auth := newManager(t)
			seed(t, m, expired())
			cur, _ := m.Get(context.Background(), "000000a1")
			got, err := whileLocked(t, m, func(ctx context.Context) (Account, error) {
				r, err := m.Token(ctx, "home", 5*time.Minute)
				return r.Account, err
			}, func() { c.change(t, reopen(t, m), cur) })
			c.check(t, got, err)
			if n := auth.calls.Load(); n != 0 {
				t.Fatalf("%d requests, want none", n)
			}
		})
	}
}

// putRaw writes a's record as another process holding its lock would.
func putRaw(t *testing.T, o *Manager, a Account) {
	t.Helper()
	a.Revision++
	if err := storeOf(o).writeRecord(a); err != nil {
		t.Fatal(err)
	}
}

func TestCancelledLockWait(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	seed(t, m, expired())
	ctx, cancel := context.WithCancel(context.Background())
	_, err := whileLocked(t, m, func(context.Context) (Account, error) {
		r, err := m.Token(ctx, "home", 0)
		return r.Account, err
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
	unlock, err := storeOf(reopen(t, m)).lockAccount(context.Background(), "000000a1", "home")
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

// writeRecovery writes each account as a recovery file in dir.
func writeRecovery(t *testing.T, dir string, accts ...Account) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		data, err := encodeRecord(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, a.ID+".json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func checkTokens(t *testing.T, f *Snapshot, want map[string]string) {
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
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired())
	m.RefreshTimeout = 100 * time.Millisecond
	m.Auth = revokeFunc(func(ctx context.Context) (Revocation, error) {
		<-ctx.Done()
		return Revocation{}, ctx.Err()
	})
	done := make(chan error, 1)
	go func() { _, err := m.Revoke(context.Background(), "000000a1", RevokeOptions{}); done <- err }()
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

// swappingAuth answers a refresh after the store's records directory was
// replaced by a copy of itself (as by a mount over it) while the request
// was out.
type swappingAuth struct {
	t       *testing.T
	records string
}

func (s swappingAuth) Refresh(context.Context, Account) (Grant, error) {
	copyDir(s.t, s.records, s.records+".new")
	if err := os.Rename(s.records, s.records+".old"); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(s.records+".new", s.records); err != nil {
		s.t.Fatal(err)
	}
	return Grant{AccessToken: "at-1", RefreshToken: "rt-1", Expiry: testNow.Add(time.Hour)}, nil
}

func (swappingAuth) Revoke(context.Context, Account) (Revocation, error) { return Revocation{}, nil }

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Mkdir(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReplacedDirectoryDuringARefreshLosesNothing: the records directory
// is replaced (a copy, temporary file and all) while the refresh is at the
// server. The answer was written to the file prepared in the old one, so
// renaming by path would put the copy's reserved zeros in place of the
// record: keyfob notices, keeps the rotation in a recovery file, and the
// record stays as it was.
func TestReplacedDirectoryDuringARefreshLosesNothing(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m, expired())
	m.Auth = swappingAuth{t: t, records: storeOf(m).path(recordsDir)}
	_, err := m.Token(context.Background(), "home", 0)
	var ue *UnsavedError
	if !errors.As(err, &ue) || ue.RecoveryPath == "" {
		t.Fatalf("got %v, want the rotation kept in a recovery file", err)
	}
	m.Auth = nil
	if _, err := storeOf(m).readRecord("000000a1"); err != nil {
		t.Fatalf("the record is broken: %v", err)
	}
	if a, err := reopen(t, m).Get(context.Background(), "000000a1"); err != nil || a.RefreshToken != "rt-1" {
		t.Fatalf("after the swap: %v %q", err, a.RefreshToken)
	}
}
