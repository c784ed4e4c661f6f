package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// Proof under stress: many processes at once while another one keeps
// writing the store. (Writers killed at random instants are in
// crash_test.go, a disk that refuses the write in recovery_test.go.)

// envInt reads a knob for the long-running tests (CI and people can turn
// them up; -short turns them down).
func envInt(name string, def, short int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return short
	}
	return def
}

// scratchID is the account the store writer changes: its name holds a
// counter.
const scratchID = "5c7a7c40"

// storeWriter is a second process that keeps incrementing a counter kept
// in the store (the scratch account's name, "scratch-N"), reading it and
// writing it back as one edit through its own Manager, until its stop
// file appears; it prints how many increments it made. A write of
// anyone's that was lost (another process writing what it read before)
// takes increments with it, so the counter ends below that number.
// Started as the test binary with KEYFOB_TEST_WRITER set (see TestMain).
func storeWriter(dir string) int {
	m, err := accounts.Open("", accounts.Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer m.Close()
	stop := filepath.Join(dir, "stop-writer")
	n := 0
	for {
		if _, err := os.Stat(stop); err == nil {
			fmt.Println(n)
			return 0
		}
		if _, _, err := m.Edit(context.Background(), scratchID, increment); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		n++
		time.Sleep(2 * time.Millisecond)
	}
}

// increment adds one to the scratch account's counter.
func increment(a *accounts.Account) error {
	k, err := scratchCount(a)
	if err != nil {
		return err
	}
	a.Name = fmt.Sprintf("scratch-%d", k+1)
	return nil
}

// scratchCount reads the counter of the scratch account.
func scratchCount(a *accounts.Account) (int, error) {
	k, err := strconv.Atoi(strings.TrimPrefix(a.Name, "scratch-"))
	if err != nil || !strings.HasPrefix(a.Name, "scratch-") {
		return 0, fmt.Errorf("the scratch account's name %q holds no counter", a.Name)
	}
	return k, nil
}

// storeWriterProcess is a running storeWriter.
type storeWriterProcess struct {
	cmd       *exec.Cmd
	dir       string
	out, errb bytes.Buffer
}

func startStoreWriter(t *testing.T, dir string) *storeWriterProcess {
	t.Helper()
	w := &storeWriterProcess{cmd: exec.Command(os.Args[0], "-test.run=^$"), dir: dir}
	w.cmd.Env = append(os.Environ(), "KEYFOB_TEST_WRITER="+dir)
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.errb
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.stop(nil) })
	return w
}

// stop ends the writer and returns how many increments it made. With a
// nil t (cleanup after a failure) it only makes sure the process is gone.
func (w *storeWriterProcess) stop(t *testing.T) int {
	if w.cmd.ProcessState != nil {
		return 0
	}
	os.WriteFile(filepath.Join(w.dir, "stop-writer"), nil, 0o600)
	err := w.cmd.Wait()
	if t == nil {
		return 0
	}
	t.Helper()
	writes, perr := strconv.Atoi(strings.TrimSpace(w.out.String()))
	if err != nil || perr != nil || writes == 0 {
		t.Fatalf("writer: %v, %q %s", err, w.out.String(), w.errb.String())
	}
	return writes
}

