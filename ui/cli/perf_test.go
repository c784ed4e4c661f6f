package cli

import (
	"context"
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

// The speed bars that concern whole processes. Run them with
//
//	go test -run '^$' -bench . -benchtime 20x ./ui/cli
//
// (the UI's bars are benchmarks in ./ui).

// bigStore fills a fresh keyfob directory with n fleet accounts whose
// tokens were minted by a sandbox, like a fleet operator's store.
func bigStore(tb testing.TB, n int, ttl time.Duration) (dir string, srv *sandbox.Server) {
	tb.Helper()
	dir = filepath.Join(tb.TempDir(), "keyfob")
	return dir, fillStore(tb, dir, n, ttl)
}

// fillStore puts n accounts like bigStore's in the store in dir.
func fillStore(tb testing.TB, dir string, n int, ttl time.Duration) (srv *sandbox.Server) {
	tb.Helper()
	srv = sandbox.NewTest(tb, sandbox.Options{})
	accts := make([]accounts.Account, n)
	now := time.Now()
	for i := range accts {
		ts := srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: ttl,
			Scopes: []string{"openid", "offline_access", "user_data", "vehicle_device_data", "vehicle_cmds"}})
		accts[i] = accounts.Account{
			ID: fmt.Sprintf("%08x", i), Name: fmt.Sprintf("car-%04d", i), Email: fmt.Sprintf("owner%04d@example.com", i),
			Kind: accounts.KindFleet, Region: "na", ClientID: sandbox.FleetClientID,
			Endpoints: accounts.Endpoints{AuthURL: srv.Issuer() + "/authorize", TokenURL: srv.Issuer() + "/token",
				RevokeURL: srv.Issuer() + "/revoke", UserInfoURL: srv.Issuer() + "/userinfo"},
			Audience:    "https://fleet-api.prd.na.vn.cloud.tesla.com",
			AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, IDToken: ts.IDToken, Expiry: ts.Expiry,
			GrantedScopes: ts.Scopes, RequestedScopes: ts.Scopes, AccessObtainedAt: now, RefreshObtainedAt: now,
			CreatedAt: now, State: accounts.StateActive, TokenType: "Bearer",
		}
	}
	m, err := accounts.Open("", accounts.Options{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Put(context.Background(), accts...); err != nil {
		tb.Fatal(err)
	}
	return srv
}

// minimalProgram is the yardstick of the token and list bars: read every
// record of the store in DIR, decode each into the same types, and print
// the access token of the account NAME, or, without NAME, every account's
// name and expiry. Nothing else: no index, no checks, no locks.
const minimalProgram = `package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyfob/keyfob/accounts"
)

func main() {
	dir := filepath.Join(os.Args[1], "records")
	want := ""
	if len(os.Args) > 2 {
		want = os.Args[2]
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			panic(err)
		}
		var r struct {
			Version  int              ` + "`json:\"version\"`" + `
			Revision int64            ` + "`json:\"revision\"`" + `
			Account  accounts.Account ` + "`json:\"account\"`" + `
		}
		if err := json.Unmarshal(data, &r); err != nil {
			panic(err)
		}
		switch {
		case want == "":
			fmt.Println(r.Account.Name, r.Account.Expiry)
		case r.Account.Name == want:
			fmt.Println(r.Account.AccessToken)
		}
	}
}
`

// moduleRoot is the directory of keyfob's go.mod.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		tb.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// buildMinimal compiles minimalProgram against this module.
func buildMinimal(tb testing.TB) string { return buildProgram(tb, "minimal", minimalProgram) }

// buildProgram compiles a one-file program against this module.
func buildProgram(tb testing.TB, name, source string) string {
	tb.Helper()
	wd := moduleRoot(tb)
	dir := tb.TempDir()
	sum, err := os.ReadFile(filepath.Join(wd, "go.sum"))
	if err != nil {
		tb.Fatal(err)
	}
	gomod := fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire github.com/keyfob/keyfob v0.0.0\n\nreplace github.com/keyfob/keyfob => %s\n", name, wd)
	for file, body := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(source)} {
		if err := os.WriteFile(filepath.Join(dir, file), body, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-mod=mod", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the %s program: %v\n%s", name, err, out)
	}
	return bin
}

