package accounts

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newStoreManager is a Manager on a store directory of its own, with auth.
func newStoreManager(t *testing.T, auth Authority) *Manager {
	t.Helper()
	m, err := Open("", Options{Dir: filepath.Join(t.TempDir(), "keyfob"), Auth: auth, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// seed stores accts as they are.
func seed(t *testing.T, m *Manager, accts ...Account) {
	t.Helper()
	if _, err := m.Put(context.Background(), accts...); err != nil {
		t.Fatal(err)
	}
}

// reopen is a Manager on the same store, as another process has.
func reopen(t *testing.T, m *Manager) *Manager {
	t.Helper()
	o, err := Open("", Options{Dir: m.Dir(), Auth: m.Auth, Now: m.Now})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// snapshot reads the store as a new process would.
func snapshot(t *testing.T, m *Manager) *Snapshot {
	t.Helper()
	s, err := reopen(t, m).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func storeOf(m *Manager) *fileStore { return m.b.(*fileStore) }

// memDir is a temporary directory on /dev/shm when there is one, else the
// test's own: for tests that write and sync many files to prove what a
// killed process or a decoder does, not what a power cut does.
func memDir(tb testing.TB) string {
	tb.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "keyfob-test-"); err == nil {
			tb.Cleanup(func() { _ = os.RemoveAll(d) })
			return d
		}
	}
	return tb.TempDir()
}

func TestEmptyStoreIsNotCreatedByReads(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	ctx := context.Background()
	if accts, err := m.List(ctx); err != nil || len(accts) != 0 {
		t.Fatalf("List: %v %+v", err, accts)
	}
	if _, err := m.Find(ctx, "home"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find: %v", err)
	}
	if _, err := os.Stat(m.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read created %s: %v", m.Dir(), err)
	}
}

// TestRecordsArePrivateAndRoundTrip checks the layout: a marker, one
// record per account, every file 0600 and every directory 0700, no
// temporary file left.
func TestRecordsArePrivateAndRoundTrip(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	exp := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	seed(t, m, Account{ID: "000000a1", Name: "home", Kind: KindFleet, AccessToken: "at", RefreshToken: "rt", Expiry: exp,
		GrantedScopes: []string{"openid", "vehicle_device_data"}}, Account{ID: "000000a2", Name: "work"})
	s := storeOf(m)
	for _, p := range []string{s.path(StoreFile), s.recordPath("000000a1"), s.recordPath("000000a2")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("missing %s: %v", p, err)
		}
	}
	err := filepath.Walk(m.Dir(), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", p, got, want)
		}
		if strings.HasPrefix(fi.Name(), ".") && !strings.HasSuffix(fi.Name(), ".lock") {
			t.Errorf("leftover temporary file %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := reopen(t, m).Get(context.Background(), "000000a1")
	if err != nil || a.RefreshToken != "rt" || !a.Expiry.Equal(exp) || len(a.GrantedScopes) != 2 || a.Revision != 1 {
		t.Fatalf("round trip lost data: %v %+v", err, a)
	}
	marker, _ := os.ReadFile(s.path(StoreFile))
	if !bytes.Contains(marker, []byte(`"version": 3`)) || bytes.Contains(marker, []byte("rt")) {
		t.Fatalf("marker: %s", marker)
	}
}

// TestTokenReadsOneRecord proves that finding an account by its name reads
// its record and the name index alone: the other records are made
// unreadable, and it still works.
func TestTokenReadsOneRecord(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	var accts []Account
	for i := range 50 {
		accts = append(accts, Account{ID: idOf(i), Name: "car" + idOf(i), AccessToken: "at", Expiry: testNow.Add(time.Hour)})
	}
	seed(t, m, accts...)
	s := storeOf(m)
	for i := range 50 {
		if i != 7 {
			if err := os.WriteFile(s.recordPath(idOf(i)), []byte("{broken"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := reopen(t, m).Token(context.Background(), "CAR"+idOf(7), time.Minute)
	if err != nil || r.Account.ID != idOf(7) {
		t.Fatalf("Token: %v %+v", err, r.Account)
	}
	if _, err := reopen(t, m).List(context.Background()); err == nil {
		t.Fatal("List read the broken records without a word")
	}
}

func idOf(i int) string { return strings.Repeat("0", 8-len(itoa(i))) + itoa(i) }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "home"})
	path := storeOf(m).recordPath("000000a1")
	before, _ := os.ReadFile(path)
	boom := errors.New("boom")
	_, _, err := m.Edit(context.Background(), "000000a1", func(a *Account) error {
		a.Name = "work"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the record changed although the edit failed")
	}
}

// TestCorruptRecordIsRefusedAndUntouched: a record broken by hand is
// reported with its file, line and column, and nothing writes over it.
func TestCorruptRecordIsRefusedAndUntouched(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"truncated":    "{\n  \"version\": 3,\n  \"account\": {\"id\": \"000000a1\"",
		"not json":     "hello",
		"wrong type":   "{\"version\": 3, \"account\": {\"id\": 3}}",
		"no version":   "{\"account\": {\"id\": \"000000a1\"}}",
		"no account":   "{\"version\": 3}",
		"other id":     "{\"version\": 3, \"account\": {\"id\": \"000000b2\"}}",
		"old version":  "{\"version\": 2, \"account\": {\"id\": \"000000a1\"}}",
		"syntax at 3,": "{\n  \"version\": 3,\n  \"account\": [,]\n}",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			m := newStoreManager(t, &fakeAuth{now: func() time.Time { return testNow }, ttl: time.Hour})
			seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "rt"})
			path := storeOf(m).recordPath("000000a1")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, err := reopen(t, m).Get(ctx, "000000a1")
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Get: got %v, want CorruptError", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "fix it or move it") {
				t.Errorf("message does not name the file and what to do: %v", err)
			}
			if name == "syntax at 3," && (ce.Line != 3 || ce.Column == 0) {
				t.Errorf("position: line %d column %d, want line 3", ce.Line, ce.Column)
			}
			o := reopen(t, m)
			_, _, eerr := o.Edit(ctx, "000000a1", func(a *Account) error { a.Name = "x"; return nil })
			_, rerr := o.Refresh(ctx, Account{ID: "000000a1", Name: "home", RefreshToken: "rt"}, Explicit)
			_, derr := o.Remove(ctx, "000000a1")
			for _, err := range []error{eerr, rerr, derr} {
				if !errors.As(err, &ce) {
					t.Errorf("a write went on over the broken record: %v", err)
				}
			}
			if got, _ := os.ReadFile(path); string(got) != body {
				t.Fatal("the corrupt record was written over")
			}
		})
	}
}

