package ui

import (
	"os"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/oauthtest"
)

func TestOtherProcessChangesShowUp(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, func(s *oauthtest.Server) []accounts.Account {
		return []accounts.Account{
			minted(s, "1d000001", "car", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}),
			minted(s, "1d000002", "truck", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}),
		}
	})
	// Another keyfob (e.g. `keyfob token` in cron) refreshes car.
	other := accounts.NewManager(e.store, e.engine)
	seen := e.stored(t)[0]
	fresh, err := other.Refresh(ctx(), seen)
	if err != nil {
		t.Fatal(err)
	}
	ensureNewStamp(t, e.store)
	e.d.send(tickMsg(time.Now()))
	e.d.until("the reload", func() bool { return e.row(0).Acct.AccessToken == fresh.AccessToken })

	// A change made here keeps the other process's refresh: writes go
	// through the manager, which re-reads the store.
	e.d.press("down", "e", "ctrl+u", "type:lorry", "enter")
	e.d.until("the rename", e.noModals)
	car, _ := e.storedNamed(t, "car")
	if car.RefreshToken != fresh.RefreshToken {
		t.Error("the rename wrote back a stale refresh token of another account")
	}
}

// ensureNewStamp makes sure the store's stamp differs from the one the
// model saw, even on file systems with coarse modification times.
func ensureNewStamp(t *testing.T, s *accounts.Store) {
	t.Helper()
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	later := fi.ModTime().Add(2 * time.Second)
	if err := os.Chtimes(s.Path(), later, later); err != nil {
		t.Fatal(err)
	}
}
