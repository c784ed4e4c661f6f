package ui

import (
	"context"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestOtherProcessChangesShowUp: another keyfob process (`keyfob token` in
// cron, say), with a Store of its own on the same directory, refreshes one
// account and renames another between two ticks of the TUI. The next tick
// sees the store's stamp change and shows both; a change made in the TUI
// afterwards keeps them.
func TestOtherProcessChangesShowUp(t *testing.T) {
	e := newFlowEnv(t, sandbox.Options{}, func(s *sandbox.Server) []accounts.Account {
		return []accounts.Account{
			minted(s, "1d000001", "car", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}),
			minted(s, "1d000002", "truck", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}),
		}
	})
	e.d.send(tickMsg(time.Now())) // the TUI has looked at the store once
	e.d.settle()

	other := accounts.NewManager(accounts.Open(e.store.Dir()), e.engine)
	fresh, err := other.Refresh(ctx(), e.stored(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	err = other.Store.Update(context.Background(), func(f *accounts.File) error {
		f.Find("1d000002").Name = "van"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.row(0).Acct.AccessToken == fresh.AccessToken || e.row(1).Acct.Name == "van" {
		t.Fatal("the TUI changed before it looked at the store")
	}
	e.d.send(tickMsg(time.Now()))
	e.d.until("the reload", func() bool {
		return e.row(0).Acct.AccessToken == fresh.AccessToken && e.row(1).Acct.Name == "van"
	})

	// A change made here keeps the other process's: writes go through the
	// manager, which re-reads the store.
	e.d.press("down", "e", "ctrl+u", "type:lorry", "enter")
	e.d.until("the rename", e.noModals)
	if car, _ := e.storedNamed(t, "car"); car.RefreshToken != fresh.RefreshToken {
		t.Error("the rename wrote back a stale refresh token of another account")
	}
	if _, ok := e.storedNamed(t, "lorry"); !ok {
		t.Error("the rename did not reach the store")
	}
}
