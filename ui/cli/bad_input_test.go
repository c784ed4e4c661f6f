package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestBadInput runs every bad input and checks the message, the exit
// code, and the store afterwards: byte-for-byte unchanged, or, for a
// refresh that failed, unchanged but for the failure recorded on the
// account it failed on.
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, c := range append(badInputs(), refreshFailures()...) {
		t.Run(c.name, func(t *testing.T) { checkBadInput(t, c) })
	}
}

// badInput is one bad input, the exit code it gets and what its message
// says ("{store}" stands for the store file's path, "{record}" for the
// record file of the account car).
type badInput struct {
	name     string
	prepare  func(e *env)
	args     []string
	code     int
	contains string
	// failedOn is the account whose failed refresh the store records; ""
	// when the store must not change at all.
	failedOn string
}

func badInputs() []badInput {
	type tc = badInput
	corrupt := func(body string) func(e *env) {
		return func(e *env) {
			os.WriteFile(filepath.Join(e.storeDir(), accounts.StoreFile), []byte(body), 0o600)
		}
	}
	corruptRecord := func(body string) func(e *env) {
		return func(e *env) {
			os.WriteFile(filepath.Join(e.storeDir(), "records", e.account("car").ID+".json"), []byte(body), 0o600)
		}
	}
	const brokenOnLine3 = "{\n  \"version\": 1,\n  \"accounts\": [}\n"
	const brokenRecordOnLine3 = "{\n  \"version\": 3,\n  \"account\": [}\n"
	return []tc{
		{"corrupt store", corrupt("{\"version\": 1, \"accounts\": [}"), []string{"token", "car"}, 1,
			"{store} is not valid keyfob JSON at line 1, column 29", ""},
		{"corrupt store on write", corrupt("{\"version\": 1, \"accounts\": [}"), []string{"remove", "car"}, 1,
			"{store} is not valid keyfob JSON at line 1, column 29: invalid character '}' looking for beginning of value; keyfob will not write to it", ""},
		{"corrupt store, third line", corrupt(brokenOnLine3), []string{"refresh", "--all"}, 1,
			"{store} is not valid keyfob JSON at line 3, column 16", ""},
		{"newer store version", corrupt(`{"version": 7, "accounts": []}`), []string{"refresh", "--all"}, 1,
			fmt.Sprintf("{store} has store version 7, newer than this keyfob understands (%d); upgrade keyfob", accounts.CurrentVersion), ""},
		{"corrupt record", corruptRecord("{\"version\": 3, \"account\": [}"), []string{"token", "car"}, 1,
			"{record} is not valid keyfob JSON at line 1, column 28", ""},
		{"corrupt record on write", corruptRecord("{\"version\": 3, \"account\": [}"), []string{"remove", "car"}, 1,
			"{record} is not valid keyfob JSON at line 1, column 28: invalid character '}' looking for beginning of value; keyfob will not write to it", ""},
		{"corrupt record, third line", corruptRecord(brokenRecordOnLine3), []string{"refresh", "--all"}, 1,
			"{record} is not valid keyfob JSON at line 3, column 15", ""},
		{"newer record version", corruptRecord(`{"version": 7, "account": {"id": "a0000001"}}`), []string{"token", "car"}, 1,
			fmt.Sprintf("{record} has store version 7, newer than this keyfob understands (%d); upgrade keyfob", accounts.CurrentVersion), ""},
		{"unknown flag", nil, []string{"token", "--frobnicate"}, 2, "unknown flag", ""},
		{"unknown command", nil, []string{"tokne"}, 2, "unknown command", ""},
		{"too many args", nil, []string{"token", "a", "b"}, 2, "at most 1", ""},
		{"bad duration", nil, []string{"token", "--min-valid", "soon"}, 2, "invalid argument", ""},
		{"zero http timeout", nil, []string{"--http-timeout", "0", "token", "car"}, 2, "more than zero", ""},
		{"negative http timeout", nil, []string{"--http-timeout", "-1s", "refresh", "--all"}, 2, "more than zero", ""},
		{"control character in a name", nil, []string{"login", "--kind", "custom", "--grant", "client_credentials",
			"--token-url", "http://127.0.0.1:1/token", "--client-id", "c", "--name", "bad\x1b[2Jname"}, 2, "control character", ""},
		{"bad kind", nil, []string{"login", "--kind", "bogus"}, 2, "unknown account kind", ""},
		{"unknown account", nil, []string{"token", "nobody"}, 3, "no account matches", ""},
		{"ambiguous name", nil, []string{"token", "ca"}, 3, "matches car, cab", ""},
		{"negative --min-valid", nil, []string{"token", "car", "--min-valid", "-5m"}, 2, "cannot be negative", ""},
		{"names and --all", nil, []string{"refresh", "car", "--all"}, 2, "not both", ""},
		{"revoke without name", nil, []string{"revoke"}, 2, "exactly one account name", ""},
		{"bad region", nil, []string{"login", "--region", "mars"}, 2, "unknown region", ""},
		{"bad grant", nil, []string{"login", "--kind", "custom", "--grant", "magic", "--client-id", "x"}, 2, "--grant", ""},
		{"import without token", nil, []string{"import", "--kind", "owner"}, 2, "no refresh token", ""},
		{"sandbox on a public address", nil, []string{"sandbox", "--addr", "0.0.0.0:0"}, 1, "loopback", ""},
		{"flag the kind does not use", nil, []string{"import", "--kind", "custom", "--auth-url", "https://a.example/auth"}, 2, "--auth-url does not apply", ""},
		{"field without its flag", nil, []string{"login", "--kind", "fleet"}, 2, "needs the client id; pass --client-id", ""},
	}
}

