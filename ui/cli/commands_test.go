package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

func TestImportRefreshToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Scopes: []string{"openid", "offline_access", "energy_device_data"}})
	r := e.run(ts.RefreshToken+"\n", "import", "--kind", "fleet", "--issuer", e.srv.URL(),
		"--client-id", sandbox.FleetClientID, "--name", "solar")
	if r.code != 0 || !strings.Contains(r.stderr, "Imported solar <driver@example.com> (fleet/na)") {
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
	if r := e.run("", "import", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", "x"); r.code != 2 {
		t.Errorf("empty stdin: exit %d %s", r.code, r.stderr)
	}
	// A dead token is refused with exit 4 and nothing is saved.
	before := e.storeFiles()
	r = e.run(ts.RefreshToken+"\n", "import", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID)
	if r.code != 4 || strings.Contains(r.stderr, ts.RefreshToken) {
		t.Fatalf("dead token: exit %d %s", r.code, r.stderr)
	}
	e.sameFiles("a dead token", before)
}

// TestImportCustomNeedsNoAuthURL: an import takes only what a refresh
// needs, so a custom account imports without an authorization endpoint.
func TestImportCustomNeedsNoAuthURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: "my-app", Scopes: []string{"openid", "offline_access"}})
	r := e.run(ts.RefreshToken+"\n", "import", "--kind", "custom", "--token-url", e.srv.URL()+"/oauth2/v3/token",
		"--client-id", "my-app", "--name", "mine")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if a := e.account("mine"); a.Kind != accounts.KindCustom || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatalf("stored %+v", a)
	}
}

func TestImportUnderATakenNameSpendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: "other-app", Scopes: []string{"openid", "offline_access"}})
	before := e.storeFiles()
	r := e.run(ts.RefreshToken+"\n", "import", "--kind", "owner", "--issuer", e.srv.URL(), "--name", "car")
	if r.code != 1 || !strings.Contains(r.stderr, `named "car" already exists`) {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !e.srv.RefreshTokenLive(ts.RefreshToken) || e.srv.Stats().Refreshes != 0 {
		t.Fatal("the refresh token was spent although the account could not be saved")
	}
	e.sameFiles("an import under a taken name", before)
}

func TestTokenFreshNearExpiryAndRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{AccessTTL: 8 * time.Hour})
	e.seed(e.minted("a0000001", "fresh", time.Hour), e.minted("a0000002", "soon", 2*time.Minute))
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

