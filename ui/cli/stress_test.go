package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/oauthtest"
)

// Proof under stress: many processes at once, writers killed at random
// instants, a disk that refuses the write. Each test says what it proves.

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

// storeWriter is a second process that keeps writing the store (renaming
// a scratch account) until its stop file appears; it prints how many
// writes it made. Started as the test binary with KEYFOB_TEST_WRITER set
// (see TestMain).
func storeWriter(dir string) int {
	s := accounts.Open(dir)
	stop := filepath.Join(dir, "stop-writer")
	n := 0
	for {
		if _, err := os.Stat(stop); err == nil {
			fmt.Println(n)
			return 0
		}
		err := s.Update(context.Background(), func(f *accounts.File) error {
			a := f.Find("5c7a7c40")
			if a == nil {
				return errors.New("the scratch account is gone")
			}
			a.Name = fmt.Sprintf("scratch-%d", n+1)
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		n++
		time.Sleep(2 * time.Millisecond)
	}
}

// TestStressTokensRefreshAllAndWriter runs, round after round, 50 `keyfob
// token` processes and a `keyfob refresh --all --min-valid` at once on
// accounts whose tokens just fell inside the margin, while another process
// keeps writing the store. It proves that the server sees exactly one
// refresh per account per round, that every printed token was valid when it
// was printed, and that no refresh token is lost.
func TestStressTokensRefreshAllAndWriter(t *testing.T) {
	rounds := envInt("KEYFOB_STRESS_ROUNDS", 8, 3)
	// A fresh token is inside the margin after about 3 s (expiry times are
	// whole seconds), far longer than a round of 51 processes takes.
	const procs, margin = 50, time.Second
	e := newEnv(t, oauthtest.Options{AccessTTL: 5 * time.Second})
	names := []string{"car", "truck", "wall"}
	var seeded []accounts.Account
	for i, n := range names {
		seeded = append(seeded, e.minted(fmt.Sprintf("%08x", i+1), n, -time.Second))
	}
	seeded = append(seeded, accounts.Account{ID: "5c7a7c40", Name: "scratch-0", Kind: accounts.KindCustom})
	e.seed(seeded...)

	writer := exec.Command(os.Args[0], "-test.run=^$")
	writer.Env = append(os.Environ(), "KEYFOB_TEST_WRITER="+e.storeDir())
	var wout, werr bytes.Buffer
	writer.Stdout, writer.Stderr = &wout, &werr
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}

	for round := range rounds {
		// Wait until every token is inside the margin, so that each account
		// needs exactly one refresh this round.
		for _, a := range e.store().Accounts {
			if a.ID != "5c7a7c40" {
				time.Sleep(time.Until(a.Expiry.Add(-margin)))
			}
		}
		before := e.srv.Stats().Refreshes
		roundStart := time.Now()
		got := stressRound(t, e, round, names, procs, margin)
		if t.Failed() {
			break
		}
		t.Logf("round %d took %v", round, time.Since(roundStart))
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
	}

	os.WriteFile(filepath.Join(e.storeDir(), "stop-writer"), nil, 0o600)
	if err := writer.Wait(); err != nil {
		t.Fatalf("writer: %v %s", err, werr.String())
	}
	writes, _ := strconv.Atoi(strings.TrimSpace(wout.String()))
	f := e.store()
	if a := f.Find("5c7a7c40"); writes == 0 || a == nil || a.Name != fmt.Sprintf("scratch-%d", writes) {
		t.Fatalf("the writer made %d writes but the store holds %+v", writes, a)
	}
	for _, n := range names {
		a := e.account(n)
		if !e.srv.RefreshTokenLive(a.RefreshToken) {
			t.Fatalf("%s: the stored refresh token is dead: a rotated one was lost", n)
		}
	}
	if live := e.srv.LiveRefreshTokens(); live != len(names) {
		t.Fatalf("%d live refresh tokens at the server, %d in the store: one was lost", live, len(names))
	}
	t.Logf("%d rounds of %d token processes + refresh --all; the writer made %d writes", rounds, procs, writes)
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

// TestCrashSafetySIGKILL kills keyfob writers with SIGKILL at random
// instants and checks after every kill that the store parses and holds
// every account. The writers refresh every account (group-committed
// writes) or add and remove an account.
func TestCrashSafetySIGKILL(t *testing.T) {
	kills := envInt("KEYFOB_CRASH_KILLS", 500, 100)
	// A grace period like Tesla's (the previous refresh token works for a
	// while), so that a refresh whose result died with its process does not
	// lock the account out for the next round.
	e := newEnv(t, oauthtest.Options{RefreshGrace: time.Hour})
	const n = 20
	var accts []accounts.Account
	for i := range n {
		accts = append(accts, e.minted(fmt.Sprintf("%08x", i+1), fmt.Sprintf("car%02d", i), time.Hour))
	}
	e.seed(accts...)
	bin := keyfobBinary(t)
	rng := rand.New(rand.NewPCG(1, 2))
	killedRunning := 0
	for i := range kills {
		cmd := exec.Command(bin, "refresh", "--all", "--concurrency", "4")
		if i%5 == 4 {
			// Exercise other writes too: a login that is added.
			cmd = exec.Command(bin, "login", "--kind", "partner", "--issuer", e.srv.URL(),
				"--client-id", oauthtest.PartnerClientID, "--name", fmt.Sprintf("p%d", i))
		}
		cmd.Env = e.environ("KEYFOB_CLIENT_SECRET=" + oauthtest.PartnerSecret)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(25_000)) * time.Microsecond)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			if err := cmd.Wait(); err != nil {
				killedRunning++
			}
		}
		f, err := accounts.Open(e.storeDir()).Load()
		if err != nil {
			t.Fatalf("after kill %d: %v", i, err)
		}
		for _, a := range accts {
			if f.Find(a.ID) == nil {
				t.Fatalf("after kill %d: account %s is gone", i, a.Name)
			}
		}
	}
	if killedRunning < kills/2 {
		t.Fatalf("only %d of %d writers were still running when killed: the kills prove little", killedRunning, kills)
	}
	// The store still works, and no temporary files pile up.
	e.mustRun("", "refresh", "--all")
	entries, _ := os.ReadDir(e.storeDir())
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), "."+accounts.StoreFile) && en.Name() != "."+accounts.StoreFile {
			t.Errorf("leftover temporary file %s", en.Name())
		}
	}
	t.Logf("%d SIGKILLs (%d mid-run); the store parsed and held all %d accounts after each", kills, killedRunning, n)
}

