package accounts_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/accounts/etcdtest"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// etcdEnv is an etcd cluster, a prefix of it for the test, a store key,
// and the sandbox the accounts live at. Each manager it opens is as
// another process (or machine) would have: its own client, lease and
// keyfob directory.
type etcdEnv struct {
	*sandboxEnv
	c       *etcdtest.Cluster
	prefix  string
	keyFile string
	opened  int
}

// newEtcdEnv starts a cluster of members members and a sandbox.
func newEtcdEnv(t *testing.T, members int, opts sandbox.Options) *etcdEnv {
	t.Helper()
	return newEtcdEnvWith(t, members, opts, etcdtest.Options{})
}

// newEtcdEnvWith is newEtcdEnv with the cluster's options.
func newEtcdEnvWith(t *testing.T, members int, opts sandbox.Options, co etcdtest.Options) *etcdEnv {
	t.Helper()
	e := &etcdEnv{sandboxEnv: newSandbox(t, opts), c: etcdtest.StartWith(t, members, co), prefix: "keyfob-test"}
	e.keyFile = etcdtest.KeyFile(t, t.TempDir())
	return e
}

func (e *etcdEnv) location() string { return e.c.Location(e.prefix) }

// open opens the store with etcd options o (the env's key when o names
// none and does not ask for plain text).
func (e *etcdEnv) open(o accounts.EtcdOptions) (*accounts.Manager, error) {
	if o.KeyFile == "" && !o.Plaintext {
		o.KeyFile = e.keyFile
	}
	e.opened++
	return accounts.Open(e.location(), accounts.Options{Dir: filepath.Join(e.t.TempDir(), "keyfob"), Auth: e.eng, Now: e.now,
		Etcd: o, LockTimeout: 30 * time.Second})
}

// manager is a Manager of its own on the store, closed when the test ends.
func (e *etcdEnv) manager() *accounts.Manager {
	e.t.Helper()
	m, err := e.open(accounts.EtcdOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { m.Close() })
	return m
}

func (e *etcdEnv) seed(accts ...accounts.Account) {
	e.t.Helper()
	if _, err := e.manager().Put(context.Background(), accts...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *etcdEnv) load() *accounts.Snapshot {
	e.t.Helper()
	snap, err := e.manager().Snapshot(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return snap
}

// raw is every key of the test's prefix with its value, as etcd holds it.
func (e *etcdEnv) raw() map[string]string { return e.c.Dump(e.prefix + "/") }
