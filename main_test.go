package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/oauthtest"
)

// These tests build the real binary and run it as a user or a script
// would, against the sandbox server on loopback.

var keyfobBin string

func TestMain(m *testing.M) {
	// The test binary doubles as a fake browser: $BROWSER points at it.
	if mode := os.Getenv("KEYFOB_TEST_BROWSER"); mode != "" {
		os.Exit(fakeBrowser(mode, os.Args[len(os.Args)-1]))
	}
	dir, err := os.MkdirTemp("", "keyfob-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	keyfobBin = filepath.Join(dir, "keyfob")
	build := exec.Command("go", "build", "-o", keyfobBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building keyfob:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeBrowser signs in like a browser would: it follows the authorize URL
// to the loopback callback. Mode "tamper" changes the state on the way.
func fakeBrowser(mode, authURL string) int {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		return 1
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return 1
	}
	if mode == "tamper" {
		q := loc.Query()
		q.Set("state", "forged")
		loc.RawQuery = q.Encode()
	}
	if resp, err = http.Get(loc.String()); err != nil {
		return 1
	}
	resp.Body.Close()
	return 0
}

// env is one isolated keyfob home plus a sandbox.
type env struct {
	t   *testing.T
	srv *oauthtest.Server
	dir string
}

func newEnv(t *testing.T, opts oauthtest.Options) *env {
	t.Helper()
	return &env{t: t, srv: oauthtest.NewTest(t, opts), dir: t.TempDir()}
}

func (e *env) environ(extra ...string) []string {
	home := filepath.Join(e.dir, "home")
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".state"),
		"KEYFOB_CONFIG_DIR=" + e.storeDir(),
		"BROWSER=" + os.Args[0],
		"KEYFOB_TEST_BROWSER=follow",
	}, extra...)
}

func (e *env) storeDir() string { return filepath.Join(e.dir, "keyfob") }

type result struct {
	stdout, stderr string
	code           int
}