// TestTokenWhenTheRefreshFails: a token still valid but inside
// --min-valid whose refresh fails is printed all the same, with a warning
// that says why and for how long it is good; the next call, during the
// back-off after the failure, does not ask the server again; a refresh
// the user asks for does.
func TestTokenWhenTheRefreshFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "soon", 4*time.Minute))
	soon := e.account("soon")
	e.srv.FailNext(sandbox.FaultServerError, 1)
	r := e.mustRun("", "token", "soon", "--min-valid", "5m")
	if r.stdout != soon.AccessToken+"\n" || !strings.HasPrefix(r.stderr, "keyfob: warning: ") || !strings.Contains(r.stderr, "503") ||
		!strings.Contains(r.stderr, "valid for 3 minutes more") {
		t.Fatalf("a failed refresh: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	st := e.srv.Stats()
	r = e.mustRun("", "token", "soon", "--min-valid", "5m")
	if r.stdout != soon.AccessToken+"\n" || !strings.Contains(r.stderr, "waits before asking again") {
		t.Fatalf("during the back-off: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if e.srv.Stats() != st {
		t.Fatalf("a refresh reached the server during the back-off: %+v", e.srv.Stats())
	}
	e.mustRun("", "refresh", "soon")
	if a := e.account("soon"); a.AccessToken == soon.AccessToken || e.srv.Stats().Refreshes != st.Refreshes+1 {
		t.Fatal("keyfob refresh waited out the back-off")
	}
}

// TestTokenDefaultAccount: without NAME, the only account or the
// configured default.
func TestTokenDefaultAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	if r := e.mustRun("", "token"); r.stdout != e.account("car").AccessToken+"\n" {
		t.Fatalf("only account: %q", r.stdout)
	}
	e.seed(e.minted("a0000002", "truck", time.Hour))
	if r := e.run("", "token"); r.code != 3 || !strings.Contains(r.stderr, "default_account") {
		t.Fatalf("two accounts: exit %d %s", r.code, r.stderr)
	}
	if err := e.manager().SaveConfig(accounts.Config{DefaultAccount: "truck"}); err != nil {
		t.Fatal(err)
	}
	if r := e.mustRun("", "token"); r.stdout != e.account("truck").AccessToken+"\n" {
		t.Fatalf("default account: %q", r.stdout)
	}
}

func TestRefreshAllBoundedConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{Latency: 100 * time.Millisecond})
	var accts []accounts.Account
	for i := range 12 {
		accts = append(accts, e.minted(fmt.Sprintf("%08x", i+1), fmt.Sprintf("car%02d", i), time.Hour))
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
	// With --min-valid, tokens that stay valid long enough are left alone.
	r = e.mustRun("", "refresh", "--all", "--min-valid", "30m")
	if got := strings.Count(r.stdout, "· "); got != 12 || !strings.Contains(r.stdout, "still valid, access token in ") {
		t.Fatalf("--min-valid: %s", r.stdout)
	}
}

// TestRefreshNeverSendsAnAccountThatNeedsALogin: refresh --all skips the
// accounts no refresh can help (a rejected refresh token, a revoked
// account) and says so; refresh NAME on one fails with exit 4. Neither
// asks the server about them, as the TUI's r, R and auto-refresh do not.
func TestRefreshNeverSendsAnAccountThatNeedsALogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	dead, gone := e.minted("a0000002", "dead", -time.Minute), e.minted("a0000003", "gone", time.Hour)
	dead.State, dead.StateDetail = accounts.StateLoginRequired, "login_required"
	gone.State = accounts.StateRevoked
	e.seed(e.minted("a0000001", "car", -time.Minute), dead, gone)
	r := e.mustRun("", "refresh", "--all")
	if !strings.Contains(r.stdout, "✓ car: ") || strings.Contains(r.stdout, "dead") || strings.Contains(r.stdout, "gone") ||
		!strings.Contains(r.stderr, `- skipped: the server rejected the refresh token of "dead" (login_required): it needs a new login`) ||
		!strings.Contains(r.stderr, `- skipped: "gone" was revoked and needs a new login`) {
		t.Fatalf("refresh --all: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if st := e.srv.Stats(); st.Refreshes != 1 || st.Failures != 0 {
		t.Fatalf("the server was asked about an account that needs a login: %+v", st)
	}
	r = e.run("", "refresh", "dead")
	if r.code != ExitLoginRequired || !strings.Contains(r.stderr, "needs a new login") || e.srv.Stats().Refreshes != 1 {
		t.Fatalf("refresh dead: exit %d %s (%d refreshes)", r.code, r.stderr, e.srv.Stats().Refreshes)
	}
}

func TestRevokeAndRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour), e.minted("a0000002", "truck", time.Hour))
	car := e.account("car")
	r := e.mustRun("", "revoke", "car", "--yes")
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
	if r := e.run("", "token", "car"); r.code != 4 || !strings.Contains(r.stderr, "log in again with keyfob login") {
		t.Fatalf("token on revoked: exit %d %s", r.code, r.stderr)
	}
	e.mustRun("", "revoke", "truck", "--remove", "--yes")
	e.mustRun("", "remove", "car", "--yes")
	if n := len(e.store().Accounts); n != 0 {
		t.Fatalf("%d accounts left", n)
	}
}

