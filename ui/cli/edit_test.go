package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// teslaFleet is a fleet account with Tesla's na endpoints and tokens from
// the sandbox (which nothing here sends anywhere: edit makes no request).
func (e *env) teslaFleet(id, name string) accounts.Account {
	a := e.minted(id, name, 8*time.Hour)
	p, err := oauth.Preset(accounts.KindFleet, "na")
	if err != nil {
		e.t.Fatal(err)
	}
	a.Endpoints, a.Audience = p.Endpoints, p.Audience
	return a
}

func TestEditMovesTheRegionAndKeepsTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.teslaFleet("a0000001", "car"), e.teslaFleet("a0000002", "truck"))
	before := e.account("car")

	r := e.mustRun("", "edit", "car", "--region", "eu")
	want := "Edited car; its tokens are kept:\n" +
		"  region: na → eu\n" +
		"  audience: https://fleet-api.prd.na.vn.cloud.tesla.com → https://fleet-api.prd.eu.vn.cloud.tesla.com\n"
	if r.stdout != want {
		t.Fatalf("stdout %q", r.stdout)
	}
	after := e.account("car")
	if after.AccessToken != before.AccessToken || after.RefreshToken != before.RefreshToken || after.ID != before.ID ||
		after.Region != "eu" || after.Audience != "https://fleet-api.prd.eu.vn.cloud.tesla.com" {
		t.Fatalf("stored %+v", after)
	}

	// Tesla moved its token host: one flag (and --yes: the host is not one
	// keyfob knows as Tesla's), and a rename, the tokens stay.
	r = e.mustRun("", "edit", "car", "--token-url", "https://fleet-auth.example.com/oauth2/v3/token", "--name", "model-y", "--yes")
	if !strings.Contains(r.stdout, "name: car → model-y") ||
		!strings.Contains(r.stdout, "token URL: https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token → https://fleet-auth.example.com/oauth2/v3/token") {
		t.Fatalf("stdout %s", r.stdout)
	}
	if a := e.account("model-y"); a.RefreshToken != before.RefreshToken {
		t.Fatal("the tokens were lost")
	}
	// The same again changes nothing.
	if r := e.mustRun("", "edit", "model-y", "--name", "model-y"); r.stdout != "" || !strings.Contains(r.stderr, "Nothing changed") {
		t.Fatalf("no change: %q %q", r.stdout, r.stderr)
	}
}

func TestEditRefusesWithoutWriting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.teslaFleet("a0000001", "car"), e.teslaFleet("a0000002", "truck"))
	before := e.storeFiles()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"edit", "car"}, 2, "give at least one field to change: --name, --region, --audience"},
		{[]string{"edit", "car", "--token-url", "fleet-auth.example.com/token"}, 2, "the token URL of this account is not an http or https URL; nothing was changed: fix --token-url"},
		{[]string{"edit", "car", "--token-url", ""}, 2, "needs the token URL"},
		{[]string{"edit", "car", "--region", "mars"}, 2, `unknown region "mars"; use na, eu or cn; nothing was changed: fix --region`},
		{[]string{"edit", "car", "--audience", "fleet-api.example.com"}, 2, "not a Fleet API base URL"},
		{[]string{"edit", "car", "--redirect-uri", "not a uri"}, 2, "not a valid URI"},
		{[]string{"edit", "car", "--base-url", "https://owner-api.example.com"}, 2, "--base-url does not apply to a fleet account"},
		{[]string{"edit", "car", "--name", "TRUCK"}, 1, `an account named "TRUCK" already exists`},
		{[]string{"edit", "car", "--name", ""}, 2, "the account name is blank; nothing was changed: choose another with --name"},
		{[]string{"edit", "car", "--name", " "}, 2, "is blank; nothing was changed"},
		{[]string{"edit", "car", "--name", "a\x1bb"}, 2, "contains the control character U+001B; nothing was changed: fix --name"},
		{[]string{"edit", "nobody", "--region", "eu"}, 3, "no account matches"},
		{[]string{"edit", "--region", "eu"}, 2, "edit needs exactly one account name"},
	} {
		r := e.run("", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d %s", tc.args, r.code, r.stderr)
		}
	}
	e.sameFiles("a refused edit", before)
}

func TestEditCompletesNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.teslaFleet("a0000001", "car"), e.teslaFleet("a0000002", "truck"))
	r := e.mustRun("", "__complete", "edit", "tr")
	if !strings.Contains(r.stdout, "truck\tfleet/na") || strings.Contains(r.stdout, "car\t") {
		t.Fatalf("completion %q", r.stdout)
	}
	if r := e.mustRun("", "__complete", "edit", "car", ""); strings.Contains(r.stdout, "truck") {
		t.Fatalf("a second name was offered: %q", r.stdout)
	}
}

