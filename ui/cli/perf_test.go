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
	"github.com/keyfob/keyfob/oauth/oauthtest"
)

// The speed bars that concern whole processes. Run them with
//
//	go test -run '^$' -bench . -benchtime 20x ./ui/cli
//
// (the UI's bars are benchmarks in ./ui).

// bigStore fills a fresh keyfob directory with n fleet accounts whose
// tokens were minted by a sandbox, like a fleet operator's store.
func bigStore(tb testing.TB, n int, ttl time.Duration) (dir string, srv *oauthtest.Server) {
	tb.Helper()
	srv = oauthtest.NewTest(tb, oauthtest.Options{})
	dir = filepath.Join(tb.TempDir(), "keyfob")
	accts := make([]accounts.Account, n)
	now := time.Now()
	for i := range accts {
		ts := srv.Mint(oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: ttl,
			Scopes: []string{"openid", "offline_access", "user_data", "vehicle_device_data", "vehicle_cmds"}})
		accts[i] = accounts.Account{
			ID: fmt.Sprintf("%08x", i), Name: fmt.Sprintf("car-%04d", i), Email: fmt.Sprintf("owner%04d@example.com", i),
			Kind: accounts.KindFleet, Region: "na", ClientID: oauthtest.FleetClientID,
			Endpoints: accounts.Endpoints{AuthURL: srv.Issuer() + "/authorize", TokenURL: srv.Issuer() + "/token",
				RevokeURL: srv.Issuer() + "/revoke", UserInfoURL: srv.Issuer() + "/userinfo"},
			Audience:    "https://fleet-api.prd.na.vn.cloud.tesla.com",
			AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, IDToken: ts.IDToken, Expiry: ts.Expiry,
			GrantedScopes: ts.Scopes, RequestedScopes: ts.Scopes, AccessObtainedAt: now, RefreshObtainedAt: now,
			CreatedAt: now, State: accounts.StateActive, TokenType: "Bearer",
		}
	}
	err := accounts.Open(dir).Update(context.Background(), func(f *accounts.File) error {
		f.Accounts = accts
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dir, srv
}

// minimalProgram is the yardstick of the token bar: read the store, decode
// it into the same types, print one token. Nothing else.
const minimalProgram = `package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/keyfob/keyfob/accounts"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var f accounts.File
	if err := json.Unmarshal(data, &f); err != nil {
		panic(err)
	}
	for _, a := range f.Accounts {
		if a.Name == os.Args[2] {
			fmt.Println(a.AccessToken)
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
func buildMinimal(tb testing.TB) string {
	tb.Helper()
	wd := moduleRoot(tb)
	dir := tb.TempDir()
	sum, err := os.ReadFile(filepath.Join(wd, "go.sum"))
	if err != nil {
		tb.Fatal(err)
	}
	gomod := fmt.Sprintf("module minimal\n\ngo 1.26\n\nrequire github.com/keyfob/keyfob v0.0.0\n\nreplace github.com/keyfob/keyfob => %s\n", wd)
	for name, body := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(minimalProgram)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "minimal")
	cmd := exec.Command("go", "build", "-mod=mod", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the minimal program: %v\n%s", err, out)
	}
	return bin
}

// timeRun runs a command to completion and returns its wall time.
func timeRun(tb testing.TB, cmd *exec.Cmd) time.Duration {
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	if err != nil || len(out) < 100 {
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
// 1,000-account store and the minimal program on the same file, in
// alternation so that both see the same machine, and reports both medians
// and their ratio (the bar: ≤ 1.5).
func BenchmarkTokenVsMinimal(b *testing.B) {
	dir, _ := bigStore(b, 1000, 8*time.Hour)
	minimal := buildMinimal(b)
	store := filepath.Join(dir, accounts.StoreFile)
	env := append(os.Environ(), "KEYFOB_CONFIG_DIR="+dir)
	keyfobBin := keyfobBinary(b)
	var kf, mn []time.Duration
	// Warm the page cache and both binaries.
	for range 3 {
		c := exec.Command(keyfobBin, "token", "car-0500")
		c.Env = env
		timeRun(b, c)
		timeRun(b, exec.Command(minimal, store, "car-0500"))
	}
	b.ResetTimer()
	for range b.N {
		c := exec.Command(keyfobBin, "token", "car-0500")
		c.Env = env
		kf = append(kf, timeRun(b, c))
		mn = append(mn, timeRun(b, exec.Command(minimal, store, "car-0500")))
	}
	b.StopTimer()
	k, m := median(kf), median(mn)
	b.ReportMetric(float64(k.Microseconds())/1000, "keyfob-ms")
	b.ReportMetric(float64(m.Microseconds())/1000, "minimal-ms")
	b.ReportMetric(float64(k)/float64(m), "ratio")
}

// BenchmarkRefreshAll refreshes 200 accounts at 50 ms of server latency with
// the default concurrency and reports the wall time against the ideal
// (200 ÷ 8 × 50 ms = 1.25 s; the bar: ≤ 1.3×).
func BenchmarkRefreshAll(b *testing.B) {
	const n, concurrency, latency = 200, 8, 50 * time.Millisecond
	ideal := time.Duration(n/concurrency) * latency
	keyfobBin := keyfobBinary(b)
	var walls []time.Duration
	for range b.N {
		b.StopTimer()
		dir, srv := bigStore(b, n, 8*time.Hour)
		srv.SetLatency(latency)
		c := exec.Command(keyfobBin, "refresh", "--all", "--concurrency", fmt.Sprint(concurrency))
		c.Env = append(os.Environ(), "KEYFOB_CONFIG_DIR="+dir)
		b.StartTimer()
		start := time.Now()
		out, err := c.CombinedOutput()
		walls = append(walls, time.Since(start))
		if err != nil || strings.Count(string(out), "✓") != n {
			b.Fatalf("refresh --all: %v\n%s", err, out)
		}
		if got := srv.Stats().Refreshes; got != n {
			b.Fatalf("%d refreshes at the server, want %d", got, n)
		}
	}
	w := median(walls)
	b.ReportMetric(float64(w.Milliseconds()), "wall-ms")
	b.ReportMetric(float64(w)/float64(ideal), "x-ideal")
}

// TestWriteBenchStore writes a 1,000-account store into
// $KEYFOB_BENCH_STORE for .ci/bench, which measures the real TUI on it.
func TestWriteBenchStore(t *testing.T) {
	dst := os.Getenv("KEYFOB_BENCH_STORE")
	if dst == "" {
		t.Skip("set KEYFOB_BENCH_STORE to a directory")
	}
	dir, _ := bigStore(t, 1000, 8*time.Hour)
	data, err := os.ReadFile(filepath.Join(dir, accounts.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, accounts.StoreFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
}
