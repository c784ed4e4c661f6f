package ui

import (
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// TestOtherProcessChangesShowUp: another keyfob process (`keyfob token` in
// cron, say), with a Manager of its own on the same directory, refreshes
// one account and renames another while the TUI runs. The TUI's watch of
// the store sees both and shows them, with no key pressed and no tick; a
// change made in the TUI afterwards keeps them.
func TestOtherProcessChangesShowUp(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, func(s *sandbox.Server) []accounts.Account {
		return []accounts.Account{
			keyfobtest.Minted(s, "1d000001", "car", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}),
			keyfobtest.Minted(s, "1d000002", "truck", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}),
		}
	})
	other := e.other(t)
	r, err := other.Refresh(ctx(), e.stored(t)[0], accounts.Explicit)
	if err != nil {
		t.Fatal(err)
	}
	fresh := r.Account
	if _, err := other.Rename(ctx(), "1d000002", "van"); err != nil {
		t.Fatal(err)
	}
	e.d.Until("the reload", func() bool {
		return e.row(0).Account().AccessToken == fresh.AccessToken && e.row(1).Account().Name == "van"
	})

	// A change made here keeps the other process's: writes go through the
	// manager, which re-reads the store.
	e.d.Press("down", "e", "ctrl+u", "type:lorry", "enter")
	e.d.Until("the rename", e.noModals)
	if car, _ := e.storedNamed(t, "car"); car.RefreshToken != fresh.RefreshToken {
		t.Error("the rename wrote back a stale refresh token of another account")
	}
	if _, ok := e.storedNamed(t, "lorry"); !ok {
		t.Error("the rename did not reach the store")
	}
}

// TestOwnWritesAreNoChange: what the TUI writes itself (a rename, a
// refresh) goes to its watch of the store with the write, and is not
// reported back as another process's change: no reload follows.
func TestOwnWritesAreNoChange(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, func(s *sandbox.Server) []accounts.Account {
		return []accounts.Account{keyfobtest.Minted(s, "1d000001", "car", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID})}
	})
	e.d.Press("e", "ctrl+u", "type:van", "enter")
	e.d.Until("the rename", func() bool { return e.noModals() && e.row(0).Account().Name == "van" })
	e.d.Press("r")
	e.d.Until("the refresh", func() bool { return !e.busy(0) && e.srv.Stats().Refreshes == 1 })
	// Two looks of the watch (one a second) and some more.
	time.Sleep(2*watchEvery + 500*time.Millisecond)
	e.d.Drain()
	if n := e.d.changes.Load(); n != 0 {
		t.Fatalf("the TUI's own writes came back as %d changes by others", n)
	}
	if _, ok := e.storedNamed(t, "van"); !ok {
		t.Fatal("the rename did not reach the store")
	}
}