// TestEditOffTeslasHostsTakesConsent: a Tesla account's token URL or
// audience moving to a host that is not Tesla's (by exact name) is
// refused without --yes, naming the host, and nothing is written; at a
// terminal edit asks; with consent it is done, with a warning.
func TestEditOffTeslasHostsTakesConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.teslaFleet("a0000001", "car"))
	before := e.storeBytes()
	evil := "https://fleet-auth.prd.vn.cloud.tesla.com.attacker.example/oauth2/v3/token"
	for _, args := range [][]string{
		{"edit", "car", "--token-url", evil},
		{"edit", "car", "--audience", "https://fleet-api.evil.tesla.com"},
		{"edit", "car", "--auth-url", "https://auth.tesla.com.attacker.example/oauth2/v3/authorize"},
	} {
		r := e.run("", args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, ", which is not one of Tesla's hosts") ||
			!strings.Contains(r.stderr, "nothing was changed: fix --"+strings.TrimPrefix(args[2], "--")+", or --yes accepts the new host") {
			t.Errorf("%q: exit %d %s", args, r.code, r.stderr)
		}
	}
	if !bytes.Equal(before, e.storeBytes()) {
		t.Fatal("a refused edit changed the store")
	}
	// At a terminal, edit asks, naming the host; no keeps everything.
	r := e.invoke(call{inTTY: true, stdin: strings.NewReader("n\n")}, "edit", "car", "--token-url", evil)
	if r.code != 1 || !strings.Contains(r.stderr, "the token URL would be on fleet-auth.prd.vn.cloud.tesla.com.attacker.example, which is not one of Tesla's hosts: the refresh token and client secret would be sent there. Make this change? [y/N]") ||
		!bytes.Equal(before, e.storeBytes()) {
		t.Fatalf("answered no: exit %d %s", r.code, r.stderr)
	}
	r = e.invoke(call{inTTY: true, stdin: strings.NewReader("y\n")}, "edit", "car", "--token-url", evil)
	if r.code != 0 || e.account("car").Endpoints.TokenURL != evil ||
		!strings.Contains(r.stderr, "warning: the token URL is now on fleet-auth.prd.vn.cloud.tesla.com.attacker.example, not one of Tesla's hosts") {
		t.Fatalf("answered yes: exit %d %s", r.code, r.stderr)
	}
	// The host is the account's now: its path changes without asking.
	e.mustRun("", "edit", "car", "--token-url", strings.Replace(evil, "/oauth2/v3/token", "/token", 1))
	// --yes does it without asking; Tesla's own hosts never ask.
	e.mustRun("", "edit", "car", "--audience", "https://proxy.example.com", "--yes")
	e.mustRun("", "edit", "car", "--token-url", "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token", "--audience", "https://fleet-api.prd.eu.vn.cloud.tesla.com")
}

// TestEditPlainHTTPNeedsTheFlagAgain: the opt-in to plain http covers
// the hosts it was given for; edited to https the account loses it, and a
// plain http host after that needs --insecure-http again, which warns.
func TestEditPlainHTTPNeedsTheFlagAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	lab := e.minted("a0000001", "lab", 8*time.Hour)
	lab.Kind, lab.Region, lab.AllowInsecureHTTP = accounts.KindCustom, "", true
	lab.Endpoints = accounts.Endpoints{TokenURL: "http://lab.example.com/token"}
	e.seed(lab)
	r := e.mustRun("", "edit", "lab", "--token-url", "https://lab.example.com/token")
	if a := e.account("lab"); a.AllowInsecureHTTP || !strings.Contains(r.stderr, "the account's opt-in to it is gone") {
		t.Fatalf("to https: opt-in %v, %s", a.AllowInsecureHTTP, r.stderr)
	}
	before := e.storeBytes()
	for _, url := range []string{"http://lab.example.com/token", "http://other.example.com/token"} {
		r = e.run("", "edit", "lab", "--token-url", url)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "the token URL would be plain http to "+strings.Split(url, "/")[2]+", another machine") ||
			!strings.Contains(r.stderr, "--insecure-http accepts plain http to it") {
			t.Errorf("%s: exit %d %s", url, r.code, r.stderr)
		}
	}
	if !bytes.Equal(before, e.storeBytes()) {
		t.Fatal("a refused edit changed the store")
	}
	r = e.mustRun("", "edit", "lab", "--token-url", "http://other.example.com/token", "--insecure-http")
	if a := e.account("lab"); !a.AllowInsecureHTTP || !strings.Contains(r.stderr, "warning: this account's tokens and secrets travel in clear text") {
		t.Fatalf("with --insecure-http: opt-in %v, %s", a.AllowInsecureHTTP, r.stderr)
	}
	// The same host again needs no flag; another does.
	e.mustRun("", "edit", "lab", "--revoke-url", "http://other.example.com/revoke")
	if r := e.run("", "edit", "lab", "--revoke-url", "http://third.example.com/revoke"); r.code != ExitUsage {
		t.Fatalf("a third host: exit %d %s", r.code, r.stderr)
	}
}
