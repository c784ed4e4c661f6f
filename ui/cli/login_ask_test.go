package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// scriptedAsker answers a terminal's questions from a script, in order,
// and records what was asked.
type scriptedAsker struct {
	t       *testing.T
	answers []answer
	asked   []string
}

// answer is the answer to one question: a choice, field values, or an
// error (the user left).
type answer struct {
	choose string
	fields map[oauth.Field]string
	err    error
}

func (s *scriptedAsker) next(q string) answer {
	s.t.Helper()
	s.asked = append(s.asked, q)
	if len(s.answers) == 0 {
		s.t.Fatalf("asked %s, but the script has no more answers (asked so far: %q)", q, s.asked)
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a
}

func (s *scriptedAsker) Choose(_ context.Context, question string, choices []Choice, value *string) error {
	a := s.next("choose " + question)
	if a.err != nil {
		return a.err
	}
	if !slices.ContainsFunc(choices, func(c Choice) bool { return c.Value == a.choose }) {
		s.t.Fatalf("%q is not among the choices of %q: %v", a.choose, question, choices)
	}
	*value = a.choose
	return nil
}

func (s *scriptedAsker) Fields(_ context.Context, title, note string, k accounts.Kind, reqs []oauth.Requirement, values oauth.Inputs) error {
	var names []string
	for _, r := range reqs {
		names = append(names, string(r.Field))
	}
	a := s.next(fmt.Sprintf("fields %s [%s] %q %q", k, strings.Join(names, " "), title, note))
	if a.err != nil {
		return a.err
	}
	for f, v := range a.fields {
		if !slices.ContainsFunc(reqs, func(r oauth.Requirement) bool { return r.Field == f }) {
			s.t.Fatalf("the script answers %s, which was not asked: %v", f, names)
		}
		values[f] = v
	}
	return nil
}

func (s *scriptedAsker) Confirm(_ context.Context, question, _ string, yes *bool) error {
	a := s.next("confirm " + question)
	*yes = a.choose == "yes"
	return a.err
}

// In a terminal, a login whose flags leave required fields out asks for
// all of them at once, as the wizard's form would, then signs in.
func TestLoginAsksForWhatTheFlagsLeaveOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ask := &scriptedAsker{t: t, answers: []answer{
		{choose: "yes"}, // an app of one's own already: no guide
		{fields: map[oauth.Field]string{oauth.FieldClientID: sandbox.FleetClientID, oauth.FieldRedirectURI: e.fleetRedirect()}},
	}}
	r := e.invoke(call{inTTY: true, asker: ask}, "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--name", "car")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	want := []string{"confirm Do you have a Fleet API app of your own at developer.tesla.com?",
		`fields fleet [client_id redirect_uri] "" "a fleet account needs the client id."`}
	if !slices.Equal(ask.asked, want) {
		t.Fatalf("asked %q, want %q", ask.asked, want)
	}
	if a := e.account("car"); a.ClientID != sandbox.FleetClientID || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatalf("stored %+v", a)
	}
}

// A value that is wrong is asked for again, with what is wrong with it;
// the flags that were right are not asked again.
func TestLoginAsksAgainForAWrongValue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ask := &scriptedAsker{t: t, answers: []answer{
		{fields: map[oauth.Field]string{oauth.FieldRedirectURI: "callback"}},
		{fields: map[oauth.Field]string{oauth.FieldRedirectURI: e.fleetRedirect()}},
	}}
	r := e.invoke(call{inTTY: true, asker: ask}, "login", "--kind", "fleet", "--issuer", e.srv.URL(),
		"--client-id", sandbox.FleetClientID, "--redirect-uri", "not a uri", "--name", "car")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if len(ask.asked) != 2 || !strings.HasPrefix(ask.asked[0], "fields fleet [redirect_uri]") ||
		!strings.HasPrefix(ask.asked[1], "fields fleet [redirect_uri]") {
		t.Fatalf("asked %q", ask.asked)
	}
	if e.account("car").Endpoints.RedirectURI == "callback" {
		t.Fatal("the wrong redirect URI was kept")
	}
}

