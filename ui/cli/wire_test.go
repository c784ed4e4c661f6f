package cli

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// fleetRedirect returns a loopback redirect URI on a port free now and
// registers it for the sandbox's Fleet app: Tesla takes only the redirect
// URIs registered for an app, exactly.
func (e *env) fleetRedirect() string {
	e.t.Helper()
	uri := keyfobtest.FreeRedirect(e.t)
	e.srv.RegisterRedirectURI(sandbox.FleetClientID, uri)
	return uri
}

// printedCommand reads lines from r until one holds prefix, and returns
// that command's words.
func printedCommand(t *testing.T, r *bufio.Reader, prefix string) []string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if i := strings.Index(line, prefix); i >= 0 {
			return strings.Fields(line[i:])
		}
		if err != nil {
			t.Fatalf("no line with %q was printed", prefix)
		}
	}
}

// A fleet login needs the app's registered redirect URI; once a login
// with it worked, the next login of the app uses it without the flag, and
// says so.
func TestFleetRedirectIsRequiredThenRemembered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{StrictFleet: true})
	args := []string{"login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID}
	r := e.run("", append(args, "--name", "car")...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "pass it with --redirect-uri") || !strings.Contains(r.stderr, "developer.tesla.com") {
		t.Fatalf("without a redirect URI: exit %d: %s", r.code, r.stderr)
	}
	redirect := e.fleetRedirect()
	r = e.mustRun("", append(args, "--redirect-uri", redirect, "--name", "car")...)
	if strings.Contains(r.stderr, "remembered") {
		t.Errorf("a login given its redirect URI speaks of a remembered one: %s", r.stderr)
	}
	cfg, err := e.manager().Config()
	if err != nil || cfg.RedirectURIs[sandbox.FleetClientID] != redirect {
		t.Fatalf("config after the login: %+v %v", cfg, err)
	}
	first := e.account("car")
	// The same user and app again, under another name: the account is
	// logged in again in place and keeps its name.
	r = e.mustRun("", append(args, "--name", "car2")...)
	if !strings.Contains(r.stderr, "using the redirect URI remembered for this app: "+redirect) {
		t.Errorf("the second login does not say which redirect URI it used: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, "Logged in again to car") {
		t.Errorf("the second login does not say which account it updated: %s", r.stderr)
	}
	a := e.account("car")
	if a.ID != first.ID || a.Endpoints.RedirectURI != redirect || a.RefreshToken == "" || a.RefreshToken == first.RefreshToken {
		t.Fatalf("second login stored %+v", a)
	}
	if got := len(e.store().Accounts); got != 1 {
		t.Fatalf("%d accounts after logging the same user in twice", got)
	}
}

// --locale and --require-scopes reach the sign-in address; a kind that
// does not use them refuses them.
func TestLoginOptionsReachTheSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	var authURL string
	seen := func(u string) error {
		authURL = u
		return browser("follow")(u)
	}
	r := e.invoke(call{browser: seen}, "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID,
		"--redirect-uri", e.fleetRedirect(), "--locale", "de-DE", "--require-scopes")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	u, err := url.Parse(authURL)
	if err != nil || u.Query().Get("locale") != "de-DE" || u.Query().Get("require_requested_scopes") != "true" {
		t.Fatalf("sign-in address %q", authURL)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--kind", "owner", "--require-scopes"}, "--require-scopes applies to fleet logins only"},
		{[]string{"login", "--kind", "partner", "--locale", "de"}, "--locale applies to browser sign-ins only"},
		{[]string{"login", "--kind", "owner", "--locale", "not a tag"}, "not a language tag"},
	} {
		if r := e.run("", tc.args...); r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d: %s", tc.args, r.code, r.stderr)
		}
	}
}

