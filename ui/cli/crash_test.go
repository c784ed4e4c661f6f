package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// TestCrashSafetySIGKILL kills keyfob writers with SIGKILL at random
// instants. After every kill the store parses, holds every account, and
// each stored refresh token is the server's newest for its grant or the one
// just before it (the rotation the killed process had not saved yet); after
// a writer that finished before its kill, every one is the newest. At the
// end, with the server's grace for rotated-out tokens turned off, every
// stored refresh token still works. The writers refresh every account
// (group-committed writes) or add an account.
func TestCrashSafetySIGKILL(t *testing.T) {
	t.Parallel() // beside the other tests, which mostly wait
	kills := envInt("KEYFOB_CRASH_KILLS", 500, 100)
	// A grace period like Tesla's (the previous refresh token works for a
	// while), so that a refresh whose result died with its process does not
	// lock the account out for the next round.
	e := newEnv(t, sandbox.Options{RefreshGrace: time.Hour})
	const n = 20
	var accts []accounts.Account
	for i := range n {
		accts = append(accts, e.minted(fmt.Sprintf("%08x", i+1), fmt.Sprintf("car%02d", i), time.Hour))
	}
	e.seed(accts...)
	bin := keyfobtest.Binary(t)
	e.mustRun("", "refresh", "--all", "--concurrency", "4")
	accts = e.store().Accounts
	rng := rand.New(rand.NewPCG(1, 2))
	w := newRotationWatch(e, accts)
	sent, killedRunning, finished := 0, 0, 0
	for i := 0; sent < kills; i++ {
		cmd, refreshes := crashWriter(e, bin, i)
		w.before()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var killed bool
		if i%10 == 7 {
			// Every tenth writer finishes: then every token must be the newest.
			if err := cmd.Wait(); err != nil {
				t.Fatalf("writer %d (%v) failed: %v\n%s", i, cmd.Args[1:], err, cmd.Stderr)
			}
		} else {
			time.Sleep(time.Duration(rng.IntN(25_000)) * time.Microsecond)
			killed = killAndWait(t, cmd, i)
			sent++
		}
		if killed {
			killedRunning++
		} else if refreshes {
			finished++
		}
		w.check(t, fmt.Sprintf("after kill %d", i), refreshes && !killed)
	}
	if killedRunning < kills/2 || finished == 0 {
		t.Fatalf("%d of %d writers were still running when killed and %d refreshes finished first: the kills prove little",
			killedRunning, kills, finished)
	}
	// Every account refreshes from what the store holds; then only the
	// newest token of each grant works, and the store must hold it.
	e.mustRun("", "refresh", "--all")
	e.srv.SetRefreshGrace(0)
	w.check(t, "after the last refresh --all", true)
	for _, a := range accts {
		if rt := w.last[a.ID]; !e.srv.RefreshTokenLive(rt) {
			t.Errorf("%s: the stored refresh token is dead without the grace: a rotation was lost", a.Name)
		}
	}
	checkNoTemporaries(t, e)
	t.Logf("%d SIGKILLs (%d mid-run), and %d refresh --all let finish; after each writer the store parsed, held all %d accounts, "+
		"and each refresh token was the newest or the one before; all %d live without the grace at the end",
		sent, killedRunning, finished, n, n)
}

// crashWriter is the i-th writer to kill: refresh --all, or every fifth
// time a login that adds an account. refreshes says which.
func crashWriter(e *env, bin string, i int) (cmd *exec.Cmd, refreshes bool) {
	cmd = exec.Command(bin, "refresh", "--all", "--concurrency", "4")
	refreshes = i%5 != 4
	if !refreshes {
		cmd = exec.Command(bin, "login", "--kind", "partner", "--issuer", e.srv.URL(),
			"--client-id", sandbox.PartnerClientID, "--name", fmt.Sprintf("p%d", i))
	}
	cmd.Env = e.environ(EnvClientSecret + "=" + sandbox.PartnerSecret)
	var errb strings.Builder
	cmd.Stderr = &errb
	return cmd, refreshes
}

// killAndWait sends SIGKILL to cmd and reaps it. It reports whether the
// kill ended it; a writer that ended on its own must have succeeded.
func killAndWait(t *testing.T, cmd *exec.Cmd, i int) (killed bool) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
		return true
	}
	t.Fatalf("writer %d (%v) failed on its own: %v\n%s", i, cmd.Args[1:], err, cmd.Stderr)
	return false
}

// rotationWatch compares the refresh tokens in the store with the
// server's rotation history of each account's grant.
type rotationWatch struct {
	e     *env
	accts []accounts.Account
	last  map[string]string // id → the refresh token stored at the last check
	// behind is, per id, how many rotations the server had made past the
	// stored token when the writer started: a writer killed after its
	// request but before its save leaves the store one further behind, and
	// the next writer refreshes from that token again.
	behind map[string]int
}

func newRotationWatch(e *env, accts []accounts.Account) *rotationWatch {
	w := &rotationWatch{e: e, accts: accts, last: map[string]string{}, behind: map[string]int{}}
	for _, a := range accts {
		w.last[a.ID] = a.RefreshToken
	}
	return w
}

// before notes where the stored tokens stand just before a writer starts.
// It first lets the sandbox answer any request a killed writer sent just
// before dying, so that its rotation is not taken for the next writer's.
func (w *rotationWatch) before() {
	time.Sleep(5 * time.Millisecond)
	for id, rt := range w.last {
		w.behind[id] = w.position(rt)
	}
}

func (w *rotationWatch) position(rt string) int {
	pos, ok := w.e.srv.RefreshTokenPosition(rt)
	if !ok {
		w.e.t.Fatalf("the store holds a refresh token the server never issued")
	}
	return pos
}

// check loads the store and fails the test unless it holds every account
// and each refresh token is the newest of its grant (when newest: the
// writer finished) or the one just before it, never older than the token
// stored at the last check.
func (w *rotationWatch) check(t *testing.T, when string, newest bool) {
	t.Helper()
	m, err := accounts.Open("", accounts.Options{Dir: w.e.storeDir()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Snapshot(context.Background())
	_ = m.Close()
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	for _, a := range w.accts {
		got := f.Find(a.ID)
		if got == nil {
			t.Fatalf("%s: account %s is gone", when, a.Name)
		}
		pos, was := w.position(got.RefreshToken), w.position(w.last[a.ID])
		allowed := 1 // the rotation the killed writer had not saved yet
		if got.RefreshToken == w.last[a.ID] {
			allowed += w.behind[a.ID]
		}
		switch {
		case pos > was:
			t.Fatalf("%s: %s went back to an older refresh token (%d rotations behind, was %d)", when, a.Name, pos, was)
		case newest && pos != 0:
			t.Fatalf("%s: the writer finished, but %s holds a refresh token %d rotations behind the newest", when, a.Name, pos)
		case pos > allowed:
			t.Fatalf("%s: %s holds a refresh token %d rotations behind the newest; at most %d allowed", when, a.Name, pos, allowed)
		}
		w.last[a.ID] = got.RefreshToken
	}
}

// checkNoTemporaries fails when temporary store files (".NAME…", beside
// the file they were to replace) were left behind: lock files are the
// only dot files a store keeps.
func checkNoTemporaries(t *testing.T, e *env) {
	t.Helper()
	_ = filepath.WalkDir(e.storeDir(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && path != e.storeDir() && strings.HasPrefix(d.Name(), ".") && !strings.HasSuffix(d.Name(), ".lock") {
			t.Errorf("leftover temporary file %s", path)
		}
		return nil
	})
}
