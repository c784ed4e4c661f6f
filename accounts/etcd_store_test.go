package accounts_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestEtcdStoreRoundTrip writes accounts and consumers through one
// manager and reads them through another, as two machines would: by id,
// by name (case-insensitively, through the name index), renamed, removed.
func TestEtcdStoreRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEtcdEnv(t, 1, sandbox.Options{})
	ctx := context.Background()
	a, b := e.minted(1, time.Hour), e.minted(2, time.Hour)
	a.ClientSecret = "the-client-secret"
	e.seed(a, b)
	m := e.manager()
	got, err := m.Find(ctx, "CAR01")
	if err != nil || got.ID != a.ID || got.RefreshToken != a.RefreshToken || got.ClientSecret != a.ClientSecret {
		t.Fatalf("find by name: %+v, %v", got.Name, err)
	}
	if got.Revision == 0 {
		t.Error("an account read from etcd has no revision")
	}
	if _, err := m.Rename(ctx, a.ID, "Kitchen"); err != nil {
		t.Fatal(err)
	}
	other := e.manager()
	if _, err := other.Find(ctx, "car01"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("the old name still finds the account: %v", err)
	}
	if got, err := other.Find(ctx, "kitchen"); err != nil || got.ID != a.ID {
		t.Fatalf("the new name: %v", err)
	}
	if _, err := other.Rename(ctx, b.ID, "kitchen"); !errors.Is(err, accounts.ErrNameTaken) {
		t.Errorf("a taken name was given again: %v", err)
	}
	_, cred, err := m.AddConsumer(ctx, "teslamate", "kitchen")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.AddConsumer(ctx, "TeslaMate", "car02"); !errors.Is(err, accounts.ErrNameTaken) {
		t.Errorf("two consumers with one name: %v", err)
	}
	cs, err := other.Consumers(ctx)
	if err != nil || len(cs) != 1 || cs[0].Hash != accounts.HashCredential(cred) || cs[0].AccountID != a.ID {
		t.Fatalf("consumers: %+v, %v", cs, err)
	}
	removed, err := other.Remove(ctx, a.ID)
	if err != nil || len(removed.Consumers) != 1 {
		t.Fatalf("remove: %+v, %v", removed, err)
	}
	snap := e.load()
	if len(snap.Accounts) != 1 || snap.Accounts[0].ID != b.ID || len(snap.Consumers) != 0 {
		t.Fatalf("after remove: %d accounts, %d consumers", len(snap.Accounts), len(snap.Consumers))
	}
	for k := range e.raw() {
		if strings.Contains(k, "/names/kitchen") || strings.Contains(k, a.ID) {
			t.Errorf("the removed account left %s behind", k)
		}
	}
}

// TestEtcdNoSecretInPlainText reads every raw value under the prefix: no
// access, refresh or id token, client secret or consumer credential may
// appear in it, whole or in any of the forms a scanner would look for.
func TestEtcdNoSecretInPlainText(t *testing.T) {
	t.Parallel()
	e := newEtcdEnv(t, 1, sandbox.Options{})
	ctx := context.Background()
	a := e.minted(1, time.Second)
	a.ClientSecret, a.IDToken = "s3cret-of-the-client", "eyJpZC10b2tlbi1oZWFkZXI.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	a.AccessObtainedAt = e.now().Add(-time.Hour)
	e.seed(a)
	m := e.manager()
	r, err := m.Token(ctx, a.Name, time.Minute) // a refresh writes the new tokens
	if err != nil || !r.Requested {
		t.Fatalf("refresh: %v (requested %v)", err, r.Requested)
	}
	_, cred, err := m.AddConsumer(ctx, "ha", a.Name)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{a.AccessToken, a.RefreshToken, a.IDToken, a.ClientSecret, cred,
		r.Account.AccessToken, r.Account.RefreshToken}
	raw := e.raw()
	if len(raw) < 4 {
		t.Fatalf("only %d keys: %v", len(raw), raw)
	}
	for _, s := range secrets {
		forms := []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))}
		if parts := strings.Split(s, "."); len(parts) == 3 {
			forms = append(forms, parts[2]) // a JWT's signature
		}
		for k, v := range raw {
			for _, f := range forms {
				if len(f) >= 8 && strings.Contains(v, f) {
					t.Errorf("%s holds a secret in plain text (%.12s…)", k, f)
				}
			}
		}
	}
	if v := raw[e.prefix+"/v1/accounts/"+a.ID]; !strings.Contains(v, `"refresh_token":"kf1:`) {
		t.Errorf("the refresh token is not sealed: %.200s", v)
	}
	// And the tokens come back whole.
	if got, err := e.manager().Get(ctx, a.ID); err != nil || got.RefreshToken != r.Account.RefreshToken || got.ClientSecret != a.ClientSecret {
		t.Fatalf("read back: %v", err)
	}
}

