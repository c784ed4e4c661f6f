package accounts_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/adrg/xdg"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// sandboxEnv is a store directory and the sandbox server its accounts live
// at, for tests that go through the real OAuth engine.
type sandboxEnv struct {
	t   *testing.T
	srv *sandbox.Server
	dir string
	now func() time.Time
	eng *oauth.Engine
}

// newSandbox starts a sandbox and gives the test its own store directory,
// and so its own state directory (stateOf) under the run's scratch
// $XDG_STATE_HOME (TestMain).
func newSandbox(t *testing.T, opts sandbox.Options) *sandboxEnv {
	t.Helper()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &sandboxEnv{t: t, srv: sandbox.NewTest(t, opts), dir: filepath.Join(t.TempDir(), "keyfob"),
		now: now, eng: &oauth.Engine{Now: opts.Now}}
}

// stateOf is the state directory of the store in dir, where its second
// recovery location is: named after the store's absolute path.
func stateOf(t *testing.T, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(xdg.StateHome, "keyfob", hex.EncodeToString(sum[:6]))
}

// minted is account number n, logged in at the sandbox earlier, with an
// access token living ttl from now.
func (e *sandboxEnv) minted(n int, ttl time.Duration) accounts.Account {
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: ttl,
		Scopes: []string{"openid", "offline_access", "vehicle_device_data"}})
	now := e.now()
	return accounts.Account{
		ID: fmt.Sprintf("%08x", n), Name: fmt.Sprintf("car%02d", n), Kind: accounts.KindFleet, Region: "na",
		ClientID: sandbox.FleetClientID,
		Endpoints: accounts.Endpoints{
			AuthURL: e.srv.Issuer() + "/authorize", TokenURL: e.srv.Issuer() + "/token",
			RevokeURL: e.srv.Issuer() + "/revoke",
		},
		AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, Expiry: ts.Expiry,
		GrantedScopes: ts.Scopes, AccessObtainedAt: now, RefreshObtainedAt: now, State: accounts.StateActive,
	}
}

func (e *sandboxEnv) seed(accts ...accounts.Account) {
	e.t.Helper()
	if _, err := e.manager().Put(context.Background(), accts...); err != nil {
		e.t.Fatal(err)
	}
}

// manager is a Manager of its own, as another process has.
func (e *sandboxEnv) manager() *accounts.Manager {
	m, err := accounts.Open("", accounts.Options{Dir: e.dir, Auth: e.eng, Now: e.now})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// load reads the store as a new process would.
func (e *sandboxEnv) load() *accounts.Snapshot {
	e.t.Helper()
	f, err := e.manager().Snapshot(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}