// TestRemoveAsks: at a terminal remove asks first; only yes removes.
func TestRemoveAsks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	for _, tc := range []struct {
		answer string
		code   int
		left   int
	}{{"n\n", 1, 1}, {"\n", 1, 1}, {"yes\n", 0, 0}} {
		r := e.invoke(call{stdin: strings.NewReader(tc.answer), inTTY: true}, "remove", "car")
		if r.code != tc.code || !strings.Contains(r.stderr, "Forget car? ") || len(e.store().Accounts) != tc.left {
			t.Fatalf("answer %q: exit %d, %d accounts left: %s", tc.answer, r.code, len(e.store().Accounts), r.stderr)
		}
	}
}

func TestRevokeWithoutEndpointExplainsConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	a := e.minted("a0000001", "car", time.Hour)
	a.Endpoints.RevokeURL = ""
	e.seed(a)
	r := e.mustRun("", "revoke", "car", "--yes")
	if !strings.Contains(r.stdout, "Server: not revoked") || !strings.Contains(r.stdout, "revoke/consent?revoke_client_id="+sandbox.FleetClientID) {
		t.Fatalf("stdout %s", r.stdout)
	}
	if got := e.account("car"); got.State != accounts.StateRevoked || got.RefreshToken == "" {
		t.Fatal("unsupported revoke must keep the tokens and mark the record")
	}
	// No endpoint: a retry cannot help, so none is offered.
	if strings.Contains(r.stdout, "retry") || !strings.Contains(r.stdout, "its tokens were kept, since they still work (keyfob remove car forgets them)") {
		t.Fatalf("local outcome: %s", r.stdout)
	}
	// Revoked at the server, it holds no tokens; revoked again, it says so.
	e.mustRun("", "edit", "car", "--revoke-url", e.srv.Issuer()+"/revoke")
	e.mustRun("", "revoke", "car", "--yes")
	if r = e.mustRun("", "revoke", "car", "--yes"); !strings.Contains(r.stdout, "Local:  car marked revoked; it holds no tokens.") {
		t.Fatalf("revoked twice: %s", r.stdout)
	}
}

func TestListJSONSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	a := e.minted("a0000001", "car", 30*time.Minute)
	a.Email = "driver@example.com"
	a.Audience = sandbox.TeslaFleetAPIBase("eu")
	custom := e.minted("a0000002", "lab", time.Hour)
	custom.Kind = accounts.KindCustom
	e.seed(a, custom)
	r := e.mustRun("", "list", "--json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err, r.stdout)
	}
	if len(got) != 2 {
		t.Fatalf("%d entries", len(got))
	}
	// api_base_url: where to call the API the token is for (the audience
	// here); null for a custom account, which has none keyfob knows.
	if got[0]["api_base_url"] != sandbox.TeslaFleetAPIBase("eu") || got[1]["api_base_url"] != nil {
		t.Errorf("api_base_url %v, %v", got[0]["api_base_url"], got[1]["api_base_url"])
	}
	if _, ok := got[1]["api_base_url"]; !ok {
		t.Error("a custom account's entry lacks api_base_url: the schema has it, null")
	}
	for _, k := range []string{"id", "name", "email", "kind", "region", "scopes", "access_expires_at",
		"refresh_obtained_at", "refresh_expires_at", "status", "api_base_url"} {
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

// TestListCleansOutsideText: what came from outside keyfob reaches the
// terminal without escape sequences in the table, and exact in --json.
func TestListCleansOutsideText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	a := e.minted("a0000001", "car", 8*time.Hour)
	a.Email = "evil\x1b]0;pwned\x07@example.com"
	a.GrantedScopes = []string{"openid", "vehicle\x1b[2Jcmds"}
	e.seed(a)
	r := e.mustRun("", "list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if strings.ContainsRune(r.stdout, '\x1b') || len(lines) != 2 {
		t.Fatalf("list: %q", r.stdout)
	}
	for _, want := range []string{"NAME", "evil@example.com", "fleet/na", "in 7h 59m", "openid,vehiclecmds", "✓ valid", "a0000001"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q: %s", want, r.stdout)
		}
	}
	r = e.mustRun("", "list", "--json")
	var got []listEntry
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got[0].Email != a.Email {
		t.Fatalf("--json changed the email: %v %+v", err, got)
	}
	// No accounts: a hint on stderr, nothing on stdout.
	e2 := newEnv(t, sandbox.Options{})
	if r := e2.mustRun("", "list"); r.stdout != "" || !strings.Contains(r.stderr, "No accounts yet") {
		t.Fatalf("empty list: %q %q", r.stdout, r.stderr)
	}
}

func TestVersionAndSandbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	if r := e.mustRun("", "version"); r.stdout != "keyfob test\n" {
		t.Fatalf("version: %q", r.stdout)
	}
	if r := e.mustRun("", "--version"); !strings.Contains(r.stdout, "test") {
		t.Fatalf("--version: %q", r.stdout)
	}
	ctx, stop := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan result, 1)
	go func() {
		done <- e.invoke(call{ctx: ctx, stdout: outW}, "sandbox", "--access-ttl", "1m")
		outW.Close()
	}()
	out := bufio.NewReader(outR)
	first, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(first)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q", first)
	}
	// It is a working sandbox: the fleet login it prints works against it
	// (with the redirect URI it registered for the app).
	login := printedCommand(t, out, "keyfob login --kind fleet")
	custom := printedCommand(t, out, "keyfob login --kind custom")
	owner := printedCommand(t, out, "keyfob login --kind owner")
	partner := printedCommand(t, out, "keyfob login --kind partner")
	go io.Copy(io.Discard, out)
	if !slices.Contains(login, base) || !slices.Contains(login, "--redirect-uri") {
		t.Fatalf("printed fleet login %q", login)
	}
	e.mustRun("", append(login[1:], "--name", "ext")...)
	if a := e.account("ext"); time.Until(a.Expiry) > 2*time.Minute {
		t.Fatalf("--access-ttl ignored: expires %v", a.Expiry)
	}
	// Its accounts are Tesla-shaped and work offline: check calls the
	// sandbox, never Tesla, for the fleet and partner logins it prints,
	// and the owner login gets the sandbox's Owner API answer.
	if r := e.mustRun("", "check", "ext"); !strings.Contains(r.stdout, "✓ the token works") ||
		!strings.Contains(r.stdout, "GET "+base+"/fleet-api/na/api/1/users/region") || strings.Contains(r.stdout, "GET https://") {
		t.Fatalf("check of the printed fleet login: %s", r.stdout)
	}
	if !slices.Contains(owner, "--api-base-url") || !slices.Contains(partner, "--api-base-url") {
		t.Fatalf("printed owner %q and partner %q logins lack their API base", owner, partner)
	}
	e.runEnv("", map[string]string{EnvClientSecret: sandbox.PartnerSecret}, append(partner[1:], "--name", "biz")...)
	if r := e.mustRun("", "check", "biz"); !strings.Contains(r.stdout, "✓ the token works") ||
		!strings.Contains(r.stdout, "GET "+base+"/fleet-api/na/api/1/partner_accounts/") {
		t.Fatalf("check of the printed partner login: %s", r.stdout)
	}
	// The custom login works too, and its account can be refreshed.
	e.mustRun("", custom[1:]...)
	if a := e.account("custom"); a.Kind != accounts.KindCustom || a.RefreshToken == "" {
		t.Fatalf("printed custom login %q made %+v", custom, a)
	}
	e.mustRun("", "refresh", "custom")
	stop() // what ctrl+c does through fang's signal context
	select {
	case r := <-done:
		if r.code != 0 || !strings.Contains(r.stderr, "sandbox: served 2 code exchanges") {
			t.Fatalf("sandbox exit %d: %s", r.code, r.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop on interrupt")
	}
}
