package accounts_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts/etcdtest"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// TestEtcdTokenProcesses: ten machines (a keyfob directory each, one etcd
// store) call `keyfob token` in a loop for a minute ($KEYFOB_TEST_LOOP to
// change it) with tokens that live 5 s. The ten call together twice a
// second, so that each refresh (due when half a token's life is left,
// about every 2.5 s) is wanted by ten processes at once: every process
// prints a valid token, the server sees one refresh per half-life, and
// never a refresh token it already rotated.
func TestEtcdTokenProcesses(t *testing.T) {
	t.Parallel()
	const (
		ttl      = 5 * time.Second
		machines = 10
		every    = 500 * time.Millisecond
	)
	loop := time.Minute
	if d, err := time.ParseDuration(os.Getenv("KEYFOB_TEST_LOOP")); err == nil {
		loop = d
	}
	keyfobtest.Prebuild() // while the cluster starts
	// The members share two cores with the processes and with the rest of
	// the suite, and none is killed here: a late heartbeat must not make
	// them elect another leader.
	e := newEtcdEnvWith(t, 3, sandbox.Options{AccessTTL: ttl}, etcdtest.Options{Election: 5 * time.Second})
	a := e.minted(1, ttl)
	e.seed(a)
	bin := keyfobtest.Binary(t)
	// The cluster in this process runs under the race detector when the
	// tests do: requests get more than the default 5 s.
	args := []string{"--store", e.location(), "--store-key-file", e.keyFile, "--etcd-timeout", "30s", "token", a.Name}
	var (
		mu       sync.Mutex
		calls    int
		each     [machines]int // calls per machine
		failures []string
		seen     = map[string]bool{}
	)
	start := time.Now()
	deadline := start.Add(loop)
	var wg sync.WaitGroup
	for i := range machines {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("machine-%d", i))
		env := keyfobtest.HomeIn(dir).Env("KEYFOB_CONFIG_DIR=" + filepath.Join(dir, "keyfob"))
		wg.Go(func() {
			for next := start; ; {
				// The next tick, skipping those a slow call ran past.
				for !next.After(time.Now()) {
					next = next.Add(every)
				}
				if next.After(deadline) {
					return
				}
				time.Sleep(time.Until(next))
				cmd := exec.Command(bin, args...)
				cmd.Env = env
				var errb strings.Builder
				cmd.Stderr = &errb
				// The token is checked against when it was printed, not
				// when the process was reaped: on a busy machine the
				// latter can come after a 5-second token's end.
				tok, at, err := printedLine(cmd)
				mu.Lock()
				calls++
				each[i]++
				if err != nil || tok == "" {
					failures = append(failures, fmt.Sprintf("%v: %s", err, errb.String()))
				} else if info, ok := e.srv.AccessToken(tok); !ok {
					failures = append(failures, "a token the server never issued was printed")
				} else if !info.Expiry.After(at) {
					failures = append(failures, fmt.Sprintf("a token %v past its expiry was printed", at.Sub(info.Expiry)))
				}
				seen[tok] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d calls failed; first: %s", len(failures), calls, failures[0])
	}
	// Every machine kept calling: at least once in each token's life.
	for i, n := range each {
		if want := int(loop / ttl); n < want {
			t.Fatalf("machine %d called %d times in %v, want at least %d: it did not keep calling", i, n, loop, want)
		}
	}
	refreshes := e.srv.Stats().Refreshes
	// One refresh per half-life at most, and a little slack for the start
	// and the end; a second refresh of one expiry would replace a token
	// nobody printed.
	if most := int(loop/(ttl/2)) + 2; refreshes > most || refreshes < 2 {
		t.Fatalf("%d refreshes in %v of %v tokens, want at most %d", refreshes, loop, ttl, most)
	}
	if len(seen) < refreshes-1 {
		t.Errorf("%d refreshes but only %d tokens printed: some refreshes were wasted", refreshes, len(seen))
	}
	stored := e.load().Find(a.ID)
	if pos, ok := e.srv.RefreshTokenPosition(stored.RefreshToken); !ok || pos != 0 {
		t.Fatalf("the stored refresh token is not the newest (position %d, live %v)", pos, ok)
	}
	t.Logf("%d keyfob token processes in %v, %d refreshes, %d distinct tokens", calls, loop, refreshes, len(seen))
}

// printedLine runs cmd and returns the first line it printed, trimmed,
// and when it was read.
func printedLine(cmd *exec.Cmd) (string, time.Time, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", time.Time{}, err
	}
	if err := cmd.Start(); err != nil {
		return "", time.Time{}, err
	}
	r := bufio.NewReader(out)
	line, _ := r.ReadString('\n')
	at := time.Now()
	_, _ = io.Copy(io.Discard, r)
	return strings.TrimSpace(line), at, cmd.Wait()
}
