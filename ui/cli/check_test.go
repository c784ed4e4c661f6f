package cli

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// fleetIn is a fleet account of region na on the sandbox, its audience the
// sandbox's na Fleet API base, with tokens minted for email ("" is the
// default user) with scopes.
func (e *env) fleetIn(id, name, email string, ttl time.Duration, scopes ...string) accounts.Account {
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Email: email, AccessTTL: ttl, Scopes: scopes})
	a := e.minted(id, name, time.Hour)
	a.AccessToken, a.RefreshToken, a.Expiry, a.GrantedScopes = ts.AccessToken, ts.RefreshToken, ts.Expiry, ts.Scopes
	a.AccessObtainedAt = ts.Expiry.Add(-8 * time.Hour)
	a.Audience = e.srv.FleetAPIBase("na")
	a.RequestedScopes = []string{"openid", "offline_access", "user_data", "vehicle_cmds"}
	return a
}

func checkReport(t *testing.T, stdout string) fleetapi.Report {
	t.Helper()
	var r fleetapi.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	return r
}

func TestCheckFleetOverHTTP2AndTLS13(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{TLS: true})
	e.client = e.srv.Client()
	a := e.fleetIn("a0000001", "car", "", 8*time.Hour, "openid", "offline_access", "user_data")
	e.seed(a)

	r := e.mustRun("", "check", "car")
	for _, want := range []string{"Checked car (fleet/na)", "users/region", "users/me", "200", "HTTP/2.0", "TLS 1.3", " ms ",
		"Region       na ✓", "Audience     " + e.srv.FleetAPIBase("na") + " ✓", "User         driver@example.com (Sandbox Driver)",
		"Scopes       openid offline_access user_data — from the token's scp claim",
		"Not granted  vehicle_cmds — requested", "Result       ✓ the token works"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, a.AccessToken) {
		t.Fatal("check printed the token")
	}

	r = e.mustRun("", "check", "car", "--json")
	rep := checkReport(t, r.stdout)
	if !rep.OK || rep.Refreshed || len(rep.Calls) != 2 || rep.Calls[0].HTTPVersion != "HTTP/2.0" || rep.Calls[1].TLSVersion != "TLS 1.3" ||
		rep.Calls[0].LatencyMS <= 0 || rep.Region == nil || !rep.Region.Match || rep.Scopes.Source != "token" || rep.User.Email != "driver@example.com" {
		t.Fatalf("report %+v", rep)
	}
	// The schema's field names, as README documents them.
	var raw map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	for _, k := range []string{"name", "id", "kind", "checked_at", "refreshed", "access_expires_at", "ok", "problem", "calls",
		"region", "user", "scopes", "notes", "api_base_url"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if st := e.srv.Stats(); st.Refreshes != 0 || st.FleetAPI != 4 {
		t.Fatalf("check changed something: %+v", st)
	}
	if got := e.account("car"); got.AccessToken != a.AccessToken || got.RefreshToken != a.RefreshToken {
		t.Fatal("check changed the account")
	}
}

func TestCheckNamesTheRightRegion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{Users: []sandbox.User{{Email: "fahrer@example.de", Region: "EU"}}})
	e.seed(e.fleetIn("a0000001", "car", "fahrer@example.de", 8*time.Hour, "openid", "user_data"))
	r := e.run("", "check", "car")
	eu := e.srv.FleetAPIBase("eu")
	if r.code != 1 || !strings.Contains(r.stderr, "Tesla says this user is in region eu, served at "+eu) ||
		!strings.Contains(r.stderr, "users/me answered 421 Misdirected Request") ||
		!strings.HasSuffix(strings.TrimSpace(r.stderr), "fix the account with keyfob edit car --region eu") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "Region       na — Tesla says eu ✗") || !strings.Contains(r.stdout, "421") {
		t.Fatalf("stdout %s", r.stdout)
	}
	r = e.run("", "check", "car", "--json")
	if rep := checkReport(t, r.stdout); r.code != 1 || rep.OK || rep.Region.Tesla != "eu" || rep.Region.TeslaBase != eu || rep.Problem == "" {
		t.Fatalf("exit %d %+v", r.code, rep)
	}
	// The fix it names works: edit --region moves the sandbox's address.
	e.mustRun("", "edit", "car", "--region", "eu")
	if r := e.mustRun("", "check", "car"); !strings.Contains(r.stdout, "✓ the token works") {
		t.Fatalf("after the edit: %s", r.stdout)
	}
}

func TestCheckRefusedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.fleetIn("a0000001", "old", "", -time.Minute, "openid", "offline_access", "user_data"),
		e.fleetIn("a0000002", "cut", "", 8*time.Hour, "openid", "offline_access"))

	// Expired: exit 4, no refresh without --refresh.
	r := e.run("", "check", "old")
	if r.code != 4 || !strings.Contains(r.stderr, "which expired") || !strings.Contains(r.stderr, "keyfob check old --refresh") {
		t.Fatalf("expired: exit %d %s", r.code, r.stderr)
	}
	if st := e.srv.Stats(); st.Refreshes != 0 {
		t.Fatal("check refreshed without --refresh")
	}
	r = e.mustRun("", "check", "old", "--refresh")
	if !strings.Contains(r.stdout, "had expired and was refreshed first") || e.srv.Stats().Refreshes != 1 {
		t.Fatalf("--refresh: %s", r.stdout)
	}
	// A valid token is not refreshed by --refresh.
	e.mustRun("", "check", "old", "--refresh")
	if e.srv.Stats().Refreshes != 1 {
		t.Fatal("--refresh refreshed a valid token")
	}

	// Revoked at the server before it expired: exit 4, and says so.
	cut := e.account("cut")
	resp, err := e.srv.Client().PostForm(e.srv.Issuer()+"/revoke", url.Values{"token": {cut.AccessToken}, "client_id": {sandbox.FleetClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r = e.run("", "check", "cut")
	if r.code != 4 || !strings.Contains(r.stderr, "although it has not expired") || !strings.Contains(r.stderr, "401") ||
		strings.Contains(r.stderr, cut.AccessToken) {
		t.Fatalf("revoked: exit %d %s", r.code, r.stderr)
	}
}

func TestCheckOtherKindsAndBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	owner := e.minted("a0000001", "home", time.Hour)
	owner.Kind, owner.Endpoints.UserInfoURL = accounts.KindOwner, e.srv.Issuer()+"/userinfo"
	owner.Endpoints.APIBaseURL = e.srv.URL()
	custom := e.minted("a0000002", "old", time.Hour)
	custom.Kind, custom.Endpoints = accounts.KindCustom, accounts.Endpoints{TokenURL: e.srv.Issuer() + "/token"}
	bare := e.minted("a0000003", "bare", time.Hour)
	e.seed(owner, custom, bare)

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"check", "old"}, 1, "nothing to call for \"old\""},
		{[]string{"check", "bare"}, 1, "keyfob edit bare --region na|eu|cn"},
		{[]string{"check", "nobody"}, 3, "no account matches"},
		{[]string{"check", "home", "old"}, 2, "accepts at most 1"},
		{[]string{"check"}, 3, "none was named"},
	} {
		if r := e.run("", tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %s", tc.args, r.code, r.stderr)
		}
	}
	// The server is gone: exit 1 and what to check.
	a := e.fleetIn("a0000004", "car", "", time.Hour, "openid")
	e.seed(a)
	if r := e.mustRun("", "check", "car"); !strings.Contains(r.stdout, "Note         users/me not called: the token does not carry the user_data scope") {
		t.Errorf("no user_data: %s", r.stdout)
	}
	e.srv.Close()
	if r := e.run("", "check", "car"); r.code != 1 || !strings.Contains(r.stderr, "no answer from") || !strings.Contains(r.stderr, "HTTPS_PROXY") {
		t.Fatalf("offline: exit %d %s", r.code, r.stderr)
	}
}

