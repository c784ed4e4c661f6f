package accounts_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/adrg/xdg"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/oauthtest"
)

// sandbox is a store directory and the sandbox server its accounts live
// at, for tests that go through the real OAuth engine.
type sandbox struct {
	t   *testing.T
	srv *oauthtest.Server
	dir string
	now func() time.Time
	eng *oauth.Engine
}

// newSandbox starts a sandbox and gives the test its own store directory
// and XDG state directory (where the second recovery file goes).
func newSandbox(t *testing.T, opts oauthtest.Options) *sandbox {
	t.Helper()
	// Cleanups run last-in first-out: the reload sees the restored
	// environment.
	t.Cleanup(xdg.Reload)
	t.Setenv("XDG_STATE_HOME", filepath.Join(t.TempDir(), "state"))
	xdg.Reload()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &sandbox{t: t, srv: oauthtest.NewTest(t, opts), dir: filepath.Join(t.TempDir(), "keyfob"),
		now: now, eng: &oauth.Engine{Now: opts.Now}}
}

// minted is account number n, logged in at the sandbox earlier, with an
// access token living ttl from now.
func (e *sandbox) minted(n int, ttl time.Duration) accounts.Account {
	ts := e.srv.Mint(oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: ttl,
		Scopes: []string{"openid", "offline_access", "vehicle_device_data"}})
	now := e.now()
	return accounts.Account{
		ID: fmt.Sprintf("%08x", n), Name: fmt.Sprintf("car%02d", n), Kind: accounts.KindFleet, Region: "na",
		ClientID: oauthtest.FleetClientID,
		Endpoints: accounts.Endpoints{
			AuthURL: e.srv.Issuer() + "/authorize", TokenURL: e.srv.Issuer() + "/token",
			RevokeURL: e.srv.Issuer() + "/revoke",
		},
		AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, Expiry: ts.Expiry,
		GrantedScopes: ts.Scopes, AccessObtainedAt: now, RefreshObtainedAt: now, State: accounts.StateActive,
	}
}

func (e *sandbox) seed(accts ...accounts.Account) {
	e.t.Helper()
	err := accounts.Open(e.dir).Update(context.Background(), func(f *accounts.File) error {
		f.Accounts = append(f.Accounts, accts...)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// manager is a Manager on a Store of its own, as another process has.
func (e *sandbox) manager() *accounts.Manager {
	m := accounts.NewManager(accounts.Open(e.dir), e.eng)
	m.Now = e.now
	return m
}

// load reads the store as a new process would.
func (e *sandbox) load() *accounts.File {
	e.t.Helper()
	f, err := accounts.Open(e.dir).Load()
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}
