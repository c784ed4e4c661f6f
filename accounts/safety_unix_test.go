//go:build unix

package accounts

import (
	"context"
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
// uses inside its directory, pointing at a file (or directory) outside
// that holds something tempting, and runs the operations that read or
// write that name. Each must refuse with a *SymlinkError naming the path
// (or, for a recovery file, leave it out), and what is outside must be
// neither read in nor changed.
func TestNothingIsOpenedThroughASymlink(t *testing.T) {
	type op func(m *Manager) error
	ctx := context.Background()
	rename := func(m *Manager) error { _, err := m.Rename(ctx, "000000a1", "house"); return err }
	get := func(m *Manager) error { _, err := m.Get(ctx, "000000a1"); return err }
	list := func(m *Manager) error { _, err := m.List(ctx); return err }
	addConsumer := func(m *Manager) error { _, _, err := m.AddConsumer(ctx, "tm", "home"); return err }
	cases := []struct {
		name string
		dir  bool // the link points at a directory
		ops  []op
	}{
		{StoreFile, false, []op{list, rename}},
		{filepath.Join(recordsDir, "000000a1.json"), false, []op{get, rename}},
		{recordsDir, true, []op{list, get, rename}},
		{namesDir, true, []op{list, rename}},
		{consumersFile, false, []op{list, addConsumer}},
		{ConfigFile, false, []op{
			func(m *Manager) error { _, err := m.Config(); return err },
			func(m *Manager) error { return m.SaveConfig(Config{Theme: "mono"}) },
		}},
		{lockFile, false, []op{rename}},
		{filepath.Join(locksDir, "000000a1.lock"), false, []op{rename}},
		{locksDir, true, []op{list, rename}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			privateState(t)
			m, outside := linkedStore(t, c.name, c.dir)
			for i, run := range c.ops {
				err := run(reopen(t, m))
				var se *SymlinkError
				if !errors.As(err, &se) || !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), filepath.Join(m.Dir(), c.name)) {
					t.Errorf("operation %d: got %v, want a SymlinkError naming the link", i, err)
				}
			}
			checkOutside(t, outside)
		})
	}
}

// TestLinkedRecoveryFilesAreNotFollowed plants links at both recovery
// locations: reads leave them out, and a recovery write refuses them.
func TestLinkedRecoveryFilesAreNotFollowed(t *testing.T) {
	privateState(t)
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-store", Rotation: 1})
	outside := temptingFile(t, false)
	s := storeOf(m)
	var paths []string
	for _, d := range s.recoveryDirs() {
		p := filepath.Join(d, "000000a1.json")
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, p); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if a, err := reopen(t, m).Get(context.Background(), "000000a1"); err != nil || a.RefreshToken != "rt-store" {
		t.Fatalf("a linked recovery file was read: %v %+v", err, a)
	}
	_, err := s.saveRecovery(Account{ID: "000000a1", Name: "home", RefreshToken: "rt-new", Rotation: 5})
	if !errors.Is(err, ErrSymlink) {
		t.Fatalf("saveRecovery through links: %v", err)
	}
	if _, err := reopen(t, m).Put(context.Background(), Account{Name: "another"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
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
	auth := &fakeAuth{ttl: time.Hour, now: func() time.Time { return testNow }}
	m, err := Open("", Options{Dir: link, Auth: auth, Now: auth.now})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, m, expired())
	if _, err := m.Token(context.Background(), "home", 0); err != nil {
		t.Fatal(err)
	}
	if err := m.SaveConfig(Config{Theme: "mono"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(real, recordsDir, "000000a1.json")); err != nil {
		t.Fatal(err)
	}
}

// TestForeignIDsAreRefused: an id keyfob did not make (here one that
// would put files outside the directory) makes the old store refused,
// naming the file and the account, and no file is made for it.
func TestForeignIDsAreRefused(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "a", "keyfob")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, StoreFile)
	body := `{"version": 1, "accounts": [{"id": "../../../escape", "name": "evil", "refresh_token": "rt"}]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m, _ := Open("", Options{Dir: dir, Auth: &fakeAuth{now: time.Now}})
	for i, run := range []func() error{
		func() error { _, err := m.List(context.Background()); return err },
		func() error { _, err := m.Token(context.Background(), "evil", 0); return err },
	} {
		err := run()
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(err.Error(), `"evil"`) ||
			!strings.Contains(err.Error(), "keyfob did not make") {
			t.Errorf("operation %d: got %v, want a CorruptError naming the file and the account", i, err)
		}
	}
	if _, err := storeOf(m).lockAccount(context.Background(), "../../../escape", "evil"); err == nil {
		t.Error("a lock was taken for a foreign id")
	}
	if got, _ := os.ReadFile(path); string(got) != body {
		t.Error("the store was written over")
	}
	if _, err := os.Lstat(filepath.Join(base, "escape.lock")); err == nil {
		t.Error("a lock file was made outside the directory")
	}
	// Nor can a write bring one in.
	good := newStoreManager(t, nil)
	if _, err := good.Put(context.Background(), Account{ID: "../x", Name: "evil"}); err == nil {
		t.Error("Put saved a foreign id")
	}
	if _, err := good.Get(context.Background(), "../x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a foreign id: %v", err)
	}
}

// TestLockNotes: the holder's note goes when the lock is released, and a
// note naming a process that has exited is not shown as the holder.
func TestLockNotes(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	s := storeOf(m)
	s.lockTimeout = 50 * time.Millisecond
	unlock, err := s.lockAccount(context.Background(), "000000a1", "home")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(m.Dir(), locksDir, "000000a1.lock")
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
	_, err = s.lockAccount(context.Background(), "000000a1", "home")
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
// (inside its directory) to something outside.
func linkedStore(t *testing.T, name string, dir bool) (*Manager, string) {
	t.Helper()
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-store"})
	if err := m.SaveConfig(Config{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.AddConsumer(context.Background(), "first", "home"); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join(m.Dir(), locksDir), 0o700)
	outside := temptingFile(t, dir)
	p := filepath.Join(m.Dir(), name)
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	return m, outside
}

// temptingContent is a record whose token is newer than any in the tests.
var temptingContent = `{"version": 3, "revision": 99, "account": {"id": "000000a1", "name": "home", "refresh_token": "rt-outside", "rotation": 99}}`

// temptingFile is a file outside holding temptingContent, or a directory
// holding it as 000000a1.json (and a lock file, and a shard).
func temptingFile(t *testing.T, dir bool) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outside.json")
	if dir {
		p = filepath.Join(t.TempDir(), "outside")
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"000000a1.json", "000000a1.lock", shardOf(foldName("home"))} {
			if err := os.WriteFile(filepath.Join(p, n), []byte(temptingContent), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	if err := os.WriteFile(p, []byte(temptingContent), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkOutside(t *testing.T, p string) {
	t.Helper()
	files := []string{p}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		entries, _ := os.ReadDir(p)
		if len(entries) != 3 {
			t.Errorf("the directory outside now holds %d files", len(entries))
		}
		files = nil
		for _, e := range entries {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	for _, f := range files {
		got, err := os.ReadFile(f)
		fi, _ := os.Stat(f)
		if err != nil || string(got) != temptingContent || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s outside was changed through the link: %v %q", f, err, got)
		}
	}
}
