//go:build unix

package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNothingIsOpenedThroughASymlink plants a link at each name keyfob
// uses inside its directory, pointing at a file outside that holds a
// store with a tempting newer token, and runs the operations that read or
// write that name. Each must refuse with a *SymlinkError naming the path
// (or, for a recovery file, leave it out), and the file outside must be
// neither read into the store nor changed.
//
// Checked against the code before links were refused: every case failed
// (the link was followed for reads, and replaced or written through).
func TestNothingIsOpenedThroughASymlink(t *testing.T) {
	type op func(s *Store) error
	update := func(s *Store) error { return s.Update(context.Background(), func(*File) error { return nil }) }
	load := func(s *Store) error { _, err := s.Load(); return err }
	lockAccount := func(s *Store) error {
		unlock, err := s.LockAccount(context.Background(), "000000a1", "home")
		if err == nil {
			unlock()
		}
		return err
	}
	cases := []struct {
		name string
		ops  []op
	}{
		{StoreFile, []op{load, update}},
		{ConfigFile, []op{
			func(s *Store) error { _, err := s.LoadConfig(); return err },
			func(s *Store) error { return s.SaveConfig(Config{Theme: "mono"}) },
		}},
		{lockFile, []op{update}},
		{filepath.Join(locksDir, "000000a1.lock"), []op{lockAccount}},
		{StoreFile + ".bak-v0", []op{update}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			privateState(t)
			s, outside := linkedStore(t, c.name)
			if c.name == StoreFile+".bak-v0" {
				olderStore(t, s)
			}
			for i, run := range c.ops {
				err := run(s)
				var se *SymlinkError
				if !errors.As(err, &se) || !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), filepath.Join(s.Dir(), c.name)) {
					t.Errorf("operation %d: got %v, want a SymlinkError naming the link", i, err)
				}
			}
			checkOutside(t, outside)
		})
	}
}

func TestLinkedLockDirectoryIsRefused(t *testing.T) {
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "home"})
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(s.Dir(), locksDir)); err != nil {
		t.Fatal(err)
	}
	_, err := s.LockAccount(context.Background(), "000000a1", "home")
	if !errors.Is(err, ErrSymlink) {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Fatalf("a lock file was made through the link: %v", entries)
	}
}

// TestLinkedRecoveryFilesAreNotFollowed plants links at both recovery
// locations: reads leave them out, and a recovery write refuses them.
func TestLinkedRecoveryFilesAreNotFollowed(t *testing.T) {
	privateState(t)
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-store"})
	outside := temptingFile(t)
	for _, p := range s.recoveryPaths() {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, p); err != nil {
			t.Fatal(err)
		}
	}
	f, err := s.Load()
	if err != nil || f.Find("000000a1").RefreshToken != "rt-store" {
		t.Fatalf("a linked recovery file was read: %v %+v", err, f)
	}
	_, err = s.SaveRecovery(Account{ID: "000000a1", Name: "home", RefreshToken: "rt-new", AccessObtainedAt: time.Now()})
	if !errors.Is(err, ErrSymlink) {
		t.Fatalf("SaveRecovery through links: %v", err)
	}
	if err := s.Update(context.Background(), func(*File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.recoveryPaths() {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("the link %s was removed as if merged", p)
		}
	}
	checkOutside(t, outside)
}

