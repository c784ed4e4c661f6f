package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	return Open(filepath.Join(t.TempDir(), "keyfob"))
}

func seed(t *testing.T, s *Store, accts ...Account) {
	t.Helper()
	err := s.Update(context.Background(), func(f *File) error {
		f.Accounts = append(f.Accounts, accts...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	s := newStore(t)
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != CurrentVersion || len(f.Accounts) != 0 {
		t.Fatalf("got %+v", f)
	}
	if _, err := os.Stat(s.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load created %s: %v", s.Dir(), err)
	}
}

func TestUpdateWritesPrivateFilesAndRoundTrips(t *testing.T) {
	s := newStore(t)
	exp := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	seed(t, s, Account{ID: "000000a1", Name: "home", Kind: KindFleet, AccessToken: "at", RefreshToken: "rt", Expiry: exp,
		GrantedScopes: []string{"openid", "vehicle_device_data"}})

	for path, want := range map[string]os.FileMode{s.Dir(): 0o700, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
	}
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	a := f.Find("000000a1")
	if a == nil || a.RefreshToken != "rt" || !a.Expiry.Equal(exp) || len(a.GrantedScopes) != 2 {
		t.Fatalf("round trip lost data: %+v", a)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+StoreFile) {
			t.Errorf("leftover temporary file %s", e.Name())
		}
	}
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "home"})
	before, _ := os.ReadFile(s.Path())
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(f *File) error {
		f.Accounts = nil
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	after, _ := os.ReadFile(s.Path())
	if !bytes.Equal(before, after) {
		t.Fatal("store changed although fn failed")
	}
}

func TestCorruptStoreIsRefusedAndUntouched(t *testing.T) {
	cases := map[string]string{
		"truncated":  "{\n  \"version\": 1,\n  \"accounts\": [\n    {\"id\": \"a\"",
		"not json":   "hello",
		"wrong type": "{\"version\": 1, \"accounts\": {\"id\": 3}}",
		"no version": "{\"accounts\": []}",
		"no id":      "{\"version\": 1, \"accounts\": [{\"name\": \"x\"}]}",
		"dup id":     "{\"version\": 1, \"accounts\": [{\"id\": \"x\"}, {\"id\": \"x\"}]}",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			if err := os.MkdirAll(s.Dir(), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path(), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load()
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Load: got %v, want CorruptError", err)
			}
			if !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "fix it or move it") {
				t.Errorf("message does not name the file and what to do: %v", err)
			}
			err = s.Update(context.Background(), func(f *File) error { f.Accounts = nil; return nil })
			if !errors.As(err, &ce) {
				t.Fatalf("Update: got %v", err)
			}
			got, _ := os.ReadFile(s.Path())
			if string(got) != body {
				t.Fatal("corrupt store was written over")
			}
		})
	}
}

func TestCorruptPositionIsReported(t *testing.T) {
	s := newStore(t)
	_ = os.MkdirAll(s.Dir(), 0o700)
	_ = os.WriteFile(s.Path(), []byte("{\n  \"version\": 1,\n  \"accounts\": [,]\n}"), 0o600)
	_, err := s.Load()
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 3 {
		t.Fatalf("got %v (line %d), want line 3", err, ce.Line)
	}
}

func TestNewerVersionIsRefusedAndUntouched(t *testing.T) {
	s := newStore(t)
	_ = os.MkdirAll(s.Dir(), 0o700)
	body := `{"version": 99, "accounts": []}`
	_ = os.WriteFile(s.Path(), []byte(body), 0o600)
	err := s.Update(context.Background(), func(f *File) error { return nil })
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Version != 99 {
		t.Fatalf("got %v", err)
	}
	if got, _ := os.ReadFile(s.Path()); string(got) != body {
		t.Fatal("newer store was rewritten")
	}
}

func TestOlderVersionMigratesWithBackup(t *testing.T) {
	old := migrations
	t.Cleanup(func() { migrations = old })
	// A made-up version 0 that named the list "items".
	migrations = map[int]migration{0: func(raw map[string]json.RawMessage) error {
		raw["accounts"] = raw["items"]
		delete(raw, "items")
		return nil
	}, 1: old[1]}
	s := newStore(t)
	_ = os.MkdirAll(s.Dir(), 0o700)
	body := `{"version": 0, "items": [{"id": "000000a1", "name": "home"}]}`
	_ = os.WriteFile(s.Path(), []byte(body), 0o600)

	f, err := s.Load()
	if err != nil || len(f.Accounts) != 1 || f.Accounts[0].Name != "home" {
		t.Fatalf("Load: %v %+v", err, f)
	}
	var notes []string
	s.Notice = func(n string) { notes = append(notes, n) }
	if err := s.Update(context.Background(), func(f *File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	bak, err := os.ReadFile(s.Path() + ".bak-v0")
	if err != nil || string(bak) != body {
		t.Fatalf("backup: %v %q", err, bak)
	}
	if len(notes) == 0 {
		t.Error("no notice about the upgrade")
	}
	f, err = s.Load()
	if err != nil || f.Version != CurrentVersion || f.Find("000000a1") == nil {
		t.Fatalf("after migration: %v %+v", err, f)
	}
}

func TestLoosePermissionsAreFixed(t *testing.T) {
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "x"})
	_ = os.Chmod(s.Path(), 0o644)
	_ = os.Chmod(s.Dir(), 0o755)
	var notes []string
	s.Notice = func(n string) { notes = append(notes, n) }
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(s.Path())
	di, _ := os.Stat(s.Dir())
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	if len(notes) != 2 {
		t.Fatalf("notices: %q", notes)
	}
}

func TestLockTimeoutNamesHolder(t *testing.T) {
	s := newStore(t)
	s.LockTimeout = 50 * time.Millisecond
	unlock, err := s.LockAccount(context.Background(), "000000a1", "home")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = s.LockAccount(context.Background(), "000000a1", "home")
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), `account "home"`) || !strings.Contains(err.Error(), "pid ") {
		t.Errorf("error does not say which account and who holds it: %v", err)
	}
}

func TestRecoveryIsOverlaidThenMerged(t *testing.T) {
	s := newStore(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seed(t, s, Account{ID: "000000a1", Name: "home", RefreshToken: "old", AccessObtainedAt: t0})
	path, err := s.SaveRecovery(Account{ID: "000000a1", Name: "other", RefreshToken: "new", AccessObtainedAt: t0.Add(time.Hour)})
	if err != nil || filepath.Dir(path) != s.Dir() {
		t.Fatalf("SaveRecovery: %q %v", path, err)
	}
	f, _ := s.Load()
	if a := f.Find("000000a1"); a.RefreshToken != "new" || a.Name != "home" {
		t.Fatalf("overlay: %+v", a)
	}
	if err := s.Update(context.Background(), func(*File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("recovery file not removed after merge")
	}
	raw, _ := os.ReadFile(s.Path())
	if !strings.Contains(string(raw), `"new"`) {
		t.Fatal("recovered token not in the store")
	}
}