// refreshFailures are server answers that make the refresh of car fail:
// the store records the failure on car and keeps everything else.
func refreshFailures() []badInput {
	fault := func(f sandbox.Fault) func(e *env) { return func(e *env) { e.srv.FailNext(f, 1) } }
	cases := []badInput{
		{"5xx", fault(sandbox.FaultServerError), []string{"token", "car"}, 1, "503", ""},
		{"timeout", fault(sandbox.FaultTimeout), []string{"--http-timeout", "1s", "token", "car"}, 1, "no answer", ""},
		{"malformed json", fault(sandbox.FaultMalformedJSON), []string{"token", "car"}, 1, "cannot read", ""},
		{"login required", fault(sandbox.FaultLoginRequired), []string{"token", "car"}, 4, "log in again", ""},
		{"invalid_grant", fault(sandbox.FaultInvalidGrant), []string{"token", "car"}, 4, "log in again", ""},
		{"revoked refresh token", func(e *env) { e.srv.KillRefreshToken(e.account("car").RefreshToken) },
			[]string{"refresh", "car"}, 4, "no longer accepted", ""},
		{"429 with Retry-After", fault(sandbox.FaultRateLimit), []string{"token", "car"}, 1, "try again in 7s", ""},
		{"slow drip", fault(sandbox.FaultSlowDrip), []string{"--http-timeout", "1s", "token", "car"}, 1, "within 1s", ""},
		{"html error page", fault(sandbox.FaultHTML), []string{"token", "car"}, 1, "web page instead of JSON", ""},
		{"missing fields", fault(sandbox.FaultMissingFields), []string{"token", "car"}, 1, "without an access token", ""},
		{"wrong token_type", fault(sandbox.FaultWrongTokenType), []string{"token", "car"}, 1, "only handles bearer tokens", ""},
	}
	for i := range cases {
		cases[i].failedOn = "car"
	}
	return cases
}

