package serve_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

func TestTokenEndpointAnswersLikeTesla(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour))
	cred := f.add("teslamate", "car")
	f.start(serve.Options{})
	a := f.account("car")
	for _, path := range []string{serve.TokenPath, serve.ShortTokenPath} {
		r := f.post(path, "application/x-www-form-urlencoded", "grant_type=refresh_token&client_id=ownerapi&scope=openid+offline_access&refresh_token="+cred)
		must(t, r.status == 200, "%s: %d %s", path, r.status, r.raw)
		in, _ := r.body["expires_in"].(float64)
		created, _ := r.body["created_at"].(float64)
		if r.str("access_token") != a.AccessToken || r.str("token_type") != "Bearer" || r.str("refresh_token") != cred ||
			in < 3590 || in > 3600 || math.Abs(created-float64(time.Now().Unix())) > 5 || len(r.body) != 5 {
			t.Fatalf("%s answered %v", path, r.body)
		}
	}
	if n := f.srv.Stats().Refreshes; n != 0 {
		t.Fatalf("%d refreshes for a fresh token", n)
	}
	lines := f.logLines("teslamate")
	must(t, len(lines) == 2 && strings.Contains(lines[0], "account=car status=200 outcome=ok latency="),
		"log lines %q", lines)
}

func TestAnExpiredTokenIsRefreshedFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", 2*time.Minute)) // inside the 5 min margin
	old := f.account("car")
	cred := f.add("tm", "car")
	f.start(serve.Options{})
	r := f.refresh(cred)
	stored := f.account("car")
	info, ok := f.srv.AccessToken(r.str("access_token"))
	must(t, r.status == 200 && r.str("access_token") != old.AccessToken && r.str("access_token") == stored.AccessToken,
		"answer %d %v", r.status, r.body)
	must(t, ok && info.Expiry.After(time.Now().Add(7*time.Hour)), "not a fresh sandbox token")
	must(t, stored.RefreshToken != old.RefreshToken && f.srv.RefreshTokenLive(stored.RefreshToken), "the rotated refresh token is not stored")
	// The next request is served from memory.
	if r2 := f.refresh(cred); r2.str("access_token") != stored.AccessToken || f.srv.Stats().Refreshes != 1 {
		t.Fatalf("second answer %v after %d refreshes", r2.body, f.srv.Stats().Refreshes)
	}
	lines := f.logLines("tm")
	must(t, strings.Contains(lines[0], "outcome=refreshed") && strings.Contains(lines[1], "outcome=ok"), "log %q", lines)
}

func TestTokenByName(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour), f.minted("000000a2", "truck", time.Hour))
	cred := f.add("script", "car")
	f.start(serve.Options{})
	a := f.account("car")
	for _, name := range []string{"car", "CAR", "car@example.com", "000000a1"} {
		r := f.get(name, "Bearer "+cred)
		in, _ := r.body["expires_in"].(float64)
		_, base := r.body["api_base_url"]
		must(t, r.status == 200 && r.str("access_token") == a.AccessToken && r.str("name") == "car" &&
			r.str("id") == "000000a1" && r.str("token_type") == "Bearer" && r.str("expires_at") == a.Expiry.UTC().Format(time.RFC3339) &&
			in > 3590 && len(r.body["scopes"].([]any)) == 3 && base && len(r.body) == 8, "%s: %d %v", name, r.status, r.body)
	}
}

// TestConcurrentConsumersRefreshOnce: 200 consumers of one expired
// account ask at the same instant; the sandbox sees one refresh and every
// consumer gets the same, valid token.
func TestConcurrentConsumersRefreshOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Latency: 100 * time.Millisecond})
	f.seed(f.minted("000000a1", "car", -time.Minute))
	const n = 200
	creds := make([]string, n)
	for i := range creds {
		creds[i] = f.add("consumer-"+string(rune('a'+i/26))+string(rune('a'+i%26)), "000000a1")
	}
	f.start(serve.Options{})
	f.client.Transport = &http2Free{max: n}
	replies := make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range creds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i] = f.refresh(creds[i])
		}()
	}
	close(start)
	wg.Wait()
	tok := replies[0].str("access_token")
	for i, r := range replies {
		must(t, r.status == 200 && r.str("access_token") == tok && r.str("refresh_token") == creds[i], "consumer %d: %d %v", i, r.status, r.body)
	}
	info, ok := f.srv.AccessToken(tok)
	must(t, ok && info.Expiry.After(time.Now()), "the token is not valid")
	must(t, f.srv.Stats().Refreshes == 1, "%d refreshes at the sandbox, want 1", f.srv.Stats().Refreshes)
	must(t, f.account("car").AccessToken == tok, "the store does not hold the served token")
}

