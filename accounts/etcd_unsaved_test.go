package accounts

import (
	"context"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts/etcdtest"
)

// TestEtcdRefreshOfALoginHeldInMemory: on etcd an account's revision is
// its key's; a login held in memory is written first, then refreshed
// against the revision etcd gave it.
func TestEtcdRefreshOfALoginHeldInMemory(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, 1)
	key := etcdtest.KeyFile(t, t.TempDir())
	ctx := context.Background()
	auth := authFunc(func(ctx context.Context, a Account) (Grant, error) {
		return Grant{AccessToken: "at-new", RefreshToken: "rt-new", Expiry: testNow.Add(time.Hour)}, nil
	})
	m := etcdMachine(t, c, key, t.TempDir(), auth, 0)
	seed(t, m, Account{ID: "000000b2", Name: "other", Kind: KindFleet, RefreshToken: "x", Rotation: 1})
	held := Account{ID: "000000a9", Name: "held", Kind: KindFleet, Subject: "s9", AccessToken: "at-0",
		RefreshToken: "rt-login", Rotation: 1, Expiry: testNow.Add(-time.Minute), CreatedAt: testNow}
	// what Add leaves when neither etcd nor a recovery file took the login
	m.unsavedMu.Lock()
	m.unsaved = map[string]Account{held.ID: held}
	m.unsavedMu.Unlock()
	r, err := m.Refresh(ctx, held, Explicit)
	if err != nil {
		t.Fatalf("refresh of the held login once etcd takes writes: %v (account rev %d)", err, r.Account.Revision)
	}
	if got, err := m.Get(ctx, held.ID); err != nil || got.RefreshToken != "rt-new" {
		t.Fatalf("stored %+v %v", got.RefreshToken, err)
	}
}