// TestStressTokensRefreshAllAndWriter runs, round after round, 50 `keyfob
// token` processes and a `keyfob refresh --all --min-valid` at once on
// accounts whose tokens just fell inside the margin, while another process
// keeps incrementing a counter in the store. It proves that the server sees
// exactly one refresh per account per round, that every printed token was
// valid when it was printed, that no refresh token is lost, and that no
// write of the other process is lost.
//
// The first round, on expired tokens, measures how long a round takes on
// this machine; the token lifetime and margin of the later rounds are sized
// from it, so that a slow machine makes the test longer, not flaky.
func TestStressTokensRefreshAllAndWriter(t *testing.T) {
	t.Parallel() // a long one: it runs beside the others (see TestMain)
	rounds := envInt("KEYFOB_STRESS_ROUNDS", 5, 3)
	const procs = 50
	e := newEnv(t, sandbox.Options{})
	names := []string{"car", "truck", "wall"}
	var seeded []accounts.Account
	for i, n := range names {
		seeded = append(seeded, e.minted(fmt.Sprintf("%08x", i+1), n, -time.Second))
	}
	e.seed(append(seeded, accounts.Account{ID: scratchID, Name: "scratch-0", Kind: accounts.KindCustom})...)
	writer := startStoreWriter(t, e.storeDir())
	keyfobtest.Binary(t) // built before the first round is timed

	took := checkedRound(t, e, 0, names, procs, time.Second)
	margin, ttl := stressLifetimes(took)
	e.srv.SetAccessTTL(ttl)
	e.mustRun("", "refresh", "--all") // tokens of the new lifetime
	for round := 1; round < rounds; round++ {
		// Each account needs exactly one refresh this round.
		for _, a := range e.store().Accounts {
			if a.ID != scratchID {
				time.Sleep(time.Until(a.Expiry.Add(-margin)))
			}
		}
		checkedRound(t, e, round, names, procs, margin)
	}

	writes := writer.stop(t)
	if k, err := scratchCount(e.store().Find(scratchID)); err != nil || k != writes {
		t.Fatalf("the writer incremented the counter %d times, the store holds %d (%v): writes were lost", writes, k, err)
	}
	for _, n := range names {
		if a := e.account(n); !e.srv.RefreshTokenLive(a.RefreshToken) {
			t.Fatalf("%s: the stored refresh token is dead: a rotated one was lost", n)
		}
	}
	if live := e.srv.LiveRefreshTokens(); live != len(names) {
		t.Fatalf("%d live refresh tokens at the server, %d in the store: one was lost", live, len(names))
	}
	t.Logf("%d rounds of %d token processes + refresh --all; the first took %v, so tokens lived %v with a %v margin; "+
		"the writer's %d increments all kept", rounds, procs, took.Round(time.Millisecond), ttl, margin, writes)
}

// stressLifetimes sizes the token lifetime and refresh margin of the
// rounds from how long one took: a token just refreshed stays outside the
// margin for 4 rounds and 2 s more (one refresh per account and round,
// however slow the machine), and the margin is a third of the lifetime
// (keyfob caps a margin at half).
func stressLifetimes(round time.Duration) (margin, ttl time.Duration) {
	outside := (4*round + 2*time.Second).Truncate(time.Second) + time.Second
	margin = max(time.Second, (outside / 2).Truncate(time.Second))
	return margin, outside + margin
}

// checkedRound runs one round and checks it: one refresh per account at
// the server, and every printed token valid when printed and the same for
// each account. It returns how long the round took.
func checkedRound(t *testing.T, e *env, round int, names []string, procs int, margin time.Duration) time.Duration {
	t.Helper()
	before := e.srv.Stats().Refreshes
	start := time.Now()
	got := stressRound(t, e, round, names, procs, margin)
	took := time.Since(start)
	if t.Failed() {
		t.FailNow()
	}
	if n := e.srv.Stats().Refreshes - before; n != len(names) {
		t.Fatalf("round %d: %d refreshes at the server, want one per account (%d)", round, n, len(names))
	}
	first := map[string]string{}
	for _, p := range got {
		info, ok := e.srv.AccessToken(p.token)
		if !ok || info.Revoked || !info.Expiry.After(p.at) {
			t.Fatalf("round %d: %s printed a token that was not valid when printed (%+v)", round, p.name, info)
		}
		if f, seen := first[p.name]; seen && f != p.token {
			t.Fatalf("round %d: %s printed two different tokens", round, p.name)
		}
		first[p.name] = p.token
	}
	t.Logf("round %d took %v", round, took)
	return took
}

// printed is a token a `keyfob token` process printed, and when.
type printed struct {
	name, token string
	at          time.Time
}

// stressRound runs procs `keyfob token` processes over names and one
// `keyfob refresh --all` at once, and returns what the token processes
// printed.
func stressRound(t *testing.T, e *env, round int, names []string, procs int, margin time.Duration) []printed {
	var mu sync.Mutex
	var got []printed
	var wg sync.WaitGroup
	for i := range procs + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == procs {
				r := e.runProcess("", nil, "refresh", "--all", "--min-valid", margin.String())
				if r.code != 0 {
					t.Errorf("round %d: refresh --all: exit %d %s", round, r.code, r.stderr)
				}
				return
			}
			name := names[i%len(names)]
			r := e.runProcess("", nil, "token", name, "--min-valid", margin.String())
			at := time.Now()
			if r.code != 0 {
				t.Errorf("round %d: token %s: exit %d %s", round, name, r.code, r.stderr)
				return
			}
			mu.Lock()
			got = append(got, printed{name, strings.TrimSpace(r.stdout), at})
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}
