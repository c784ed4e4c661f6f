package keyfobtest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyfob/keyfob/accounts"
)

// Manager is the Manager (opened with opts) of a store in opts.Dir, or in
// a new temporary directory when it is "", seeded with accts as they are.
// It is closed when the test ends.
func Manager(t testing.TB, accts []accounts.Account, opts accounts.Options) *accounts.Manager {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	m, err := accounts.Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if len(accts) > 0 {
		if _, err := m.Put(context.Background(), accts...); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// OldStore writes, in dir, a store of the one-file format (version 2)
// holding accts and cs, as an older keyfob or a hand edit leaves one:
// keyfob takes it over on first use.
func OldStore(t testing.TB, dir string, accts []accounts.Account, cs []accounts.Consumer) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"version": 2, "accounts": accts, "consumers": cs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, accounts.StoreFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ErrNoServer is what NoServer answers.
var ErrNoServer = errors.New("no server in this test")

// NoServer is an accounts.Authority that fails every call with
// ErrNoServer: tests of screens never reach a server.
type NoServer struct{}

// Refresh implements accounts.Authority.
func (NoServer) Refresh(context.Context, accounts.Account) (accounts.Grant, error) {
	return accounts.Grant{}, ErrNoServer
}

// Revoke implements accounts.Authority.
func (NoServer) Revoke(context.Context, accounts.Account) (accounts.Revocation, error) {
	return accounts.Revocation{}, ErrNoServer
}
