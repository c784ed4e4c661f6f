package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLoginHeldInMemoryIsSeenUsedAndSaved: a new login that neither the
// store nor a recovery file can take stays in the process (a TUI, the
// token service): it is listed and found like any other account, its
// refresh waits until it can be saved first, and it is written to the
// store once the store can take it, by SaveUnsaved or by its refresh.
func TestLoginHeldInMemoryIsSeenUsedAndSaved(t *testing.T) {
	for _, saveBy := range []string{"SaveUnsaved", "refresh"} {
		t.Run(saveBy, func(t *testing.T) {
			privateState(t)
			m, auth := newManager(t)
			seed(t, m, expired())
			ctx := context.Background()
			w, err := m.Watch(ctx, watchEvery)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			s := storeOf(m)
			s.faults = func(step, path string) error {
				if step == stepRename {
					return errors.New("read-only file system")
				}
				return nil
			}
			saved, err := m.Add(ctx, Account{Kind: KindFleet, Subject: "s2", Email: "new@example.com",
				AccessToken: "at-login", RefreshToken: "rt-login", Expiry: testNow.Add(-time.Minute)})
			var ue *UnsavedError
			if !errors.As(err, &ue) || !ue.InMemory {
				t.Fatalf("got %v, want the login held in memory", err)
			}
			id := saved.Account.ID
			if a, err := m.Get(ctx, id); err != nil || a.RefreshToken != "rt-login" {
				t.Fatalf("Get of the held login: %+v %v", a, err)
			}
			if a, err := m.Find(ctx, saved.Account.Name); err != nil || a.ID != id {
				t.Fatalf("Find of the held login: %+v %v", a, err)
			}
			if got, err := m.Snapshot(ctx); err != nil || len(got.Accounts) != 2 || got.Find(id) == nil {
				t.Fatalf("the snapshot does not list the held login: %+v %v", got, err)
			}
			time.Sleep(5 * watchEvery) // the watcher looks at least once
			if a, ok := w.Account(id); !ok || a.RefreshToken != "rt-login" {
				t.Fatalf("the watcher lost the held login: %+v %v", a, ok)
			}
			if _, err := m.Refresh(ctx, saved.Account, Explicit); err == nil || auth.calls.Load() != 0 {
				t.Fatalf("a login that could not be saved was refreshed (%v, %d requests): its rotation could be lost too", err, auth.calls.Load())
			}

			s.faults = nil
			switch saveBy {
			case "SaveUnsaved":
				if n := m.SaveUnsaved(ctx); n != 0 {
					t.Fatalf("%d still unsaved", n)
				}
			case "refresh":
				r, err := m.Refresh(ctx, saved.Account, Explicit)
				if err != nil || r.Account.RefreshToken != "rt-1" {
					t.Fatalf("refresh once the store takes writes: %+v %v", r.Account, err)
				}
			}
			got := reopen(t, m)
			a, err := got.Get(ctx, id)
			if err != nil || a.Revision == 0 || a.Email != "new@example.com" {
				t.Fatalf("the login is not in the store: %+v %v", a, err)
			}
			if saveBy == "SaveUnsaved" && a.RefreshToken != "rt-login" {
				t.Fatalf("stored %q", a.RefreshToken)
			}
			if n := m.SaveUnsaved(ctx); n != 0 {
				t.Fatalf("%d unsaved after it was stored", n)
			}
		})
	}
}

// TestRemovingALoginHeldInMemory forgets it.
func TestRemovingALoginHeldInMemory(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	ctx := context.Background()
	storeOf(m).faults = func(step, path string) error {
		if step == stepRename {
			return errors.New("read-only file system")
		}
		return nil
	}
	saved, err := m.Add(ctx, Account{Kind: KindFleet, Subject: "s2", AccessToken: "at", RefreshToken: "rt"})
	if err == nil {
		t.Fatal("the login was saved")
	}
	if _, err := m.Remove(ctx, saved.Account.ID); err != nil {
		t.Fatal(err)
	}
	storeOf(m).faults = nil
	if _, err := m.Get(ctx, saved.Account.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed login still there: %v", err)
	}
	if n := m.SaveUnsaved(ctx); n != 0 || len(snapshot(t, m).Accounts) != 0 {
		t.Fatalf("removed login saved later (%d unsaved)", n)
	}
}

// TestRemovedLoginDoesNotComeBackFromMemory: a login whose record was
// written but whose save still failed (the directory sync after the
// rename), and whose recovery file could not be written either, is held in
// memory too. Once the account is removed, nothing brings it back: not a
// read, not SaveUnsaved.
func TestRemovedLoginDoesNotComeBackFromMemory(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	ctx := context.Background()
	seed(t, m, Account{ID: "000000a1", Name: "other"})
	recs := inRecords(m)
	storeOf(m).faults = func(step, path string) error {
		if step == stepSyncDir && path == storeOf(m).path(recordsDir) {
			return errInjected
		}
		if step == stepRename && !recs(path) && !strings.Contains(path, "/names/") && !strings.HasSuffix(path, "accounts.json") {
			return errInjected // recovery files fail too
		}
		return nil
	}
	saved, err := m.Add(ctx, Account{Kind: KindFleet, Subject: "s2", Email: "x@example.com", AccessToken: "at", RefreshToken: "rt"})
	var ue *UnsavedError
	if !errors.As(err, &ue) || !ue.InMemory {
		t.Fatalf("setup: %v", err)
	}
	storeOf(m).faults = nil
	id := saved.Account.ID
	a, err := m.Get(ctx, id)
	if err != nil || a.Revision == 0 {
		t.Fatalf("the login whose record was written reads %+v %v", a, err)
	}
	if _, err := m.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if a, err := m.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed account still read: %+v %v", a.Name, err)
	}
	m.SaveUnsaved(ctx)
	if a, err := reopen(t, m).Get(ctx, id); err == nil {
		t.Errorf("removed account is back in the store: %q rev %d", a.Name, a.Revision)
	}
}

// TestSecondLoginWhileTheFirstIsHeldInMemory: the same user logs in again
// once the store takes writes, while the first login is still held in
// memory: the new login is saved as that account, its new refresh token
// stored.
func TestSecondLoginWhileTheFirstIsHeldInMemory(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	ctx := context.Background()
	seed(t, m, Account{ID: "000000a1", Name: "other"})
	storeOf(m).faults = func(step, path string) error {
		if step == stepRename {
			return errors.New("read-only file system")
		}
		return nil
	}
	first, err := m.Add(ctx, Account{Kind: KindFleet, Subject: "s2", Email: "x@example.com", AccessToken: "at-1", RefreshToken: "rt-1"})
	var ue *UnsavedError
	if !errors.As(err, &ue) || !ue.InMemory {
		t.Fatalf("setup: %v", err)
	}
	storeOf(m).faults = nil // the store takes writes again
	second, err := m.Add(ctx, Account{Kind: KindFleet, Subject: "s2", Email: "x@example.com", AccessToken: "at-2", RefreshToken: "rt-2"})
	if err != nil || second.Account.ID != first.Account.ID || !second.Replaced {
		t.Fatalf("second login: %+v %v, want the held account replaced and saved", second, err)
	}
	found := false
	for _, a := range snapshot(t, reopen(t, m)).Accounts {
		if a.RefreshToken == "rt-2" {
			found = true
		}
	}
	if held, err := m.Get(ctx, first.Account.ID); err == nil && held.RefreshToken == "rt-2" {
		found = true
	}
	if !found {
		t.Errorf("the second login's refresh token rt-2 is nowhere (err %v)", err)
	}
}