// TestLinkedStoreDirectoryWorks: the directory itself may be a link, as
// dotfile managers make.
func TestLinkedStoreDirectoryWorks(t *testing.T) {
	privateState(t)
	real := filepath.Join(t.TempDir(), "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "keyfob")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	m, _ := newManager(t)
	m.Store = Open(link)
	seed(t, m.Store, expired())
	if _, err := m.Token(context.Background(), "home", 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Store.SaveConfig(Config{Theme: "mono"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(real, StoreFile)); err != nil {
		t.Fatal(err)
	}
}

// TestForeignIDsAreRefused: an id keyfob did not make (here one that
// would put lock files outside the directory) makes the store refused,
// naming the file and the account, and no file is made for it.
func TestForeignIDsAreRefused(t *testing.T) {
	base := t.TempDir()
	s := Open(filepath.Join(base, "a", "keyfob"))
	if err := os.MkdirAll(s.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	body := `{"version": 1, "accounts": [{"id": "../../../escape", "name": "evil", "refresh_token": "rt"}]}`
	if err := os.WriteFile(s.Path(), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m := NewManager(s, &fakeAuth{now: time.Now})
	for i, run := range []func() error{
		func() error { _, err := s.Load(); return err },
		func() error { return s.Update(context.Background(), func(*File) error { return nil }) },
		func() error { _, err := m.Token(context.Background(), "evil", 0); return err },
	} {
		err := run()
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Path != s.Path() || !strings.Contains(err.Error(), `"evil"`) ||
			!strings.Contains(err.Error(), "keyfob did not make") {
			t.Errorf("operation %d: got %v, want a CorruptError naming the file and the account", i, err)
		}
	}
	if _, err := s.LockAccount(context.Background(), "../../../escape", "evil"); err == nil {
		t.Error("LockAccount took a lock for a foreign id")
	}
	if got, _ := os.ReadFile(s.Path()); string(got) != body {
		t.Error("the store was written over")
	}
	if _, err := os.Lstat(filepath.Join(base, "escape.lock")); err == nil {
		t.Error("a lock file was made outside the directory")
	}
	// Nor can a write bring one in.
	good := newStore(t)
	err := good.Update(context.Background(), func(f *File) error {
		f.Accounts = append(f.Accounts, Account{ID: "../x", Name: "evil"})
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "keyfob did not make") {
		t.Errorf("Update saved a foreign id: %v", err)
	}
}

// TestLockNotes: the holder's note goes when the lock is released, and a
// note naming a process that has exited is not shown as the holder.
//
// Checked against the code before: the note stayed after release, and the
// timeout named the dead process.
func TestLockNotes(t *testing.T) {
	s := newStore(t)
	s.LockTimeout = 50 * time.Millisecond
	unlock, err := s.LockAccount(context.Background(), "000000a1", "home")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir(), locksDir, "000000a1.lock")
	if note, _ := os.ReadFile(path); !strings.Contains(string(note), fmt.Sprintf("pid %d ", os.Getpid())) {
		t.Fatalf("no owner note while held: %q", note)
	}
	// A holder killed before it could clear its note leaves it behind.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("pid %d (keyfob token)\n", dead.Process.Pid)
	if err := os.WriteFile(path, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.LockAccount(context.Background(), "000000a1", "home")
	if !errors.Is(err, ErrLockTimeout) || strings.Contains(err.Error(), strings.TrimSpace(stale)) ||
		!strings.Contains(err.Error(), "another keyfob process") {
		t.Fatalf("got %v; a dead process must not be named as the holder", err)
	}
	unlock()
	if note, _ := os.ReadFile(path); len(note) != 0 {
		t.Fatalf("the note outlived the lock: %q", note)
	}
}

// linkedStore makes a store holding one account, with a link at name
// (inside its directory) to a file outside.
func linkedStore(t *testing.T, name string) (*Store, string) {
	t.Helper()
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-store"})
	if err := os.MkdirAll(filepath.Join(s.Dir(), locksDir), 0o700); err != nil {
		t.Fatal(err)
	}
	outside := temptingFile(t)
	p := filepath.Join(s.Dir(), name)
	_ = os.Remove(p)
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	return s, outside
}

// olderStore rewrites s's store as version 0, so the next write keeps a
// backup, and adds the migration for it for the test.
func olderStore(t *testing.T, s *Store) {
	old := migrations
	t.Cleanup(func() { migrations = old })
	migrations = map[int]migration{0: func(map[string]json.RawMessage) error { return nil }, 1: old[1]}
	body := `{"version": 0, "accounts": [{"id": "000000a1", "name": "home"}]}`
	if err := os.WriteFile(s.Path(), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// temptingContent is a store whose token is newer than any in the tests.
var temptingContent = `{"version": 1, "accounts": [{"id": "000000a1", "name": "home", "refresh_token": "rt-outside",` +
	` "access_obtained_at": "2099-01-01T00:00:00Z"}]}`

func temptingFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outside.json")
	if err := os.WriteFile(p, []byte(temptingContent), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkOutside(t *testing.T, p string) {
	t.Helper()
	got, err := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if err != nil || string(got) != temptingContent || fi.Mode().Perm() != 0o644 {
		t.Errorf("the file outside was changed through the link: %v %q %v", err, got, fi.Mode())
	}
}
