package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/keyfob/keyfob/accounts/etcdtest"
)

// etcdMachine opens a Manager on the cluster's store as a machine whose
// keyfob directory is dir would (its own client, lease and recovery files).
func etcdMachine(t *testing.T, c *etcdtest.Cluster, key, dir string, auth Authority, lockWait time.Duration) *Manager {
	t.Helper()
	m, err := Open(c.Location("kf"), Options{Dir: dir, Auth: auth, Now: func() time.Time { return testNow },
		LockTimeout: lockWait, Etcd: EtcdOptions{KeyFile: key}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func etcdOf(m *Manager) *etcdStore { return m.b.(*etcdStore) }

// TestEtcdLockDiesWithItsHolder: while a process holds an account's lock,
// another one waiting is told who holds it when its wait runs out; once
// the holder dies (its client gone, its lease no longer kept alive), the
// lock is free again within the lease's TTL.
func TestEtcdLockDiesWithItsHolder(t *testing.T) {
	t.Parallel() // a long one, mostly waiting: it runs beside the others
	c := etcdtest.Start(t, 1)
	key := etcdtest.KeyFile(t, t.TempDir())
	ctx := context.Background()
	auth := &fakeAuth{ttl: time.Hour, now: func() time.Time { return testNow }}
	holder := etcdMachine(t, c, key, t.TempDir(), auth, 0)
	seed(t, holder, expired())
	if _, err := holder.lockAccount(ctx, "000000a1", "home"); err != nil {
		t.Fatal(err)
	}
	impatient := etcdMachine(t, c, key, t.TempDir(), auth, time.Second)
	_, err := impatient.Token(ctx, "home", time.Minute)
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) ||
		!strings.Contains(err.Error(), `"home"`) {
		t.Fatalf("waiting for a held lock: %v", err)
	}
	// The holder dies: nothing lets go of its lock but the lease's end.
	etcdOf(holder).cli.Close()
	start := time.Now()
	r, err := etcdMachine(t, c, key, t.TempDir(), auth, 0).Token(ctx, "home", time.Minute)
	if err != nil || !r.Requested {
		t.Fatalf("after the holder died: %v", err)
	}
	if d := time.Since(start); d > (etcdLockTTL+5)*time.Second {
		t.Errorf("the lock of a dead holder was free only after %v", d)
	}
	if n := auth.calls.Load(); n != 1 {
		t.Errorf("%d refreshes", n)
	}
}

// TestEtcdLostLockKeepsTheRotation: a refresh whose lock is lost while its
// request is out (its lease ran out) cannot write its result, which the
// server may already have rotated: the new refresh token goes to a
// recovery file on this machine, every read here uses it, and the next
// write from this machine puts it into etcd, where every machine sees it.
func TestEtcdLostLockKeepsTheRotation(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, 1)
	key := etcdtest.KeyFile(t, t.TempDir())
	ctx := context.Background()
	cli := c.Client()
	auth := authFunc(func(ctx context.Context, a Account) (Grant, error) {
		// Meanwhile the lock's key goes, as when its lease runs out.
		if _, err := cli.Delete(ctx, "kf/v1/locks/"+a.ID+"/", clientv3.WithPrefix()); err != nil {
			t.Error(err)
		}
		return Grant{AccessToken: "at-new", RefreshToken: "rt-new", Expiry: testNow.Add(time.Hour)}, nil
	})
	here, there := t.TempDir(), t.TempDir()
	m := etcdMachine(t, c, key, here, auth, 0)
	seed(t, m, expired())
	other := etcdMachine(t, c, key, there, auth, 0)
	if _, err := other.List(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := m.Token(ctx, "home", time.Minute)
	var ue *UnsavedError
	if !errors.As(err, &ue) || !strings.HasPrefix(ue.RecoveryPath, here) || !errors.Is(err, errCASLost) {
		t.Fatalf("refresh with a lost lock: %v", err)
	}
	if fi, err := os.Stat(ue.RecoveryPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("recovery file: %v", err)
	}
	if got, err := m.Get(ctx, "000000a1"); err != nil || got.RefreshToken != "rt-new" {
		t.Fatalf("this machine reads %q, %v; want the rotation it kept", got.RefreshToken, err)
	}
	if got, _ := other.Get(ctx, "000000a1"); got.RefreshToken != "rt-0" {
		t.Fatalf("another machine reads %q before the merge", got.RefreshToken)
	}
	// The next process on this machine merges it back as it starts.
	sameMachine := etcdMachine(t, c, key, here, auth, 0)
	if _, err := sameMachine.List(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Get(ctx, "000000a1"); err != nil || got.RefreshToken != "rt-new" || got.AccessToken != "at-new" {
		t.Fatalf("after the merge another machine reads %q, %v", got.RefreshToken, err)
	}
	if _, err := os.Stat(ue.RecoveryPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the merged recovery file stays: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(here, "etcd", "*", recoveryDir, "*")); len(left) != 0 {
		t.Errorf("recovery files left: %v", left)
	}
}

// TestEtcdNoQuorumNoRefresh: with most members down no refresh is sent
// upstream (its result could not be stored): not by a process that
// already holds the lock (prepare refuses), and not by a new request.
// With the members back, the refresh happens, once.
func TestEtcdNoQuorumNoRefresh(t *testing.T) {
	t.Parallel() // a long one, mostly waiting: it runs beside the others
	c := etcdtest.Start(t, 3)
	key := etcdtest.KeyFile(t, t.TempDir())
	ctx := context.Background()
	auth := &fakeAuth{ttl: time.Hour, now: func() time.Time { return testNow }}
	m := etcdMachine(t, c, key, t.TempDir(), auth, 0)
	seed(t, m, expired())
	cur, err := m.Get(ctx, "000000a1")
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := m.lockAccount(ctx, cur.ID, cur.Name)
	if err != nil {
		t.Fatal(err)
	}
	leader := c.Leader()
	down := []int{(leader + 1) % 3, (leader + 2) % 3}
	for _, i := range down {
		c.Kill(i)
	}
	_, err = m.b.prepare(ctx, cur)
	if !errors.As(err, new(*StoreUnavailableError)) {
		t.Fatalf("prepare without quorum: %v", err)
	}
	unlock()
	other := etcdMachine(t, c, key, t.TempDir(), auth, 0)
	if _, err := other.Token(ctx, "home", time.Minute); !errors.As(err, new(*StoreUnavailableError)) {
		t.Fatalf("a token without quorum: %v", err)
	}
	if n := auth.calls.Load(); n != 0 {
		t.Fatalf("%d refreshes went upstream without quorum", n)
	}
	for _, i := range down {
		c.Restart(i)
	}
	c.WaitLeader()
	r, err := other.Token(ctx, "home", time.Minute)
	if err != nil || !r.Requested || auth.calls.Load() != 1 {
		t.Fatalf("with quorum back: %v (%d refreshes)", err, auth.calls.Load())
	}
}