// A plain http endpoint off loopback is refused with the flag that allows
// it; with the flag, keyfob warns what it means and keeps the opt-in with
// the account. Not needed, it says so and keeps nothing.
func TestInsecureHTTPIsAnExplicitWarnedOptIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	args := []string{"import", "--kind", "custom", "--client-id", "c", "--token-url", "http://keyfob-test.invalid/token"}
	r := e.run("rt\n", args...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "plain http") || !strings.Contains(r.stderr, "--insecure-http accepts that risk") ||
		strings.Count(r.stderr, "--insecure-http") != 1 {
		t.Fatalf("without the flag: exit %d: %s", r.code, r.stderr)
	}
	r = e.run("rt\n", append(args, "--insecure-http")...)
	if r.code != 1 || !strings.Contains(r.stderr, "warning: --insecure-http") || !strings.Contains(r.stderr, "clear text") {
		t.Fatalf("with the flag (the host does not resolve): exit %d: %s", r.code, r.stderr)
	}
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: "c", Scopes: []string{"openid", "offline_access"}})
	r = e.run(ts.RefreshToken+"\n", "import", "--kind", "custom", "--client-id", "c", "--token-url", e.srv.Issuer()+"/token",
		"--name", "lab", "--insecure-http")
	if r.code != 0 || !strings.Contains(r.stderr, "--insecure-http was not needed") || e.account("lab").AllowInsecureHTTP {
		t.Fatalf("not needed: exit %d: %s", r.code, r.stderr)
	}
}

// A stored account whose endpoint is plain http off loopback refreshes
// nothing, and the error says how to fix it.
func TestRefreshOfAPlainHTTPAccountSaysWhatToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	a := e.minted("a0000001", "car", -1)
	a.Endpoints.TokenURL = "http://keyfob-test.invalid/token"
	e.seed(a)
	r := e.run("", "refresh", "car")
	if r.code == 0 || !strings.Contains(r.stderr, "plain http") || !strings.Contains(r.stderr, "--insecure-http") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// The paste prompt of an Owner login says where to find a tesla://
// address, in the words both faces share.
func TestOwnerPasteShowsWhereToFindTheAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	var authURL string
	r := e.runInteractive(false, func(line string, stdin io.Writer) bool {
		authURLOf(line, &authURL)
		if strings.HasPrefix(line, "Redirect URL or code") {
			fmt.Fprintln(stdin, redirectOf(t, authURL))
			return true
		}
		return false
	}, "login", "--kind", "owner", "--issuer", e.srv.URL(), "--no-browser", "--name", "home")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"Browsers cannot open tesla:// addresses", "Failed to launch", "Preserve log", "just the code"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the paste help lacks %q:\n%s", want, r.stderr)
		}
	}
}

// A region the tokens correct is told: after an import, and when a
// refresh finds it (on stderr, the token alone on stdout).
func TestRegionChangesAreTold(t *testing.T) {
	t.Parallel()
	eu := sandbox.User{Email: "eu-driver@example.com", Region: "EU"}
	e := newEnv(t, sandbox.Options{Users: []sandbox.User{eu}})
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Email: eu.Email, Scopes: []string{"openid", "offline_access"}})
	r := e.run(ts.RefreshToken+"\n", "import", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID, "--name", "eu")
	if r.code != 0 || !strings.Contains(r.stderr, "note: eu: the tokens say the account is in region eu, not na") {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	if a := e.account("eu"); a.Region != "eu" || a.Audience != sandbox.TeslaFleetAPIBase("eu") {
		t.Fatalf("import stored region %q audience %q", a.Region, a.Audience)
	}
	if strings.Count(r.stderr, "region eu") != 1 {
		t.Errorf("the change is told more than once: %s", r.stderr)
	}

	// An account stored as na whose refreshed token says eu.
	a := e.minted("a0000002", "moved", -1)
	a.RefreshToken = e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Email: eu.Email,
		Scopes: []string{"openid", "offline_access"}}).RefreshToken
	a.Audience = e.srv.FleetAPIBase("na")
	e.seed(a)
	r = e.mustRun("", "token", "moved")
	if strings.Contains(r.stdout, "region") || !strings.Contains(r.stderr, "note: moved: the tokens say the account is in region eu, not na") {
		t.Fatalf("token: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if got := e.account("moved"); got.Region != "eu" || got.Audience != e.srv.FleetAPIBase("eu") {
		t.Fatalf("refresh stored region %q audience %q", got.Region, got.Audience)
	}
}

// A token of the other Tesla hosts' region is not followed: the refresh
// works, and a warning says what to do.
func TestRefusedRegionIsAWarningWithAdvice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	a := e.minted("a0000003", "far", -1)
	a.Region = "cn"
	e.seed(a)
	r := e.mustRun("", "refresh", "far")
	if !strings.Contains(r.stderr, "warning: far:") || !strings.Contains(r.stderr, "keyfob edit far --region") {
		t.Fatalf("stderr %q", r.stderr)
	}
	if got := e.account("far"); got.Region != "cn" || got.AccessToken == a.AccessToken {
		t.Fatalf("region %q, refreshed %v", got.Region, got.AccessToken != a.AccessToken)
	}
}
