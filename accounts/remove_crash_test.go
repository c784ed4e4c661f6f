package accounts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRemovalCutShortNeitherLosesNorResurrects: an account with a newer
// refresh token in a recovery file is removed, and the removal stops
// (a crash, a failing disk) at each of its steps. Stopped before the
// record goes, the account is all there, with the newer token; stopped
// after, it is gone, and stays gone for every later reader and write,
// which finish the removal.
func TestRemovalCutShortNeitherLosesNorResurrects(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*Manager, *fileStore) {
		privateState(t)
		m, _ := newManager(t)
		a := expired()
		a.Rotation = 1
		seed(t, m, a, Account{ID: "000000b2", Name: "work"})
		newer := a
		newer.RefreshToken, newer.Rotation = "rt-rotated", 2
		s := storeOf(m)
		if _, err := s.saveRecovery(newer); err != nil {
			t.Fatal(err)
		}
		return m, s
	}

	t.Run("before the record goes", func(t *testing.T) {
		m, s := setup(t)
		s.faults = func(step, path string) error {
			if step == stepRemove && path == s.recordPath("000000a1") {
				return errors.New("killed")
			}
			return nil
		}
		if _, err := m.Remove(ctx, "000000a1"); err == nil {
			t.Fatal("the removal said it was done")
		}
		s.faults = nil
		if a, err := reopen(t, m).Get(ctx, "000000a1"); err != nil || a.RefreshToken != "rt-rotated" {
			t.Fatalf("the account after a removal that never began: %+v %v", a, err)
		}
	})

	t.Run("after the record went", func(t *testing.T) {
		m, s := setup(t)
		s.faults = func(step, path string) error {
			if step == stepRemove && filepath.Base(filepath.Dir(path)) == recoveryDir {
				return errors.New("killed")
			}
			return nil
		}
		if _, err := m.Remove(ctx, "000000a1"); err != nil {
			t.Fatal(err)
		}
		s.faults = nil
		if len(s.recoveryFor("000000a1")) == 0 || !s.removing("000000a1") {
			t.Fatal("the test did not leave the recovery file behind")
		}
		if data, _ := os.ReadFile(s.tombstonePath("000000a1")); len(data) != 0 {
			t.Fatalf("the tombstone holds %d bytes (the record's secrets?); it must be empty", len(data))
		}
		other := reopen(t, m)
		if _, err := other.Get(ctx, "000000a1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the removed account reads back: %v", err)
		}
		if snap := snapshot(t, m); snap.Find("000000a1") != nil || len(snap.Accounts) != 1 {
			t.Fatalf("the removed account is listed: %+v", snap.Accounts)
		}
		if _, err := other.Rename(ctx, "000000b2", "office"); err != nil { // a later write
			t.Fatal(err)
		}
		if snap := snapshot(t, m); snap.Find("000000a1") != nil {
			t.Fatal("a later write brought the removed account back")
		}
		if len(s.recoveryFor("000000a1")) != 0 || s.removing("000000a1") {
			t.Fatal("the later write did not finish the removal")
		}
		if _, err := os.Stat(s.tombstonePath("000000a1")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("tombstone left: %v", err)
		}
	})
}

// TestKilledAddsTemporaryFileGoes: a writer killed while adding an account
// leaves the new record's temporary file, tokens and all, and no record.
// No later writer of that account clears it (there is none): the next full
// read does, unless a writer could still be at work on it (the store's or
// the account's lock is held). The temporary file of a record that exists
// is left to that account's next writer.
func TestKilledAddsTemporaryFileGoes(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired())
	s := storeOf(m)
	orphan, pending := recordTemp(s.recordPath("000000c3")), recordTemp(s.recordPath("000000a1"))
	for _, p := range []string{orphan, pending} {
		if err := os.WriteFile(p, []byte(`{"refresh_token":"rt-of-a-killed-writer"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	there := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	held := map[string]func() (func(), bool){
		"the store lock":     func() (func(), bool) { return s.tryLock(s.path(lockFile)) },
		"its account's lock": func() (func(), bool) { return s.tryLockAccount("000000c3") },
	}
	for what, take := range held {
		unlock, ok := take()
		if !ok {
			t.Fatalf("cannot take %s", what)
		}
		snapshot(t, reopen(t, m))
		unlock()
		if !there(orphan) {
			t.Fatalf("a read removed a temporary file while %s was held", what)
		}
	}
	snapshot(t, reopen(t, m))
	if there(orphan) {
		t.Error("the temporary file of a record that never was is still there after a full read")
	}
	if !there(pending) {
		t.Error("a read removed the temporary file of an existing record, its next writer's to clear")
	}
}