// TestStoreChangesAreSeen: consumers added or removed and accounts
// refreshed or removed by other keyfob processes reach the running service.
func TestStoreChangesAreSeen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour), f.minted("000000a2", "truck", time.Hour))
	f.start(serve.Options{})
	// Added after the start: works at once.
	cred := f.add("late", "car")
	must(t, f.refresh(cred).status == 200, "a consumer added after the start is refused")
	// Refreshed by another process: its new token is served.
	other := f.open()
	fresh, err := other.Refresh(context.Background(), f.account("car"), accounts.Explicit)
	must(t, err == nil && fresh.Requested, "%v", err)
	// The old token is still valid: the new one is served once the
	// service's watch of the store has looked (every 250 ms).
	must(t, keyfobtest.Within(5*time.Second, func() bool { return f.refresh(cred).str("access_token") == fresh.Account.AccessToken }),
		"the token another process refreshed is not served")
	// Removed: refused at once.
	_, err = other.RemoveConsumer(context.Background(), "late")
	must(t, err == nil, "%v", err)
	must(t, f.refresh(cred).status == 401, "a removed consumer still works")
	cred2 := f.add("truck-user", "truck")
	must(t, f.refresh(cred2).status == 200, "consumer refused")
	// The consumers broken by hand: the service cannot tell whether a
	// consumer was removed, so it hands out no token until they can be
	// read again (503 with a Retry-After), and the log says why.
	path := filepath.Join(f.dir, "consumers.json")
	good, err := os.ReadFile(path)
	must(t, err == nil, "%v", err)
	must(t, os.WriteFile(path, []byte(`{"version": 3, "consumers": [`), 0o600) == nil, "write")
	r := f.refresh(cred2)
	must(t, r.status == 503 && r.str("error") == "temporarily_unavailable" && r.header.Get("Retry-After") != "",
		"a broken store: %d %v", r.status, r.body)
	must(t, strings.Contains(f.log.String(), "the store cannot be read") && strings.Contains(f.log.String(), "consumers.json"),
		"log:\n%s", f.log.String())
	must(t, os.WriteFile(path, good, 0o600) == nil, "write")
	must(t, f.refresh(cred2).status == 200, "the mended store is not served")
	// Its account removed: its consumers go with it.
	_, err = other.Remove(context.Background(), "000000a2")
	must(t, err == nil, "remove: %v", err)
	must(t, f.refresh(cred2).status == 401, "the consumer of a removed account still works")
}

// TestShutdownLetsRequestsFinish: asked to stop while a request waits for
// a slow refresh upstream, the service answers it, then stops, and writes
// the consumers' last uses to the store.
func TestShutdownLetsRequestsFinish(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Latency: 700 * time.Millisecond})
	f.seed(f.minted("000000a1", "car", -time.Minute))
	cred := f.add("tm", "car")
	started := make(chan struct{}, 1)
	f.auth.started = started
	f.start(serve.Options{})
	got := make(chan reply, 1)
	go func() { got <- f.refresh(cred) }()
	<-started // the request is waiting on the sandbox
	stopped := make(chan error, 1)
	go func() { stopped <- f.stop() }()
	r := <-got
	must(t, r.status == 200 && r.str("access_token") != "", "the request in flight got %d %v", r.status, r.body)
	must(t, <-stopped == nil, "Serve returned an error")
	cs, _ := f.m.Consumers(context.Background())
	must(t, len(cs) == 1 && !cs[0].LastUsedAt.IsZero() && strings.HasPrefix(cs[0].LastAddress, "127.0.0.1:"),
		"last use not written: %+v", cs)
	if _, err := f.client.Get(f.base + serve.TokenPath); err == nil {
		t.Fatal("the service still answers after stopping")
	}
}

// TestConsumerRemovedInFlightGetsNoToken: a consumer removed by another
// keyfob process while its request waits for a refresh upstream gets 401
// and no token; the refresh itself is kept in the store, and the
// account's other consumers get its token.
func TestConsumerRemovedInFlightGetsNoToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Latency: 700 * time.Millisecond})
	f.seed(f.minted("000000a1", "car", -time.Minute))
	cred, other := f.add("tm", "car"), f.add("ha", "car")
	started := make(chan struct{}, 1)
	f.auth.started = started
	f.start(serve.Options{})
	got := make(chan reply, 1)
	go func() { got <- f.refresh(cred) }()
	<-started // the refresh is upstream
	elsewhere, err := accounts.Open("", accounts.Options{Dir: f.dir, Auth: f.auth})
	must(t, err == nil, "%v", err)
	_, err = elsewhere.RemoveConsumer(context.Background(), "tm")
	must(t, err == nil, "%v", err)
	r := <-got
	must(t, r.status == 401 && r.str("error") == "invalid_client" && r.str("access_token") == "", "removed in flight: %d %s", r.status, r.raw)
	stored := f.account("car")
	must(t, f.srv.Stats().Refreshes == 1 && f.srv.RefreshTokenLive(stored.RefreshToken), "the refresh was not kept")
	r = f.refresh(other)
	must(t, r.status == 200 && r.str("access_token") == stored.AccessToken, "the other consumer: %d %s", r.status, r.raw)
	must(t, strings.Contains(f.log.String(), "consumer=tm account=car status=401 outcome=removed_meanwhile"), "log:\n%s", f.log.String())
}
