package cli

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// guideArgs are the flags of a guided set-up against the sandbox: its
// issuer and Fleet API, and a loopback redirect URI.
func (e *env) guideArgs(redirect string, more ...string) []string {
	return append([]string{"login", "--kind", "fleet", "--guide", "--issuer", e.srv.URL(),
		"--audience", e.srv.FleetAPIBase("na"), "--redirect-uri", redirect}, more...)
}

// TestGuidedSetUpResumes: the guide stops where the domain does not serve
// the key yet, says what to do, and the same command (without the client
// id or the domain, which keyfob remembers) goes on from there to a
// registered domain, a signed-in fleet account and the pairing link.
func TestGuidedSetUpResumes(t *testing.T) {
	t.Parallel()
	e, domain := keyfobDomainEnv(t)
	redirect := e.fleetRedirect()
	secret := map[string]string{EnvClientSecret: sandbox.PartnerSecret}

	r := e.runEnv("", secret, e.guideArgs(redirect, "--domain", domain, "--client-id", sandbox.PartnerClientID)...)
	if r.code != ExitError || !strings.Contains(r.stderr, "[3/6] Publish the public key on the domain") ||
		!strings.Contains(r.stderr, "run the same command again to go on from step 3") ||
		!strings.Contains(r.stderr, "run keyfob serve and point a tunnel") {
		t.Fatalf("first run: %d\n%s", r.code, r.stderr)
	}
	// What to enter at developer.tesla.com, exactly.
	for _, want := range []string{"Allowed redirect URI  " + redirect, "Allowed origin URL    https://" + domain,
		"Authorization Code and Machine-to-Machine", "vehicle_location"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the app's entries lack %q", want)
		}
	}
	keys := fleetapp.Keys{Dir: e.storeDir()}
	before, err := os.ReadFile(keys.PrivatePath())
	if err != nil {
		t.Fatal(err)
	}

	e.startServe()
	r = e.runEnv("", secret, e.guideArgs(redirect)...)
	if r.code != 0 {
		t.Fatalf("second run: %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Going on with the set-up of the app "+sandbox.PartnerClientID) ||
		strings.Count(r.stderr, "✓ done") != 2 || !strings.Contains(r.stderr, "https://tesla.com/_ak/"+domain) {
		t.Fatalf("second run:\n%s", r.stderr)
	}
	if after, _ := os.ReadFile(keys.PrivatePath()); string(after) != string(before) {
		t.Fatal("the key pair was made again")
	}
	_, point, _ := keys.Public()
	for _, region := range []string{"na", "eu"} {
		if got, ok := e.srv.PartnerPublicKey(region, domain); !ok || hex.EncodeToString(got) != hex.EncodeToString(point) {
			t.Fatalf("not registered in %s", region)
		}
	}
	var fleet, partner int
	for _, a := range e.store().Accounts {
		switch {
		case a.Kind == accounts.KindFleet && a.ClientID == sandbox.PartnerClientID && a.RefreshToken != "" && a.Endpoints.RedirectURI == redirect:
			fleet++
		case a.Kind == accounts.KindPartner && a.ClientID == sandbox.PartnerClientID:
			partner++
		}
	}
	if fleet != 1 || partner != 1 {
		t.Fatalf("accounts: %d fleet, %d partner: %+v", fleet, partner, e.store().Accounts)
	}
	app, _, _ := (fleetapp.Apps{Dir: e.storeDir()}).Find(sandbox.PartnerClientID)
	if app.Next() != "" || app.Domain != domain || app.Fleet == "" || app.Partner == "" {
		t.Fatalf("state: %+v", app)
	}
	if fi, err := os.Stat(filepath.Join(e.storeDir(), fleetapp.AppsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the progress file: %v", err)
	}
	if strings.Contains(r.stdout+r.stderr, sandbox.PartnerSecret) {
		t.Fatal("the client secret was printed")
	}
	// Once more: every step is done, nothing is asked of Tesla again.
	st := e.srv.Stats()
	if r := e.runEnv("", secret, e.guideArgs(redirect)...); r.code != 0 || strings.Count(r.stderr, "✓ done") != 6 || e.srv.Stats() != st {
		t.Fatalf("third run: %d %+v\n%s", r.code, e.srv.Stats(), r.stderr)
	}
}

// TestGuideOfferedAtTheTerminal: a fleet login without a client id in a
// terminal asks whether the user has an app; "no" runs the guide, which
// asks for the domain and the client id.
func TestGuideOfferedAtTheTerminal(t *testing.T) {
	t.Parallel()
	e, domain := keyfobDomainEnv(t)
	e.startServe()
	redirect := e.fleetRedirect()
	ask := &scriptedAsker{t: t, answers: []answer{
		{choose: "no"},
		{fields: map[oauth.Field]string{oauth.FieldDomain: domain}},
		{fields: map[oauth.Field]string{oauth.FieldClientID: sandbox.PartnerClientID}},
		{fields: map[oauth.Field]string{oauth.FieldClientSecret: sandbox.PartnerSecret}},
	}}
	r := e.invoke(call{inTTY: true, asker: ask}, "login", "--kind", "fleet", "--issuer", e.srv.URL(),
		"--audience", e.srv.FleetAPIBase("na"), "--redirect-uri", redirect)
	if r.code != 0 {
		t.Fatalf("%d\n%s\nasked %q", r.code, r.stderr, ask.asked)
	}
	if len(ask.asked) != 4 || !strings.HasPrefix(ask.asked[0], "confirm Do you have a Fleet API app of your own") {
		t.Fatalf("asked %q", ask.asked)
	}
	// With a client id, nothing is offered: the usual login.
	ask = &scriptedAsker{t: t}
	if r := e.invoke(call{inTTY: true, asker: ask}, "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID,
		"--redirect-uri", e.fleetRedirect(), "--name", "plain"); r.code != 0 || len(ask.asked) != 0 {
		t.Fatalf("plain login: %d %q %s", r.code, ask.asked, r.stderr)
	}
}

func TestGuideBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--kind", "fleet", "--guide"}, "--domain is required for the guided set-up"},
		{[]string{"login", "--kind", "fleet", "--guide", "--domain", "https://x.example/"}, "is not a domain"},
		{[]string{"login", "--kind", "owner", "--guide", "--domain", "x.example"}, "goes with --kind fleet"},
		{[]string{"login", "--kind", "fleet", "--domain", "x.example", "--client-id", "a"}, "--domain goes with --guide"},
		{[]string{"login", "--kind", "fleet", "--guide", "--domain", "x.example"}, "run this again with --client-id"},
	} {
		if r := e.run("", tc.args...); r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %d %s", tc.args, r.code, r.stderr)
		}
	}
}