// TestCheckCleansServerText: hostile claims and users/me answers reach the
// terminal without escape sequences, and --json exact.
func TestCheckCleansServerText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.fleetIn("a0000001", "car", "", time.Hour, "openid", "offline_access", "user_data"))
	e.srv.FailNext(sandbox.FaultHostileClaims, 1)
	e.mustRun("", "refresh", "car")
	r := e.mustRun("", "check", "car")
	if strings.ContainsRune(r.stdout+r.stderr, '\x1b') || strings.Contains(r.stdout, "\nkeyfob: all tokens valid") {
		t.Fatalf("escape sequences reached the terminal: %q", r.stdout)
	}
	if !strings.Contains(r.stdout, "Mallory Red Driver") {
		t.Errorf("stdout %s", r.stdout)
	}
	rep := checkReport(t, e.mustRun("", "check", "car", "--json").stdout)
	if rep.User == nil || rep.User.FullName != sandbox.HostileName {
		t.Fatalf("--json changed the server's text: %+v", rep.User)
	}
}

// keyfob check on an owner account asks the Owner API too and reports its
// answer as it is: Tesla's 403 "forbidden, see https://developer.tesla.com/
// docs/fleet-api" (the address intact), and what to do — a Fleet API app
// of one's own; the same account passes once the Owner API answers.
func TestCheckOwnerReportsTheOwnerAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	owner := e.minted("a0000001", "home", time.Hour)
	owner.Kind, owner.Endpoints.UserInfoURL = accounts.KindOwner, e.srv.Issuer()+"/userinfo"
	owner.Endpoints.APIBaseURL = e.srv.URL()
	e.seed(owner)
	r := e.run("", "check", "home")
	if r.code != 1 || !strings.Contains(r.stdout, "userinfo            200") || !strings.Contains(r.stdout, "owner-api vehicles  403") ||
		!strings.Contains(r.stderr, "403 Forbidden (forbidden, see https://developer.tesla.com/docs/fleet-api)") ||
		!strings.Contains(r.stderr, "Tesla is closing the Owner API") || !strings.Contains(r.stderr, "Fleet API app of your own") {
		t.Fatalf("closed: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	e.srv.SetOwnerAPIOpen(true)
	if r := e.mustRun("", "check", "home"); !strings.Contains(r.stdout, "the Owner API answered with 1 vehicle(s)") ||
		!strings.Contains(r.stdout, "✓ the token works") {
		t.Fatalf("open: %s", r.stdout)
	}
}

// A 429 is honoured: keyfob check waits the Retry-After and asks again,
// and shows Tesla's RateLimit-* headers.
func TestCheckHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.fleetIn("a0000001", "car", "", time.Hour, "openid"))
	e.srv.SetAPIRateLimit(1, time.Second)
	r := e.mustRun("", "check", "car")
	for _, want := range []string{"users/region  429", "users/region  200", "users/region: rate limit: ratelimit-limit 60, ratelimit-remaining 0, ratelimit-reset 1; Retry-After 1s",
		"users/region: asked again after waiting 1s, as Retry-After asked", "✓ the token works"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check lacks %q:\n%s", want, r.stdout)
		}
	}
}

// An app not registered in the account's region gets Tesla's 412 with the
// region's address intact, and the command that registers it there.
func TestCheckUnregisteredApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{RequireRegistration: true})
	e.seed(e.fleetIn("a0000001", "car", "", time.Hour, "openid"))
	r := e.run("", "check", "car")
	if r.code != 1 || !strings.Contains(r.stderr, "must be registered in the current region "+e.srv.FleetAPIBase("na")+"/") ||
		!strings.Contains(r.stderr, "keyfob partner register --region na") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}