// unwritable makes dir refuse writes for the rest of the test: a full
// tmpfs (as root), or no write permission (as anyone else). It reports
// what it did, or skips the test when neither is possible here.
func unwritable(t *testing.T, dir, how string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if how == "full" {
			t.Skip("filling a disk needs a tmpfs mount, which needs root")
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return "read-only directory (mode 0500)"
	}
	// Move the store onto a small tmpfs of its own.
	saved := t.TempDir()
	if out, err := exec.Command("cp", "-a", dir+"/.", saved).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	if out, err := exec.Command("cp", "-a", saved+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if how == "full" {
		filler, _ := os.Create(filepath.Join(dir, "filler"))
		buf := make([]byte, 64<<10)
		for {
			if _, err := filler.Write(buf); err != nil {
				break
			}
		}
		filler.Close()
		t.Cleanup(func() { os.Remove(filepath.Join(dir, "filler")) })
		return "full disk (tmpfs)"
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	return "read-only file system (tmpfs)"
}

// TestUnsavableRotationGoesToRecovery refreshes an account when the store
// cannot be written: the rotated refresh token goes to a recovery file,
// the user is told, and the next keyfob run uses it and merges it back.
func TestUnsavableRotationGoesToRecovery(t *testing.T) {
	for _, how := range []string{"full", "read-only"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, oauthtest.Options{})
			home := e.isolateHome() // where the recovery file goes when the store's directory is read-only
			e.seed(e.minted("a0000001", "car", -time.Minute), e.minted("a0000002", "spare", time.Hour))
			e.mustRun("", "refresh", "spare") // the lock files exist from now on
			old := e.account("car")
			// The store stops taking writes while the refresh request is
			// at the server, after keyfob took its locks.
			e.srv.SetLatency(time.Second)
			done := make(chan result, 1)
			go func() { done <- e.run("", "token", "car") }()
			time.Sleep(300 * time.Millisecond)
			what := unwritable(t, e.storeDir(), how)
			r := <-done
			e.srv.SetLatency(0)
			if r.code != 1 || !strings.Contains(r.stderr, "could not be saved") || !strings.Contains(r.stderr, "recovery") {
				t.Fatalf("%s: exit %d, stderr %s", what, r.code, r.stderr)
			}
			if strings.Contains(r.stderr, old.RefreshToken) {
				t.Fatal("the error shows a token")
			}
			if e.srv.RefreshTokenLive(old.RefreshToken) {
				t.Fatal("the server did not rotate the token")
			}
			// The recovered token is used at once, without another refresh.
			refreshes := e.srv.Stats().Refreshes
			r = e.mustRun("", "token", "car")
			if e.srv.Stats().Refreshes != refreshes {
				t.Fatal("keyfob refreshed again instead of using the recovered token")
			}
			if info, ok := e.srv.AccessToken(strings.TrimSpace(r.stdout)); !ok || info.Revoked {
				t.Fatal("the token printed after recovery is not a live one")
			}
			// Once the store is writable again, the next write merges it back.
			if how == "full" {
				os.Remove(filepath.Join(e.storeDir(), "filler"))
			} else if os.Geteuid() == 0 {
				exec.Command("mount", "-o", "remount,rw", e.storeDir()).Run()
			} else {
				os.Chmod(e.storeDir(), 0o700)
			}
			e.mustRun("", "refresh", "spare")
			raw, _ := os.ReadFile(filepath.Join(e.storeDir(), accounts.StoreFile))
			a := e.account("car")
			if !bytes.Contains(raw, []byte(a.RefreshToken)) || !e.srv.RefreshTokenLive(a.RefreshToken) {
				t.Fatal("the recovered refresh token did not make it back into the store")
			}
			leftovers, _ := filepath.Glob(filepath.Join(home, ".state", "keyfob", "*"+accounts.RecoveryFile))
			for _, p := range append(leftovers, filepath.Join(e.storeDir(), accounts.RecoveryFile)) {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("recovery file %s is still there after the merge", p)
				}
			}
		})
	}
}
