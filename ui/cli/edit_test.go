package cli

import (
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

	// Tesla moved its token host: one flag, and a rename, the tokens stay.
	r = e.mustRun("", "edit", "car", "--token-url", "https://fleet-auth.example.com/oauth2/v3/token", "--name", "model-y")
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