// `keyfob login` with no flag in a terminal asks the wizard's questions:
// kind, then (custom) the grant, then every field the wizard's form shows
// for them; the answers sign in as the flags would.
func TestBareLoginAsksTheWizardsQuestions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ask := &scriptedAsker{t: t, answers: []answer{
		{choose: "custom"}, {choose: accounts.GrantCode},
		{fields: map[oauth.Field]string{
			oauth.FieldName: "mine", oauth.FieldIssuer: e.srv.URL(), oauth.FieldClientID: sandbox.FleetClientID,
			oauth.FieldScopes: "openid offline_access", oauth.FieldRedirectURI: e.fleetRedirect(),
		}},
	}}
	r := e.invoke(call{inTTY: true, asker: ask}, "login")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var shown []string
	for _, q := range oauth.Requirements(oauth.PurposeLogin, accounts.KindCustom, accounts.GrantCode) {
		if !q.Hidden {
			shown = append(shown, string(q.Field))
		}
	}
	want := []string{"choose What kind of account?", "choose How does the server sign you in?",
		fmt.Sprintf("fields custom [%s] %q \"\"", strings.Join(shown, " "), "New login · custom · code")}
	if !slices.Equal(ask.asked, want) {
		t.Fatalf("asked\n%q\nwant\n%q", ask.asked, want)
	}
	a := e.account("mine")
	if a.Kind != accounts.KindCustom || a.ClientID != sandbox.FleetClientID || a.RefreshToken == "" {
		t.Fatalf("stored %+v", a)
	}
}

// A Tesla kind chosen at the prompt is followed by its region, and the
// form starts from that region's preset.
func TestBareLoginAsksTheRegionOfATeslaKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	secret := "s3cret-from-the-prompt"
	ask := &scriptedAsker{t: t, answers: []answer{
		{choose: "partner"}, {choose: "eu"},
		{fields: map[oauth.Field]string{oauth.FieldClientID: "app", oauth.FieldClientSecret: secret,
			oauth.FieldTokenURL: "not a url"}},
		{fields: map[oauth.Field]string{oauth.FieldTokenURL: e.srv.URL() + "/oauth2/v3/token"}},
	}}
	r := e.invoke(call{inTTY: true, asker: ask}, "login")
	if len(ask.asked) < 3 || ask.asked[1] != "choose Which region is the account in?" ||
		!strings.Contains(ask.asked[2], `"New login · partner · eu"`) {
		t.Fatalf("asked %q", ask.asked)
	}
	if len(ask.asked) != 4 || !strings.HasPrefix(ask.asked[3], "fields partner [token_url]") {
		t.Fatalf("the wrong token URL was not asked again: %q", ask.asked)
	}
	if strings.Contains(r.stderr, secret) {
		t.Fatal("the client secret reached stderr")
	}
	if r.code != 1 || !strings.Contains(r.stderr, "invalid_client") {
		t.Fatalf("the sandbox knows no client \"app\": exit %d\n%s", r.code, r.stderr)
	}
}

// Leaving a question saves nothing and says so; without a terminal
// nothing is asked and the missing flag is named, as before.
func TestLoginQuestionsLeftOrNoTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ask := &scriptedAsker{t: t, answers: []answer{{err: ErrAborted}}}
	r := e.invoke(call{inTTY: true, asker: ask}, "login")
	if r.code != ExitError || !strings.Contains(r.stderr, "cancelled at the prompt; nothing was saved") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if len(e.storeBytes()) != 0 {
		t.Fatal("a store was written")
	}
	r = e.run("", "login", "--kind", "fleet", "--issuer", e.srv.URL())
	if r.code != ExitUsage || !strings.Contains(r.stderr, "needs the client id") || !strings.Contains(r.stderr, "--client-id") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// An import with no flag in a terminal asks for the kind, the region and
// the import form's fields, the refresh token among them (masked).
func TestBareImportAsksTheFormsQuestions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Scopes: []string{"openid", "offline_access"}})
	ask := &scriptedAsker{t: t, answers: []answer{
		{choose: "fleet"}, {choose: "na"},
		{fields: map[oauth.Field]string{oauth.FieldName: "car", oauth.FieldRefreshToken: ts.RefreshToken,
			oauth.FieldClientID: sandbox.FleetClientID, oauth.FieldTokenURL: e.srv.URL() + "/oauth2/v3/token"}},
	}}
	r := e.invoke(call{inTTY: true, asker: ask}, "import")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\nasked %q", r.code, r.stderr, ask.asked)
	}
	if ask.asked[0] != "choose What kind of account is the refresh token from?" {
		t.Fatalf("asked %q", ask.asked)
	}
	if a := e.account("car"); a.RefreshToken == ts.RefreshToken || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatal("the imported token was not rotated and saved")
	}
}