// checkBadInput runs c on a store with two accounts and checks the
// message, the exit code, and the store afterwards.
func checkBadInput(t *testing.T, c badInput) {
	e := newEnv(t, sandbox.Options{})
	car := e.minted("a0000001", "car", -time.Minute)
	e.seed(car, e.minted("a0000002", "cab", time.Hour))
	was := e.store()
	if c.prepare != nil {
		c.prepare(e)
	}
	before := e.storeFiles()
	r := e.run("", c.args...)
	want := strings.NewReplacer("{store}", filepath.Join(e.storeDir(), accounts.StoreFile),
		"{record}", filepath.Join(e.storeDir(), "records", car.ID+".json")).Replace(c.contains)
	if r.code != c.code || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, c.code, r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
	if hint := strings.Contains(r.stderr, "Try 'keyfob --help'"); hint != (c.code == ExitUsage) {
		t.Errorf("--help hint %v for exit %d: %q", hint, r.code, r.stderr)
	}
	for _, secret := range []string{car.AccessToken, car.RefreshToken} {
		if strings.Contains(r.stderr, secret) {
			t.Fatal("stderr holds a token")
		}
	}
	if c.failedOn == "" {
		e.sameFiles("bad input", before)
		return
	}
	checkOnlyFailureRecorded(t, e, was, e.store(), c)
}

// checkOnlyFailureRecorded compares the stores before and after a failed
// refresh, every account and every field: only the failure may differ
// (last_refresh, state and its detail of the account the refresh failed
// on), and it must be recorded.
func checkOnlyFailureRecorded(t *testing.T, e *env, was, is *accounts.Snapshot, c badInput) {
	t.Helper()
	failed, _ := accounts.Resolve(is.Accounts, c.failedOn)
	wantState := accounts.StateError
	if c.code == ExitLoginRequired {
		wantState = accounts.StateLoginRequired
	}
	if failed == nil || failed.LastRefresh == nil || failed.LastRefresh.OK || failed.LastRefresh.Error == "" || failed.State != wantState {
		t.Fatalf("the failure is not recorded on %s: %+v", c.failedOn, failed)
	}
	// Blank out the recorded failure; all else must be equal.
	prior, _ := accounts.Resolve(was.Accounts, c.failedOn)
	failed.LastRefresh, failed.State, failed.StateDetail = prior.LastRefresh, prior.State, prior.StateDetail
	// The unusable answer of "wrong token_type" carries a new refresh
	// token, which the store must keep (live at the server) besides the
	// failure: the server may have spent the old one.
	if c.name == "wrong token_type" {
		if failed.RefreshToken == prior.RefreshToken || !e.srv.RefreshTokenLive(failed.RefreshToken) {
			t.Fatalf("the rotated refresh token of the unusable answer was not kept")
		}
		failed.RefreshToken, failed.RefreshObtainedAt = prior.RefreshToken, prior.RefreshObtainedAt
	}
	failed.Revision, failed.Rotation = prior.Revision, prior.Rotation // the record was written once more
	for i := range was.Accounts {
		if i >= len(is.Accounts) || !reflect.DeepEqual(was.Accounts[i], is.Accounts[i]) {
			t.Errorf("a failed refresh changed more than its record: %s differs", was.Accounts[i].Name)
		}
	}
	if len(was.Accounts) != len(is.Accounts) || !reflect.DeepEqual(was.Consumers, is.Consumers) {
		t.Fatalf("a failed refresh changed the accounts or the consumers: %d accounts, then %d", len(was.Accounts), len(is.Accounts))
	}
}