func (e *env) run(stdin string, extraEnv []string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(keyfobBin, args...)
	cmd.Env = e.environ(extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func (e *env) mustRun(stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, nil, args...)
	if r.code != 0 {
		e.t.Fatalf("keyfob %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (e *env) store() *accounts.File {
	e.t.Helper()
	f, err := accounts.Open(e.storeDir()).Load()
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func (e *env) account(name string) accounts.Account {
	e.t.Helper()
	a, err := accounts.Resolve(e.store().Accounts, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return *a
}

func (e *env) storeBytes() []byte {
	b, _ := os.ReadFile(filepath.Join(e.storeDir(), accounts.StoreFile))
	return b
}

// seed writes accounts minted by the sandbox straight into the store.
func (e *env) seed(accts ...accounts.Account) {
	e.t.Helper()
	err := accounts.Open(e.storeDir()).Update(context.Background(), func(f *accounts.File) error {
		f.Accounts = append(f.Accounts, accts...)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// minted is a fleet account on the sandbox with tokens from Mint.
func (e *env) minted(id, name string, ttl time.Duration) accounts.Account {
	ts := e.srv.Mint(oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: ttl,
		Scopes: []string{"openid", "offline_access", "vehicle_device_data"}})
	now := time.Now()
	return accounts.Account{
		ID: id, Name: name, Kind: accounts.KindFleet, Region: "na", ClientID: oauthtest.FleetClientID,
		Endpoints: accounts.Endpoints{
			AuthURL: e.srv.Issuer() + "/authorize", TokenURL: e.srv.Issuer() + "/token",
			RevokeURL: e.srv.Issuer() + "/revoke",
		},
		AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, Expiry: ts.Expiry,
		GrantedScopes: ts.Scopes, AccessObtainedAt: now, RefreshObtainedAt: now, State: accounts.StateActive,
	}
}

func TestLoginFleetLoopbackThroughBrowserEnv(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	r := e.mustRun("", "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", oauthtest.FleetClientID, "--name", "car")
	if !strings.Contains(r.stderr, "Added car <driver@example.com>") {
		t.Errorf("stderr: %s", r.stderr)
	}
	a := e.account("car")
	if a.Kind != accounts.KindFleet || a.Email != "driver@example.com" || a.AccessToken == "" || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatalf("stored %+v", a)
	}
	if st := e.srv.Stats(); st.CodeExchanges != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(a.GrantedScopes) == 0 {
		t.Error("granted scopes not recorded")
	}
}

func TestLoginCustomEndpoints(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	e.mustRun("", "login", "--kind", "custom", "--client-id", "my-app",
		"--auth-url", e.srv.URL()+"/oauth2/v3/authorize", "--token-url", e.srv.URL()+"/oauth2/v3/token",
		"--revoke-url", e.srv.URL()+"/oauth2/v3/revoke", "--scopes", "openid,offline_access email", "--name", "mine")
	a := e.account("mine")
	if a.Kind != accounts.KindCustom || a.Endpoints.TokenURL != e.srv.URL()+"/oauth2/v3/token" || a.RefreshToken == "" {
		t.Fatalf("stored %+v", a)
	}
	if strings.Join(a.RequestedScopes, " ") != "openid offline_access email" {
		t.Errorf("requested scopes %q", a.RequestedScopes)
	}
}

// runInteractive runs keyfob with piped stdin and lets answer read stderr
// line by line and write to stdin.
func (e *env) runInteractive(answer func(line string, stdin io.Writer) bool, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(keyfobBin, args...)
	cmd.Env = e.environ()
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	var errText strings.Builder
	sc := bufio.NewScanner(stderr)
	sc.Split(scanLinesOrPrompt)
	for sc.Scan() {
		line := sc.Text()
		errText.WriteString(line + "\n")
		if answer(line, stdin) {
			stdin.Close()
		}
	}
	err := cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return result{out.String(), errText.String(), code}
}

// scanLinesOrPrompt splits on newlines, and also after a prompt that ends
// in ": " and waits for input.
func scanLinesOrPrompt(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if bytes.HasSuffix(data, []byte(": ")) {
		return len(data), data, nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// redirectOf signs in at the sandbox and returns where it redirects to,
// as a user would copy it from the address bar.
func redirectOf(t *testing.T, authURL string) string {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}

func TestLoginOwnerPastedRedirect(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	var authURL string
	r := e.runInteractive(func(line string, stdin io.Writer) bool {
		if u := strings.TrimSpace(line); strings.HasPrefix(u, "http") && strings.Contains(u, "/authorize?") {
			authURL = u
		}
		if strings.HasPrefix(line, "Redirect URL or code") {
			loc := redirectOf(t, authURL)
			if !strings.HasPrefix(loc, "tesla://auth/callback?") {
				t.Errorf("redirect %q", loc)
			}
			fmt.Fprintln(stdin, loc)
			return true
		}
		return false
	}, "login", "--kind", "owner", "--issuer", e.srv.URL(), "--no-browser", "--name", "home")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	a := e.account("home")
	if a.Kind != accounts.KindOwner || a.ClientID != "ownerapi" || a.Email != "driver@example.com" || a.RefreshToken == "" {
		t.Fatalf("stored %+v", a)
	}
}

func TestLoginPastedURLWithoutCode(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	r := e.runInteractive(func(line string, stdin io.Writer) bool {
		if strings.HasPrefix(line, "Redirect URL or code") {
			fmt.Fprintln(stdin, "tesla://auth/callback?state=abc&issuer=x")
			return true
		}
		return false
	}, "login", "--kind", "owner", "--issuer", e.srv.URL(), "--no-browser")
	if r.code != 1 || !strings.Contains(r.stderr, "no code") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if e.storeBytes() != nil {
		t.Fatal("a store was written")
	}
}

func TestLoginStateMismatch(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	r := e.run("", []string{"KEYFOB_TEST_BROWSER=tamper"}, "login", "--kind", "fleet", "--issuer", e.srv.URL(),
		"--client-id", oauthtest.FleetClientID, "--timeout", "20s")
	if r.code != 1 || !strings.Contains(strings.ToLower(r.stderr), "state") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if st := e.srv.Stats(); st.CodeExchanges != 0 {
		t.Fatal("the code was exchanged despite the state mismatch")
	}
}

func TestLoginPartnerClientCredentials(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	r := e.run("", []string{"KEYFOB_CLIENT_SECRET=" + oauthtest.PartnerSecret}, "login", "--kind", "partner",
		"--issuer", e.srv.URL(), "--client-id", oauthtest.PartnerClientID, "--region", "eu", "--name", "biz")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	a := e.account("biz")
	if a.Kind != accounts.KindPartner || a.RefreshToken != "" || a.AccessToken == "" || a.Region != "eu" {
		t.Fatalf("stored %+v", a)
	}
	if !strings.Contains(a.Audience, "fleet-api.prd.eu") {
		t.Errorf("audience %q", a.Audience)
	}
	// Refreshing a partner account runs the grant again.
	e.mustRun("", "refresh", "biz")
	if st := e.srv.Stats(); st.ClientCredentials != 2 {
		t.Fatalf("stats %+v", st)
	}
	// The secret is read from a file too, and a wrong one is refused without leaking it.
	secretFile := filepath.Join(e.dir, "secret")
	os.WriteFile(secretFile, []byte("wrong-secret-value\n"), 0o600)
	r = e.run("", nil, "login", "--kind", "partner", "--issuer", e.srv.URL(), "--client-id", oauthtest.PartnerClientID,
		"--client-secret-file", secretFile)
	if r.code != 1 || strings.Contains(r.stderr, "wrong-secret-value") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestLoginLegacyPassword(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	u := e.srv.User()
	e.mustRun(u.Password+"\n", "login", "--kind", "legacy", "--base-url", e.srv.URL(), "--email", u.Email, "--name", "old")
	a := e.account("old")
	if a.Kind != accounts.KindLegacy || a.ClientID != oauthtest.LegacyClientID || a.AccessToken == "" || a.RefreshToken == "" {
		t.Fatalf("stored %+v", a)
	}
	if d := time.Until(a.Expiry); d < 44*24*time.Hour {
		t.Errorf("legacy token expires in %v, want 45 days", d)
	}
	if st := e.srv.Stats(); st.PasswordGrants != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Refresh and revoke speak the legacy JSON protocol.
	e.mustRun("", "refresh", "old")
	if st := e.srv.Stats(); st.LegacyRefreshes != 1 {
		t.Fatalf("stats %+v", st)
	}
	r := e.mustRun("", "revoke", "old")
	if !strings.Contains(r.stdout, "Server: revoked") || e.srv.Stats().LegacyRevocations != 1 {
		t.Fatalf("revoke: %s / %+v", r.stdout, e.srv.Stats())
	}
	// A wrong password is refused with exit 1 and not echoed.
	r = e.run("hunter2-not-it\n", nil, "login", "--kind", "legacy", "--base-url", e.srv.URL(), "--email", u.Email)
	if r.code != 1 || strings.Contains(r.stderr, "hunter2-not-it") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestImportRefreshToken(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	ts := e.srv.Mint(oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, Scopes: []string{"openid", "offline_access", "energy_device_data"}})
	r := e.run(ts.RefreshToken+"\n", nil, "import", "--kind", "fleet", "--issuer", e.srv.URL(),
		"--client-id", oauthtest.FleetClientID, "--name", "solar")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	a := e.account("solar")
	if a.RefreshToken == ts.RefreshToken || !e.srv.RefreshTokenLive(a.RefreshToken) || e.srv.RefreshTokenLive(ts.RefreshToken) {
		t.Fatal("the rotated refresh token was not saved")
	}
	if a.Email != "driver@example.com" || strings.Join(a.GrantedScopes, " ") != "openid offline_access energy_device_data" {
		t.Errorf("stored %+v", a)
	}
	// An empty stdin is a usage error.
	if r := e.run("", nil, "import", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", "x"); r.code != 2 {
		t.Errorf("empty stdin: exit %d %s", r.code, r.stderr)
	}
	// A dead token is refused with exit 4 and nothing is saved.
	before := e.storeBytes()
	r = e.run(ts.RefreshToken+"\n", nil, "import", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", oauthtest.FleetClientID)
	if r.code != 4 || strings.Contains(r.stderr, ts.RefreshToken) || !bytes.Equal(before, e.storeBytes()) {
		t.Fatalf("dead token: exit %d %s", r.code, r.stderr)
	}
}

func TestTokenFreshNearExpiryAndRotation(t *testing.T) {
	e := newEnv(t, oauthtest.Options{AccessTTL: 8 * time.Hour})
	e.seed(e.minted("a1", "fresh", time.Hour), e.minted("a2", "soon", 2*time.Minute))
	fresh := e.account("fresh")

	r := e.mustRun("", "token", "fresh")
	if r.stdout != fresh.AccessToken+"\n" || r.stderr != "" {
		t.Fatalf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	if st := e.srv.Stats(); st.Refreshes != 0 {
		t.Fatal("a fresh token caused a request")
	}

	soon := e.account("soon")
	r = e.mustRun("", "token", "soon", "--min-valid", "5m")
	after := e.account("soon")
	if r.stdout != after.AccessToken+"\n" || after.AccessToken == soon.AccessToken {
		t.Fatalf("not refreshed: %q", r.stdout)
	}
	if st := e.srv.Stats(); st.Refreshes != 1 {
		t.Fatalf("stats %+v", st)
	}
	if after.RefreshToken == soon.RefreshToken || !e.srv.RefreshTokenLive(after.RefreshToken) {
		t.Fatal("rotated refresh token not saved")
	}
	// Again: now fresh, so no second request.
	e.mustRun("", "token", "soon")
	if st := e.srv.Stats(); st.Refreshes != 1 {
		t.Fatalf("stats %+v", st)
	}
	// --refresh-token prints the stored refresh token.
	if r := e.mustRun("", "token", "soon", "--refresh-token"); r.stdout != after.RefreshToken+"\n" {
		t.Fatalf("refresh token: %q", r.stdout)
	}
}

func TestConcurrentTokenProcessesRefreshOnce(t *testing.T) {
	e := newEnv(t, oauthtest.Options{Latency: 50 * time.Millisecond})
	e.seed(e.minted("a1", "car", -time.Minute))
	const n = 50
	outs := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = e.run("", nil, "token", "car")
		}()
	}
	wg.Wait()
	for i, r := range outs {
		if r.code != 0 || r.stdout != outs[0].stdout {
			t.Fatalf("process %d: exit %d stdout %q stderr %s", i, r.code, r.stdout, r.stderr)
		}
	}
	if st := e.srv.Stats(); st.Refreshes != 1 {
		t.Fatalf("%d refreshes at the server, want 1", st.Refreshes)
	}
	tok := strings.TrimSpace(outs[0].stdout)
	if info, ok := e.srv.AccessToken(tok); !ok || !info.Expiry.After(time.Now()) {
		t.Fatal("printed token is not a valid sandbox token")
	}
	if a := e.account("car"); a.AccessToken != tok || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatal("store does not hold the live token")
	}
}

func TestRefreshAllBoundedConcurrency(t *testing.T) {
	e := newEnv(t, oauthtest.Options{Latency: 100 * time.Millisecond})
	var accts []accounts.Account
	for i := range 12 {
		accts = append(accts, e.minted(fmt.Sprintf("id%02d", i), fmt.Sprintf("car%02d", i), time.Hour))
	}
	e.seed(accts...)
	start := time.Now()
	r := e.mustRun("", "refresh", "--all", "--concurrency", "4")
	elapsed := time.Since(start)
	if got := strings.Count(r.stdout, "✓"); got != 12 {
		t.Fatalf("%d refreshed: %s %s", got, r.stdout, r.stderr)
	}
	if st := e.srv.Stats(); st.Refreshes != 12 {
		t.Fatalf("stats %+v", st)
	}
	// 12 refreshes 4 at a time at 100 ms each take at least 3 rounds; all
	// at once would take one. (A lower bound, so a busy machine cannot
	// fail it.)
	if elapsed < 300*time.Millisecond {
		t.Fatalf("took %v: concurrency was not bounded", elapsed)
	}
	for _, a := range e.store().Accounts {
		if !e.srv.RefreshTokenLive(a.RefreshToken) {
			t.Fatalf("%s: refresh token not live", a.Name)
		}
	}
}

func TestRevokeAndRemove(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	e.seed(e.minted("a1", "car", time.Hour), e.minted("a2", "truck", time.Hour))
	car := e.account("car")
	r := e.mustRun("", "revoke", "car")
	if !strings.Contains(r.stdout, "Server: revoked") || !strings.Contains(r.stdout, "marked revoked") {
		t.Fatalf("stdout %s", r.stdout)
	}
	if e.srv.RefreshTokenLive(car.RefreshToken) {
		t.Fatal("refresh token still live at the server")
	}
	if a := e.account("car"); a.State != accounts.StateRevoked || a.RefreshToken != "" {
		t.Fatalf("stored %+v", a)
	}
	// token on a revoked account: exit 4.
	if r := e.run("", nil, "token", "car"); r.code != 4 {
		t.Fatalf("token on revoked: exit %d %s", r.code, r.stderr)
	}
	e.mustRun("", "revoke", "truck", "--remove")
	e.mustRun("", "remove", "car")
	if n := len(e.store().Accounts); n != 0 {
		t.Fatalf("%d accounts left", n)
	}
}

func TestRevokeWithoutEndpointExplainsConsent(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	a := e.minted("a1", "car", time.Hour)
	a.Endpoints.RevokeURL = ""
	e.seed(a)
	r := e.mustRun("", "revoke", "car")
	if !strings.Contains(r.stdout, "Server: not revoked") || !strings.Contains(r.stdout, "revoke/consent?revoke_client_id="+oauthtest.FleetClientID) {
		t.Fatalf("stdout %s", r.stdout)
	}
	if got := e.account("car"); got.State != accounts.StateRevoked || got.RefreshToken == "" {
		t.Fatal("unsupported revoke must keep the tokens and mark the record")
	}
}

func TestListJSONSchema(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	a := e.minted("a1", "car", 30*time.Minute)
	a.Email = "driver@example.com"
	e.seed(a)
	r := e.mustRun("", "list", "--json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err, r.stdout)
	}
	if len(got) != 1 {
		t.Fatalf("%d entries", len(got))
	}
	for _, k := range []string{"id", "name", "email", "kind", "region", "scopes", "access_expires_at",
		"refresh_obtained_at", "refresh_expires_at", "status"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	if got[0]["status"] != "expiring" || got[0]["kind"] != "fleet" || got[0]["name"] != "car" {
		t.Errorf("entry %v", got[0])
	}
	if strings.Contains(r.stdout, a.AccessToken) || strings.Contains(r.stdout, a.RefreshToken) {
		t.Fatal("list --json shows a token")
	}
	r = e.mustRun("", "list")
	if !strings.Contains(r.stdout, "car") || !strings.Contains(r.stdout, "expiring") {
		t.Fatalf("list: %s", r.stdout)
	}
}

// TestBadInput runs every bad input and checks the message,
// the exit code, and that the store is byte-for-byte unchanged.
func TestBadInput(t *testing.T) {
	type tc struct {
		name     string
		prepare  func(e *env)
		args     []string
		code     int
		contains string
	}
	corrupt := func(body string) func(e *env) {
		return func(e *env) {
			os.WriteFile(filepath.Join(e.storeDir(), accounts.StoreFile), []byte(body), 0o600)
		}
	}
	fault := func(f oauthtest.Fault) func(e *env) { return func(e *env) { e.srv.FailNext(f, 1) } }
	cases := []tc{
		{"corrupt store", corrupt("{\"version\": 1, \"accounts\": [}"), []string{"token", "car"}, 1, "not valid keyfob JSON at line 1"},
		{"corrupt store on write", corrupt("{\"version\": 1, \"accounts\": [}"), []string{"remove", "car"}, 1, "will not write to it"},
		{"newer store version", corrupt(`{"version": 7, "accounts": []}`), []string{"refresh", "--all"}, 1, "upgrade keyfob"},
		{"unknown flag", nil, []string{"token", "--frobnicate"}, 2, "unknown flag"},
		{"unknown command", nil, []string{"tokne"}, 2, "unknown command"},
		{"too many args", nil, []string{"token", "a", "b"}, 2, "at most 1"},
		{"bad duration", nil, []string{"token", "--min-valid", "soon"}, 2, "invalid argument"},
		{"bad kind", nil, []string{"login", "--kind", "bogus"}, 2, "unknown account kind"},
		{"unknown account", nil, []string{"token", "nobody"}, 3, "no account matches"},
		{"ambiguous name", nil, []string{"token", "ca"}, 3, "matches car, cab"},
		{"5xx", fault(oauthtest.FaultServerError), []string{"token", "car"}, 1, "503"},
		{"timeout", fault(oauthtest.FaultTimeout), []string{"--http-timeout", "1s", "token", "car"}, 1, "no answer"},
		{"malformed json", fault(oauthtest.FaultMalformedJSON), []string{"token", "car"}, 1, "cannot read"},
		{"login required", fault(oauthtest.FaultLoginRequired), []string{"token", "car"}, 4, "log in again"},
		{"invalid_grant", fault(oauthtest.FaultInvalidGrant), []string{"token", "car"}, 4, "log in again"},
		{"revoked refresh token", func(e *env) { e.srv.KillRefreshToken(e.account("car").RefreshToken) },
			[]string{"refresh", "car"}, 4, "no longer accepted"},
		{"429 with Retry-After", fault(oauthtest.FaultRateLimit), []string{"token", "car"}, 1, "try again in 7s"},
		{"slow drip", fault(oauthtest.FaultSlowDrip), []string{"--http-timeout", "1s", "token", "car"}, 1, "within 1s"},
		{"html error page", fault(oauthtest.FaultHTML), []string{"token", "car"}, 1, "web page instead of JSON"},
		{"missing fields", fault(oauthtest.FaultMissingFields), []string{"token", "car"}, 1, "without an access token"},
		{"wrong token_type", fault(oauthtest.FaultWrongTokenType), []string{"token", "car"}, 1, "only handles bearer tokens"},
		{"negative --min-valid", nil, []string{"token", "car", "--min-valid", "-5m"}, 2, "cannot be negative"},
		{"names and --all", nil, []string{"refresh", "car", "--all"}, 2, "not both"},
		{"revoke without name", nil, []string{"revoke"}, 2, "exactly one account name"},
		{"bad region", nil, []string{"login", "--region", "mars"}, 2, "unknown region"},
		{"bad grant", nil, []string{"login", "--kind", "custom", "--grant", "magic", "--client-id", "x"}, 2, "--grant"},
		{"import without token", nil, []string{"import", "--kind", "owner"}, 2, "no refresh token"},
		{"sandbox on a public address", nil, []string{"sandbox", "--addr", "0.0.0.0:0"}, 1, "loopback"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, oauthtest.Options{})
			car := e.minted("a1", "car", -time.Minute)
			e.seed(car, e.minted("a2", "cab", time.Hour))
			if c.prepare != nil {
				c.prepare(e)
			}
			before := e.storeBytes()
			r := e.run("", nil, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.contains) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, c.code, r.stderr, c.contains)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
			for _, secret := range []string{car.AccessToken, car.RefreshToken} {
				if strings.Contains(r.stderr, secret) {
					t.Fatal("stderr holds a token")
				}
			}
			after := e.storeBytes()
			if c.code == 4 {
				// The failure is recorded, the refresh token kept.
				if a := e.account("car"); a.State != accounts.StateLoginRequired || a.RefreshToken != car.RefreshToken {
					t.Fatalf("stored %+v", a)
				}
				return
			}
			if c.prepare != nil && c.name != "corrupt store" && !strings.HasPrefix(c.name, "corrupt") && !strings.HasPrefix(c.name, "newer") {
				// Only the failure note may change; the tokens stay.
				if a := e.account("car"); a.RefreshToken != car.RefreshToken || a.AccessToken != car.AccessToken {
					t.Fatal("tokens changed after a failed refresh")
				}
				return
			}
			if !bytes.Equal(before, after) {
				t.Fatal("store changed")
			}
		})
	}
}

func TestSecretsNeverInArgv(t *testing.T) {
	// The only child process keyfob starts is the browser; its argument is
	// the authorize URL, which must carry no secret.
	e := newEnv(t, oauthtest.Options{})
	logFile := filepath.Join(e.dir, "argv")
	script := filepath.Join(e.dir, "browser.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >> "+logFile+"\nexec \""+os.Args[0]+"\" \"$@\"\n"), 0o700)
	r := e.run("", []string{"BROWSER=" + script, "KEYFOB_CLIENT_SECRET=s3cr3t-client-value"},
		"login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", oauthtest.FleetClientID)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	argv, _ := os.ReadFile(logFile)
	if !strings.Contains(string(argv), "/authorize?") {
		t.Fatalf("browser not started through $BROWSER: %q", argv)
	}
	a := e.account("driver")
	for _, secret := range []string{"s3cr3t-client-value", a.AccessToken, a.RefreshToken} {
		if strings.Contains(string(argv), secret) || strings.Contains(r.stderr, secret) {
			t.Fatal("a secret reached argv or stderr")
		}
	}
	if !strings.Contains(string(argv), "code_challenge_method=S256") {
		t.Error("authorize URL without PKCE S256")
	}
}

func TestVersionAndSandbox(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	if r := e.mustRun("", "version"); !strings.HasPrefix(r.stdout, "keyfob ") {
		t.Fatalf("version: %q", r.stdout)
	}
	cmd := exec.Command(keyfobBin, "sandbox", "--access-ttl", "1m")
	cmd.Env = e.environ()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	first, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(first)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q", first)
	}
	// It is a working sandbox: log in against it.
	e.mustRun("", "login", "--kind", "fleet", "--issuer", base, "--client-id", oauthtest.FleetClientID, "--name", "ext")
	if a := e.account("ext"); time.Until(a.Expiry) > 2*time.Minute {
		t.Fatalf("--access-ttl ignored: expires %v", a.Expiry)
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sandbox exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop on interrupt")
	}
}

func TestImportUnderATakenNameSpendsNothing(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	e.seed(e.minted("a1", "car", time.Hour))
	ts := e.srv.Mint(oauthtest.MintRequest{ClientID: "other-app", Scopes: []string{"openid", "offline_access"}})
	before := e.storeBytes()
	r := e.run(ts.RefreshToken+"\n", nil, "import", "--kind", "owner", "--issuer", e.srv.URL(), "--name", "car")
	if r.code != 1 || !strings.Contains(r.stderr, `named "car" already exists`) {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !e.srv.RefreshTokenLive(ts.RefreshToken) || e.srv.Stats().Refreshes != 0 {
		t.Fatal("the refresh token was spent although the account could not be saved")
	}
	if !bytes.Equal(before, e.storeBytes()) {
		t.Fatal("store changed")
	}
}
