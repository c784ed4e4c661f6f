//go:build unix

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// The scale bars: what one account costs must not grow with the number of
// accounts. `keyfob token NAME` and `keyfob refresh NAME` with 50,000
// accounts within 1.5× of the same command with 10 (wall time and peak
// memory of the whole process); `keyfob list` with 50,000 within 2× of a
// minimal program that decodes the same records.

// Sizes of the scale bars.
const (
	scaleSmall = 10
	scaleBig   = 50000
)

// scaleStore fills dir with n accounts the way a fleet operator's store
// grows (tokens of real size; the account named target gets real tokens
// minted by srv, so that it can be refreshed), written as keyfob 2 kept
// them, in one accounts.json, then taken over by this keyfob as an
// upgrade would. It returns how long the take-over took.
func scaleStore(tb testing.TB, dir string, n int, srv *sandbox.Server, target string) time.Duration {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	ts := srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: 8 * time.Hour,
		Scopes: []string{"openid", "offline_access", "user_data", "vehicle_device_data", "vehicle_cmds"}})
	now := time.Now()
	accts := make([]accounts.Account, n)
	for i := range accts {
		name := fmt.Sprintf("car-%05d", i)
		a := accounts.Account{
			ID: fmt.Sprintf("%08x", i), Name: name, Email: fmt.Sprintf("owner%05d@example.com", i),
			Kind: accounts.KindFleet, Region: "na", ClientID: sandbox.FleetClientID,
			Endpoints: accounts.Endpoints{AuthURL: srv.Issuer() + "/authorize", TokenURL: srv.Issuer() + "/token",
				RevokeURL: srv.Issuer() + "/revoke", UserInfoURL: srv.Issuer() + "/userinfo"},
			Audience:    "https://fleet-api.prd.na.vn.cloud.tesla.com",
			AccessToken: ts.AccessToken, IDToken: ts.IDToken, Expiry: ts.Expiry, TokenType: "Bearer",
			RefreshToken:  fmt.Sprintf("NA_%060d", i),
			GrantedScopes: ts.Scopes, RequestedScopes: ts.Scopes, AccessObtainedAt: now, RefreshObtainedAt: now,
			CreatedAt: now, State: accounts.StateActive,
		}
		if name == target {
			a.RefreshToken = ts.RefreshToken
		}
		accts[i] = a
	}
	data, err := json.Marshal(map[string]any{"version": 2, "accounts": accts, "consumers": []any{}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, accounts.StoreFile), data, 0o600); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	m, err := accounts.Open("", accounts.Options{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	if got, err := m.List(context.Background()); err != nil || len(got) != n {
		tb.Fatalf("taking over %d accounts: %v (%d)", n, err, len(got))
	}
	return time.Since(start)
}

// procStat is what one run of a process cost: wall time and peak resident
// memory.
type procStat struct {
	wall time.Duration
	rss  int64 // bytes
}

// peakProgram runs a command and writes its peak resident memory (in
// kilobytes) to the file named first. It stands between the test and the
// command because a child started straight from the test inherits the
// test's own peak (Go starts children with vfork, and Linux counts the
// parent's pages until the exec), and the test holds a large store.
const peakProgram = `package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	c := exec.Command(os.Args[2], os.Args[3:]...)
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	err := c.Run()
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		_ = os.WriteFile(os.Args[1], []byte(fmt.Sprint(ru.Maxrss)), 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

// runStat runs cmd to completion through peak, the built peakProgram.
func runStat(tb testing.TB, peak string, cmd *exec.Cmd) procStat {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "maxrss")
	via := exec.Command(peak, append([]string{out}, cmd.Args...)...)
	via.Env = cmd.Env
	start := time.Now()
	text, err := via.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, text)
	}
	kb, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	var rss int64
	fmt.Sscan(string(kb), &rss)
	return procStat{wall: wall, rss: rss * 1024}
}

// medians runs each command runs times, in alternation so that all see the
// same machine, after a warm-up run each, and returns the median wall time
// and peak memory of each.
func medians(tb testing.TB, peak string, runs int, cmds ...func() *exec.Cmd) []procStat {
	tb.Helper()
	for _, c := range cmds {
		runStat(tb, peak, c())
	}
	walls := make([][]time.Duration, len(cmds))
	rsss := make([][]int64, len(cmds))
	for range runs {
		for i, c := range cmds {
			s := runStat(tb, peak, c())
			walls[i] = append(walls[i], s.wall)
			rsss[i] = append(rsss[i], s.rss)
		}
	}
	out := make([]procStat, len(cmds))
	for i := range cmds {
		slices.Sort(rsss[i])
		out[i] = procStat{wall: median(walls[i]), rss: rsss[i][len(rsss[i])/2]}
	}
	return out
}

// scaleEnv is the two stores of the scale bars and the binaries.
type scaleEnv struct {
	keyfob     string
	peak       string // peakProgram, built
	small, big string // keyfob directories
	smallName  string // the account asked for in each
	bigName    string
	migration  time.Duration // taking over the big store
}

func newScaleEnv(tb testing.TB) *scaleEnv {
	tb.Helper()
	srv := sandbox.NewTest(tb, sandbox.Options{})
	root := tb.TempDir()
	e := &scaleEnv{keyfob: keyfobtest.Binary(tb), peak: buildProgram(tb, "peak", peakProgram),
		small: filepath.Join(root, "small"), big: filepath.Join(root, "big"),
		smallName: fmt.Sprintf("car-%05d", scaleSmall/2), bigName: fmt.Sprintf("car-%05d", scaleBig/2)}
	scaleStore(tb, e.small, scaleSmall, srv, e.smallName)
	e.migration = scaleStore(tb, e.big, scaleBig, srv, e.bigName)
	return e
}

func (e *scaleEnv) cmd(dir string, args ...string) func() *exec.Cmd {
	return func() *exec.Cmd {
		c := exec.Command(e.keyfob, args...)
		c.Env = append(os.Environ(), "KEYFOB_CONFIG_DIR="+dir)
		return c
	}
}

// ratios of the big store's command to the small one's.
func ratios(s []procStat) (wall, rss float64) {
	return float64(s[1].wall) / float64(s[0].wall), float64(s[1].rss) / float64(s[0].rss)
}

// scaleBars measures the three scale bars, runs times each.
func scaleBars(tb testing.TB, e *scaleEnv, runs int) (token, refresh, list []procStat) {
	tb.Helper()
	token = medians(tb, e.peak, runs, e.cmd(e.small, "token", e.smallName), e.cmd(e.big, "token", e.bigName))
	refresh = medians(tb, e.peak, runs, e.cmd(e.small, "refresh", e.smallName), e.cmd(e.big, "refresh", e.bigName))
	minimal := buildMinimal(tb)
	list = medians(tb, e.peak, max(runs/3, 1), func() *exec.Cmd { return exec.Command(minimal, e.big) }, e.cmd(e.big, "list", "--json"))
	return token, refresh, list
}

// BenchmarkScale reports the three scale bars and the take-over of a
// 50,000-account store of keyfob 2.
func BenchmarkScale(b *testing.B) {
	e := newScaleEnv(b)
	b.ResetTimer()
	token, refresh, list := scaleBars(b, e, b.N)
	b.StopTimer()
	for _, r := range []struct {
		name string
		s    []procStat
	}{{"token", token}, {"refresh", refresh}, {"list", list}} {
		w, m := ratios(r.s)
		b.ReportMetric(float64(r.s[0].wall.Microseconds())/1000, r.name+"-small-ms")
		b.ReportMetric(float64(r.s[1].wall.Microseconds())/1000, r.name+"-big-ms")
		b.ReportMetric(w, r.name+"-wall-x")
		b.ReportMetric(float64(r.s[1].rss)/(1<<20), r.name+"-big-MB")
		b.ReportMetric(m, r.name+"-rss-x")
	}
	b.ReportMetric(e.migration.Seconds(), "migrate-50k-s")
}