// TestEtcdOneRefreshAcrossManagers asks 40 callers on 4 managers (each as
// another machine: its own client, lease and memory) for a token that has
// expired. The sandbox must see exactly one refresh, every caller get the
// same token, and the stored refresh token must be the sandbox's newest.
// Then it all happens again: after the leader of the cluster is killed,
// while a member is stopped, and after it is back.
func TestEtcdOneRefreshAcrossManagers(t *testing.T) {
	t.Parallel()
	e := newEtcdEnv(t, 3, sandbox.Options{AccessTTL: time.Hour})
	a := e.minted(1, -time.Second)
	e.seed(a)
	managers := make([]*accounts.Manager, 4)
	for i := range managers {
		managers[i] = e.manager()
	}
	round := func(want int) {
		t.Helper()
		const callers = 40
		tokens := make([]string, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			m := managers[i%len(managers)]
			wg.Go(func() {
				<-start
				r, err := m.Token(context.Background(), a.Name, time.Minute)
				if err != nil {
					t.Error(err)
				}
				tokens[i] = r.Account.AccessToken
			})
		}
		close(start)
		wg.Wait()
		if n := e.srv.Stats().Refreshes; n != want {
			t.Fatalf("%d refreshes at the server, want %d", n, want)
		}
		stored := e.load().Find(a.ID)
		for i, tok := range tokens {
			if tok != stored.AccessToken {
				t.Fatalf("caller %d got another token than the stored one", i)
			}
		}
		if pos, ok := e.srv.RefreshTokenPosition(stored.RefreshToken); !ok || pos != 0 {
			t.Fatalf("the stored refresh token is not the newest (position %d, live %v)", pos, ok)
		}
	}
	round(1)
	// Expire the token again, then kill the leader.
	expire(t, e, a.ID)
	leader := e.c.Leader()
	e.c.Kill(leader)
	round(2)
	e.c.Restart(leader)
	// A member cut off (stopped) while the others go on, then back.
	follower := (e.c.WaitLeader() + 1) % 3
	e.c.Stop(follower)
	expire(t, e, a.ID)
	round(3)
	e.c.Restart(follower)
	expire(t, e, a.ID)
	round(4)
}

// expire makes the stored access token of id expired, as time would.
func expire(t *testing.T, e *etcdEnv, id string) {
	t.Helper()
	m := e.manager()
	cur, err := m.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	cur.Expiry = e.now().Add(-time.Second)
	if _, err := m.Put(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
}

// TestEtcdWatcherSeesOtherMachines: a watcher (the TUI's, the token
// service's) takes in what another machine writes within a second or two,
// and its own process's writes without reporting them as changes.
func TestEtcdWatcherSeesOtherMachines(t *testing.T) {
	t.Parallel()
	e := newEtcdEnv(t, 1, sandbox.Options{})
	ctx := context.Background()
	e.seed(e.minted(1, time.Hour))
	here := e.manager()
	w, err := here.Watch(ctx, 250*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	drain := func() {
		for {
			select {
			case <-w.Changed():
			case <-time.After(500 * time.Millisecond):
				return
			}
		}
	}
	drain()
	there := e.manager()
	if _, err := there.Put(ctx, e.minted(2, time.Hour)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Changed():
	case <-time.After(2 * time.Second):
		t.Fatal("another machine's new account was not reported within 2 s")
	}
	if _, ok := w.Account("00000002"); !ok {
		t.Fatal("the watcher does not hold the new account")
	}
	if _, err := there.Rename(ctx, "00000001", "garage"); err != nil {
		t.Fatal(err)
	}
	if !waitWatcher(w, func() bool { a, _ := w.Account("00000001"); return a.Name == "garage" }) {
		t.Fatal("another machine's rename did not arrive within 2 s")
	}
	drain()
	if _, err := here.Rename(ctx, "00000002", "shed"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Changed():
		t.Fatal("this process's own write was reported as a change")
	case <-time.After(time.Second):
	}
	if a, _ := w.Account("00000002"); a.Name != "shed" || a.Revision == 0 {
		t.Fatalf("the watcher holds %q (revision %d) after its own write", a.Name, a.Revision)
	}
}

func waitWatcher(w *accounts.Watcher, ok func() bool) bool {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ok()
}