// timeRun runs a command to completion and returns its wall time.
func timeRun(tb testing.TB, cmd *exec.Cmd) time.Duration {
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	if err != nil || len(out) == 0 {
		tb.Fatalf("%s: %v %q", cmd.Path, err, out)
	}
	return d
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkTokenVsMinimal runs `keyfob token` on a fresh token in a
// 1,000-account store, the minimal program on the same store and `keyfob
// version`, b.N times each, and reports the medians and the ratios of the
// token command to the minimal program (the bar: ≤ 1.5) and to the
// binary's own start.
func BenchmarkTokenVsMinimal(b *testing.B) {
	k, m, st := tokenVsMinimal(b, b.N)
	b.ReportMetric(float64(k.Microseconds())/1000, "keyfob-ms")
	b.ReportMetric(float64(m.Microseconds())/1000, "minimal-ms")
	b.ReportMetric(float64(st.Microseconds())/1000, "start-ms")
	b.ReportMetric(float64(k)/float64(m), "ratio")
	b.ReportMetric(float64(k)/float64(st), "over-start")
}

// tokenVsMinimal runs `keyfob token` on a fresh token in a 1,000-account
// store, the minimal program on the same store, and `keyfob version` (the
// binary's own start, which every command pays), runs times each in
// alternation so that all see the same machine, and returns the median
// wall time of each.
func tokenVsMinimal(tb testing.TB, runs int) (keyfob, minimal, start time.Duration) {
	dir, _ := bigStore(tb, 1000, 8*time.Hour)
	minimalBin := buildMinimal(tb)
	env := append(os.Environ(), "KEYFOB_CONFIG_DIR="+dir)
	keyfobBin := keyfobtest.Binary(tb)
	run := func(args ...string) func() *exec.Cmd {
		return func() *exec.Cmd {
			c := exec.Command(keyfobBin, args...)
			c.Env = env
			return c
		}
	}
	cmds := []func() *exec.Cmd{run("token", "car-0500"), func() *exec.Cmd { return exec.Command(minimalBin, dir, "car-0500") }, run("version")}
	// Warm the page cache and the binaries.
	for range 3 {
		for _, c := range cmds {
			timeRun(tb, c())
		}
	}
	if b, ok := tb.(*testing.B); ok {
		b.ResetTimer()
		defer b.StopTimer()
	}
	times := make([][]time.Duration, len(cmds))
	for range runs {
		for i, c := range cmds {
			times[i] = append(times[i], timeRun(tb, c()))
		}
	}
	return median(times[0]), median(times[1]), median(times[2])
}

// refreshAll is the refresh --all bar's set-up: 200 accounts, 50 ms of
// server latency, concurrency 8; ideal is 200 ÷ 8 × 50 ms.
const (
	refreshAllAccounts    = 200
	refreshAllConcurrency = 8
	refreshAllLatency     = 50 * time.Millisecond
	refreshAllIdeal       = refreshAllAccounts / refreshAllConcurrency * refreshAllLatency
)

// BenchmarkRefreshAll refreshes 200 accounts at 50 ms of server latency with
// the default concurrency and reports the wall time against the ideal
// (200 ÷ 8 × 50 ms = 1.25 s; the bar: ≤ 1.3×).
func BenchmarkRefreshAll(b *testing.B) {
	var walls []time.Duration
	for range b.N {
		walls = append(walls, refreshAllWall(b))
	}
	w := median(walls)
	b.ReportMetric(float64(w.Milliseconds()), "wall-ms")
	b.ReportMetric(float64(w)/float64(refreshAllIdeal), "x-ideal")
}

// refreshAllWall times one `keyfob refresh --all` of the bar's set-up and
// checks that every account was refreshed once.
func refreshAllWall(tb testing.TB) time.Duration {
	keyfobBin := keyfobtest.Binary(tb)
	b, isBench := tb.(*testing.B)
	if isBench {
		b.StopTimer()
	}
	dir, srv := bigStore(tb, refreshAllAccounts, 8*time.Hour)
	srv.SetLatency(refreshAllLatency)
	c := exec.Command(keyfobBin, "refresh", "--all", "--concurrency", fmt.Sprint(refreshAllConcurrency))
	c.Env = append(os.Environ(), "KEYFOB_CONFIG_DIR="+dir)
	if isBench {
		b.StartTimer()
	}
	start := time.Now()
	out, err := c.CombinedOutput()
	wall := time.Since(start)
	if err != nil || strings.Count(string(out), "✓") != refreshAllAccounts {
		tb.Fatalf("refresh --all: %v\n%s", err, out)
	}
	if got := srv.Stats().Refreshes; got != refreshAllAccounts {
		tb.Fatalf("%d refreshes at the server, want %d", got, refreshAllAccounts)
	}
	return wall
}
