package cli

import (
	"bytes"
	"context"
	"errors"
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
