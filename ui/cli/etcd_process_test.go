package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// replica is a keyfob serve process on the etcd store, with a keyfob
// directory of its own, as on another machine.
type replica struct {
	cmd  *exec.Cmd
	base string
	log  *keyfobtest.Buffer
}

// startReplica runs keyfob serve on the store.
func (x *etcdCLI) startReplica(name string) *replica {
	x.t.Helper()
	args := x.args("serve", "--addr", "127.0.0.1:0", "--min-valid", "1m")
	cmd := exec.Command(keyfobtest.Binary(x.t), args...)
	cmd.Env = x.environ(EnvConfigDir + "=" + filepath.Join(x.dir, "machine-"+name))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		x.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		x.t.Fatal(err)
	}
	x.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := &replica{cmd: cmd, log: &keyfobtest.Buffer{}}
	started := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			r.log.Write([]byte(sc.Text() + "\n"))
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				started <- m[1]
			}
		}
	}()
	select {
	case r.base = <-started:
	case <-time.After(30 * time.Second):
		x.t.Fatalf("replica %s did not start: %s", name, r.log.String())
	}
	return r
}

// tokenFrom asks a replica for the token of cred: status and access token.
func tokenFrom(base, cred string) (int, string, error) {
	resp, err := http.PostForm(base+"/oauth2/v3/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cred}})
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, body.AccessToken, nil
}

// TestEtcdServeReplicas runs two keyfob serve replicas on a three-member
// etcd cluster. Each time the account's token has expired, 60 consumers
// asking at once (half of them of each replica) cause exactly one refresh
// upstream and all get the same token: once; again after the etcd leader
// is killed; again after a replica is killed with SIGKILL in the middle of
// a refresh (the lock it held is free when its lease ends, and the other
// replica takes over). At the end the stored refresh token works.
func TestEtcdServeReplicas(t *testing.T) {
	t.Parallel()
	x := newEtcdCLI(t, 3, sandbox.Options{RefreshGrace: time.Minute})
	ctx := context.Background()
	m := x.etcdManager()
	a := x.minted("a0000001", "car", -time.Minute)
	// probe's consumers tell when a replica has seen a change (see expire);
	// its token lives an hour, so asking for it refreshes nothing.
	probe := x.minted("a0000002", "probe", time.Hour)
	if _, err := m.Put(ctx, a, probe); err != nil {
		t.Fatal(err)
	}
	creds := make([]string, 60)
	for i := range creds {
		_, cred, err := m.AddConsumer(ctx, fmt.Sprintf("consumer%02d", i), "car")
		if err != nil {
			t.Fatal(err)
		}
		creds[i] = cred
	}
	replicas := []*replica{x.startReplica("a"), x.startReplica("b")}
	round := func(what string) {
		t.Helper()
		before := x.srv.Stats().Refreshes
		tokens := make([]string, len(creds))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, cred := range creds {
			r := replicas[i%len(replicas)]
			wg.Go(func() {
				<-start
				status, tok, err := tokenFrom(r.base, cred)
				if err != nil || status != http.StatusOK {
					t.Errorf("%s: consumer %d: %d %v", what, i, status, err)
				}
				tokens[i] = tok
			})
		}
		close(start)
		wg.Wait()
		if n := x.srv.Stats().Refreshes - before; n != 1 {
			t.Fatalf("%s: %d refreshes upstream for 60 consumers, want 1", what, n)
		}
		stored, err := m.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, tok := range tokens {
			if tok != stored.AccessToken {
				distinct := map[string][]int{}
				for j, tk := range tokens {
					distinct[tk[max(0, len(tk)-8):]] = append(distinct[tk[max(0, len(tk)-8):]], j)
				}
				t.Logf("stored %s; tokens: %v", stored.AccessToken[max(0, len(stored.AccessToken)-8):], distinct)
				for _, r := range replicas {
					t.Logf("replica log:\n%s", r.log.String())
				}
				t.Fatalf("%s: consumer %d got another token than the stored one", what, i)
			}
		}
	}
	// expire ends the stored token, and waits for the replicas to see it:
	// a replica's watch takes etcd's changes in order, so one that knows a
	// consumer added afterwards has seen the expiry too.
	probes := 0
	expire := func() {
		t.Helper()
		cur, err := m.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		cur.Expiry = time.Now().Add(-time.Second)
		if _, err := m.Put(ctx, cur); err != nil {
			t.Fatal(err)
		}
		probes++
		_, cred, err := m.AddConsumer(ctx, fmt.Sprintf("probe%d", probes), "probe")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range replicas {
			waitFor(t, 30*time.Second, func() bool {
				status, _, _ := tokenFrom(r.base, cred)
				return status == http.StatusOK
			})
		}
	}
	round("first expiry")

	expire()
	x.c.Kill(x.c.Leader())
	round("after the leader was killed")

	// Replica a is refreshing (upstream answers slowly) when it is killed.
	expire()
	x.srv.SetLatency(2 * time.Second)
	go tokenFrom(replicas[0].base, creds[0])
	waitFor(t, 30*time.Second, func() bool { return x.srv.Waiting() > 0 }) // its refresh is at the sandbox
	if err := replicas[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = replicas[0].cmd.Wait()
	waitFor(t, 30*time.Second, func() bool { return x.srv.Waiting() == 0 }) // and ended there
	x.srv.SetLatency(0)
	replicas = []*replica{replicas[1], x.startReplica("c")}
	round("after a replica was killed mid-refresh")

	// The stored refresh token works: a refresh from another machine.
	stored, err := m.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := m.Refresh(ctx, stored, accounts.Explicit); err != nil || !r.Requested {
		t.Fatalf("refreshing with the stored refresh token: %v", err)
	}
	for _, r := range replicas {
		if l := r.log.String(); strings.Contains(l, "invalid_grant") || strings.Contains(l, "login_required") {
			t.Errorf("a replica met a rejected refresh token:\n%s", l)
		}
	}
}