func TestNewerVersionIsRefusedAndUntouched(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"marker", "record"} {
		t.Run(where, func(t *testing.T) {
			m := newStoreManager(t, nil)
			seed(t, m, Account{ID: "000000a1", Name: "home"})
			s := storeOf(m)
			path := s.path(StoreFile)
			if where == "record" {
				path = s.recordPath("000000a1")
			}
			body := `{"version": 99, "layout": "something else", "account": 7}`
			_ = os.WriteFile(path, []byte(body), 0o600)
			o := reopen(t, m)
			_, err := o.Put(context.Background(), Account{ID: "000000a1", Name: "work"})
			var ve *VersionError
			if !errors.As(err, &ve) || ve.Version != 99 || !strings.Contains(err.Error(), "upgrade keyfob") {
				t.Fatalf("got %v", err)
			}
			if got, _ := os.ReadFile(path); string(got) != body {
				t.Fatal("newer file was rewritten")
			}
		})
	}
}

func TestLoosePermissionsAreFixed(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "x"})
	s := storeOf(m)
	_ = os.Chmod(s.path(StoreFile), 0o644)
	_ = os.Chmod(m.Dir(), 0o755)
	var notes []string
	o, _ := Open("", Options{Dir: m.Dir(), Notice: func(n string) { notes = append(notes, n) }})
	if _, err := o.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(s.path(StoreFile))
	di, _ := os.Stat(m.Dir())
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	if len(notes) != 2 {
		t.Fatalf("notices: %q", notes)
	}
}

func TestLockTimeoutNamesHolder(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	s := storeOf(m)
	s.lockTimeout = 50 * time.Millisecond
	unlock, err := s.lockAccount(context.Background(), "000000a1", "home")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = s.lockAccount(context.Background(), "000000a1", "home")
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), `account "home"`) || !strings.Contains(err.Error(), "pid ") {
		t.Errorf("error does not say which account and who holds it: %v", err)
	}
}

// TestRecoveryIsOverlaidThenMerged: a rotation kept in a recovery file is
// what reads see, and the next write puts it in the record and removes
// the file.
func TestRecoveryIsOverlaidThenMerged(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "old", Rotation: 1}, Account{ID: "000000a2", Name: "work"})
	s := storeOf(m)
	path, err := s.saveRecovery(Account{ID: "000000a1", Name: "other", RefreshToken: "new", Rotation: 2})
	if err != nil || filepath.Dir(path) != s.path(recoveryDir) {
		t.Fatalf("saveRecovery: %q %v", path, err)
	}
	a, _ := reopen(t, m).Get(context.Background(), "000000a1")
	if a.RefreshToken != "new" || a.Name != "home" {
		t.Fatalf("overlay: %+v", a)
	}
	// Any write merges it: here one of another account.
	if _, err := reopen(t, m).Rename(context.Background(), "000000a2", "office"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("recovery file not removed after merge")
	}
	raw, _ := os.ReadFile(s.recordPath("000000a1"))
	if !strings.Contains(string(raw), `"new"`) || !strings.Contains(string(raw), `"home"`) {
		t.Fatalf("recovered token not in the record: %s", raw)
	}
}