// TestFlagsFollowTheRequirements: a flag that names a field the
// requirements table does not list for the kind, grant and purpose is
// refused before anything happens; one it lists is taken.
func TestFlagsFollowTheRequirements(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	secretFile := filepath.Join(e.dir, "secret")
	os.WriteFile(secretFile, []byte("s\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string // "" means accepted
	}{
		{[]string{"import", "--kind", "custom", "--auth-url", "https://a.example/auth", "--client-id", "x"},
			"--auth-url does not apply to importing a custom account, which takes --name, --client-id, --scopes, --issuer, --token-url, --revoke-url, --userinfo-url, --client-secret-file"},
		{[]string{"import", "--kind", "fleet", "--redirect-uri", "http://localhost:8080/cb", "--client-id", "x"}, "--redirect-uri does not apply to importing a fleet account"},
		{[]string{"import", "--kind", "owner", "--client-secret-file", secretFile}, "--client-secret-file does not apply to importing an owner account"},
		{[]string{"login", "--kind", "fleet", "--base-url", "https://owner-api.example", "--client-id", "x"}, "--base-url does not apply to a fleet login"},
		{[]string{"login", "--kind", "partner", "--email", "a@b.c", "--client-id", "x"}, "--email does not apply to a partner login"},
		{[]string{"login", "--kind", "custom", "--grant", "client_credentials", "--auth-url", "https://a.example/auth"},
			"--auth-url does not apply to a custom login with --grant client_credentials"},
		{[]string{"login", "--kind", "owner", "--grant", "password"}, "--grant applies to custom accounts only"},
		{[]string{"login", "--kind", "legacy", "--auth-url", ""}, "--auth-url does not apply to a legacy login"},
		// Accepted: the table lists these (hidden fields included).
		{[]string{"import", "--kind", "custom", "--token-url", e.srv.URL() + "/oauth2/v3/token", "--client-id", "x"}, ""},
		{[]string{"import", "--kind", "owner", "--userinfo-url", e.srv.URL() + "/oauth2/v3/userinfo"}, ""},
	} {
		r := e.run("", tc.args...)
		if tc.want == "" {
			// Accepted flags get as far as the refresh token, which is missing.
			if r.code != ExitUsage || !strings.Contains(r.stderr, "no refresh token was given; pipe it on stdin") {
				t.Errorf("%v: exit %d %s", tc.args, r.code, r.stderr)
			}
			continue
		}
		if r.code != ExitUsage || !strings.Contains(r.stderr, "keyfob: "+tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if st := e.srv.Stats(); st.Refreshes+st.CodeExchanges+st.ClientCredentials != 0 {
		t.Fatalf("a refused command reached the server: %+v", st)
	}
}

// TestFieldErrorNamesTheFix: a field at fault is one sentence plus the
// flag, environment variable or stdin that fixes it.
func TestFieldErrorNamesTheFix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--kind", "fleet"},
			"a fleet account needs the client id; pass --client-id (your app's id from the provider's developer site)"},
		{[]string{"login", "--kind", "partner", "--client-id", "x"},
			"a partner account needs the client secret; set KEYFOB_CLIENT_SECRET or pass --client-secret-file"},
		{[]string{"import", "--kind", "custom", "--client-id", "x"}, "a custom account needs the token URL; pass --token-url (or --issuer)"},
		{[]string{"login", "--kind", "custom", "--grant", "code", "--client-id", "x", "--token-url", "https://t.example/token"},
			"a custom account needs the authorization URL; pass --auth-url (or --issuer)"},
		{[]string{"login", "--kind", "custom", "--client-id", "x", "--token-url", "ftp://t.example", "--auth-url", "https://a.example"},
			"the token URL of this custom account is not an http or https URL; pass --token-url (or --issuer)"},
		{[]string{"login", "--kind", "fleet", "--client-id", "x", "--redirect-uri", "http://localhost:99999/cb"}, "; fix --redirect-uri"},
		{[]string{"login", "--kind", "bogus"}, `unknown account kind "bogus"; use one of fleet, owner, partner, legacy, custom; pass one of them with --kind`},
		{[]string{"login", "--region", "mars", "--client-id", "x"}, `unknown region "mars"; use na, eu or cn; pass it with --region`},
		{[]string{"import", "--kind", "partner"}, "log in instead: keyfob login --kind partner"},
		{[]string{"import", "--kind", "owner"}, "no refresh token was given; pipe it on stdin (keyfob import … < token.txt) or paste it at the prompt"},
		{[]string{"login", "--kind", "custom", "--grant", "magic", "--client-id", "x"}, "; pass --grant code, password or client_credentials"},
	} {
		r := e.run("", tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 2 {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
