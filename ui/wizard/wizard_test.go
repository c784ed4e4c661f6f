package wizard

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// newCommon is what the wizard shares with the root, on a 100×30
// terminal, with Tesla's logins over a store of its own.
func newCommon(t *testing.T) *common.Common {
	t.Helper()
	engine := &oauth.Engine{}
	mgr := keyfobtest.Manager(t, nil, accounts.Options{Auth: engine})
	c := keyfobtest.Common(t, 100, 30)
	c.Manager, c.Engine = mgr, engine
	c.Logins = common.LoginsOf(&oauth.Logins{Engine: engine, Manager: mgr})
	return c
}

// formAt opens the form of a kind and grant directly.
func formAt(c *common.Common, p Purpose, k accounts.Kind, grant string) *Model {
	w := New(c, p)
	w.kind, w.grant = k, grant
	if k != accounts.KindCustom {
		w.region = "na"
	}
	w.buildForm()
	return w
}

// The form lists the fields the requirements table shows, in its order,
// with a * on those the user must fill in: a custom account's import has
// no Auth URL (a refresh needs none), a Fleet login has no issuer.
func TestFormFollowsTheRequirementsTable(t *testing.T) {
	c := newCommon(t)
	grants := []string{accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials}
	for _, p := range []Purpose{purposeLogin, purposeImport} {
		for _, k := range accounts.Kinds {
			for _, g := range grants {
				reqs := oauth.Requirements(p, k, g)
				if reqs == nil || (k != accounts.KindCustom && g != accounts.GrantCode) || (p == purposeImport && g != accounts.GrantCode) {
					continue
				}
				w := formAt(c, p, k, g)
				var want, got []oauth.Field
				for _, r := range reqs {
					if !r.Hidden {
						want = append(want, r.Field)
					}
				}
				for _, f := range w.form.fields {
					got = append(got, f.req.Field)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%v %s/%s: form %v, want %v", p, k, g, got, want)
				}
				lines := strings.Split(ansi.Strip(w.formView()), "\n")
				for i, f := range w.form.fields {
					starred := strings.Contains(string([]rune(lines[i])[:2+labelWidth]), "*")
					if starred != (f.req.Need == oauth.NeedRequired) {
						t.Errorf("%v %s/%s: %s starred %v, need %v", p, k, g, f.req.Field, starred, f.req.Need)
					}
				}
			}
		}
	}
	w := formAt(c, purposeImport, accounts.KindCustom, "")
	if w.form.index(oauth.FieldAuthURL) >= 0 || strings.Contains(ansi.Strip(w.View()), "Auth URL") {
		t.Error("the import form of a custom account asks for an Auth URL")
	}
	if w.form.index(oauth.FieldTokenURL) < 0 || w.form.index(oauth.FieldRefreshToken) < 0 {
		t.Error("the import form of a custom account lacks the token URL or the refresh token")
	}
}

// The engine's validation speaks of fields, not of flags; the form names
// its own field and puts the focus on the one to fix.
func TestValidationErrorsNameFormFields(t *testing.T) {
	c := newCommon(t)
	baseline := map[oauth.Field]string{
		oauth.FieldClientID: "app", oauth.FieldClientSecret: "s", oauth.FieldEmail: "me@example.com", oauth.FieldPassword: "pw",
		oauth.FieldAuthURL: "https://id.example/authorize", oauth.FieldTokenURL: "https://id.example/token",
		oauth.FieldRedirectURI: "http://127.0.0.1:8976/callback",
	}
	edits := []struct {
		f oauth.Field
		v string
	}{
		{oauth.FieldAuthURL, ""}, {oauth.FieldAuthURL, "ftp://id.example/authorize"}, {oauth.FieldTokenURL, ""},
		{oauth.FieldTokenURL, "https://me:pw@id.example/token"}, {oauth.FieldAudience, ""}, {oauth.FieldRedirectURI, "::bad"},
		{oauth.FieldRevokeURL, "nope"}, {oauth.FieldBaseURL, ""}, {oauth.FieldBaseURL, "owner-api"},
	}
	form := func(k accounts.Kind, grant string) *Model {
		w := formAt(c, purposeLogin, k, grant)
		for f, v := range baseline {
			if i := w.form.index(f); i >= 0 {
				w.form.fields[i].input.SetValue(v)
			}
		}
		return w
	}
	failures := 0
	for _, k := range accounts.Kinds {
		for _, grant := range []string{accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials} {
			if k != accounts.KindCustom && grant != accounts.GrantCode {
				continue
			}
			w := form(k, grant)
			w.submit()
			w.abandon()
			if w.err != "" {
				t.Fatalf("%s/%s: the baseline form fails: %s", k, grant, w.err)
			}
			for _, e := range edits {
				w := form(k, grant)
				i := w.form.index(e.f)
				if i < 0 {
					continue
				}
				w.form.fields[i].input.SetValue(e.v)
				w.submit()
				w.abandon()
				if w.err == "" {
					continue
				}
				failures++
				label := textOf(e.f).label
				if strings.Contains(w.err, "--") || strings.Contains(w.err, "KEYFOB_") || !strings.Contains(w.err, label) {
					t.Errorf("%s/%s, %s = %q: %q names a flag, not the field", k, grant, label, e.v, w.err)
				}
				if got := w.form.fields[w.form.focus].req.Field; got != e.f {
					t.Errorf("%s/%s, %s = %q: the focus is on %s", k, grant, label, e.v, got)
				}
			}
		}
	}
	if failures < 10 {
		t.Fatalf("only %d validation failures exercised", failures)
	}
}

// A *oauth.FieldError focuses the field it names, in the form's words: fix
// a value that is there, fill in one that is not (or the issuer instead).
func TestFieldErrorFocusesItsField(t *testing.T) {
	for _, tc := range []struct {
		field oauth.Field
		value string
		want  string
	}{
		{oauth.FieldTokenURL, "https://x.example/token", "the problem; fix Token URL"},
		{oauth.FieldTokenURL, "", "the problem; fill in Token URL (or an Issuer)"},
		{oauth.FieldRevokeURL, "", "the problem; fill in Revoke URL"},
		{oauth.FieldClientSecret, "s", "the problem; fix Secret"},
		{oauth.FieldUserInfoURL, "", "the problem"}, // not in the form: nothing to focus
	} {
		c := newCommon(t)
		c.Logins = keyfobtest.Logins{Logins: c.Logins, PrepareErr: &oauth.FieldError{Field: tc.field, Problem: "the problem"}}
		w := formAt(c, purposeLogin, accounts.KindCustom, accounts.GrantCode)
		w.form.fields[w.form.index(oauth.FieldClientID)].input.SetValue("app")
		if i := w.form.index(tc.field); i >= 0 {
			w.form.fields[i].input.SetValue(tc.value)
		}
		w.Update(keyfobtest.Key("enter"))
		if w.err != tc.want {
			t.Errorf("%s: error %q, want %q", tc.field, w.err, tc.want)
		}
		focus := w.form.fields[w.form.focus].req.Field
		if w.form.index(tc.field) >= 0 && focus != tc.field {
			t.Errorf("%s: the focus is on %s", tc.field, focus)
		}
		if w.step != stepFields {
			t.Errorf("%s: the wizard left its form", tc.field)
		}
	}
}

// run runs cmd and hands every message it makes back to w, as a program
// would (a batch's commands one after the other); it returns the last
// decision.
func run(w *Model, cmd tea.Cmd) any {
	var action any
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case discoveredMsg, begunMsg, browsedMsg, doneMsg:
			a, next := w.Update(msg)
			if a != nil {
				action = a
			}
			queue = append(queue, next)
		}
	}
	return action
}

// A bad paste keeps the sign-in waiting for another; a good one saves;
// esc on the browser step closes the sign-in and returns to the form.
func TestPasteSignIn(t *testing.T) {
	c := newCommon(t)
	s := keyfobtest.PasteSignIn().FailPaste(errors.New("the pasted URL has no code"))
	c.Logins = keyfobtest.Logins{Logins: c.Logins, SignIn: s}
	w := formAt(c, purposeLogin, accounts.KindOwner, "")
	_, cmd := w.Update(keyfobtest.Key("enter"))
	run(w, cmd)
	if w.step != stepBrowser {
		t.Fatalf("step %v after submitting, want the browser step", w.step)
	}
	w.paste.SetValue("tesla://auth/callback?state=x")
	_, cmd = w.Update(keyfobtest.Key("enter"))
	if a := run(w, cmd); a != nil || w.step != stepBrowser || w.run.signIn == nil || !strings.Contains(w.err, "no code") {
		t.Fatalf("a bad paste: decision %v, step %v, error %q; want the sign-in still waiting", a, w.step, w.err)
	}
	s.FailPaste(nil)
	_, cmd = w.Update(keyfobtest.Key("enter"))
	if a, ok := run(w, cmd).(Saved); !ok || a.Account.Name != "car" {
		t.Fatalf("a good paste decided %v, want Saved", a)
	}

	s = keyfobtest.PasteSignIn()
	c.Logins = keyfobtest.Logins{Logins: c.Logins.(keyfobtest.Logins).Logins, SignIn: s}
	w = formAt(c, purposeLogin, accounts.KindOwner, "")
	_, cmd = w.Update(keyfobtest.Key("enter"))
	run(w, cmd)
	w.Update(keyfobtest.Key("esc"))
	if w.step != stepFields || !strings.Contains(w.note, "cancelled") {
		t.Fatalf("esc: step %v, note %q", w.step, w.note)
	}
	for range 100 {
		if s.Closed() {
			return
		}
		ctxWait()
	}
	t.Error("esc did not close the sign-in")
}

// An import cannot be abandoned mid-request: esc only explains.
func TestImportHoldsOn(t *testing.T) {
	c := newCommon(t)
	w := formAt(c, purposeImport, accounts.KindFleet, "")
	w.form.fields[w.form.index(oauth.FieldRefreshToken)].input.SetValue("NA_not-a-live-token")
	w.form.fields[w.form.index(oauth.FieldClientID)].input.SetValue("app")
	w.Update(keyfobtest.Key("enter")) // the import's command is not run
	if w.step != stepWorking || !w.run.holdOn {
		t.Fatalf("step %v, hold on %v after submitting an import", w.step, w.run.holdOn)
	}
	w.Update(keyfobtest.Key("esc"))
	if w.step != stepWorking || !strings.Contains(w.note, "could lose it") {
		t.Fatalf("esc during an import: step %v, note %q", w.step, w.note)
	}
	w.abandon()
}

// Every step's hint line names exactly its enabled keys.
func TestStepHints(t *testing.T) {
	c := newCommon(t)
	w := New(c, purposeLogin)
	hint := func() string {
		lines := strings.Split(ansi.Strip(w.View()), "\n")
		return strings.Trim(strings.TrimSpace(lines[len(lines)-2]), "│ ")
	}
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{nil, "↑/↓ choose • enter next • esc cancel"},
		{[]string{"enter"}, "↑/↓ choose • enter next • esc back"},
		{[]string{"enter"}, "tab/↓ next field • enter sign in • esc back"},
	} {
		for _, k := range tc.keys {
			w.Update(keyfobtest.Key(k))
		}
		if got := hint(); got != tc.want {
			t.Errorf("hint %q, want %q", got, tc.want)
		}
	}
	w.Update(keyfobtest.Key("esc"))
	w.Update(keyfobtest.Key("esc"))
	if a, _ := w.Update(keyfobtest.Key("esc")); a != (dialog.Close{}) {
		t.Errorf("esc on the first page decided %v, want Close", a)
	}
	imp := formAt(c, purposeImport, accounts.KindFleet, "")
	if got := common.Shown(imp.ShortHelp()); len(got) != 3 || got[1].Help().Desc != "import" {
		t.Errorf("the import form's keys: %v", got)
	}
	w.step, w.run.exchanging = stepBrowser, true
	for _, b := range common.Shown(w.ShortHelp()) {
		if b.Help().Desc == "use the pasted address" {
			t.Error("enter is offered while a pasted address is being exchanged")
		}
	}
}

// ctxWait gives a background Close a moment.
func ctxWait() { <-time.After(10 * time.Millisecond) }

// The kind chooser says, under the owner kind, that Tesla is closing the
// Owner API and that a Fleet API app of one's own is the durable path;
// the other kinds carry no such note.
func TestOwnerKindSaysTheOwnerAPIIsClosing(t *testing.T) {
	w := New(newCommon(t), purposeLogin)
	closing := "Tesla is closing the Owner API"
	if strings.Contains(ansi.Strip(w.View()), closing) {
		t.Fatal("the note shows under the fleet kind")
	}
	w.Update(keyfobtest.Key("down"))
	view := strings.Join(strings.Fields(strings.ReplaceAll(ansi.Strip(w.View()), "│", " ")), " ")
	if w.kinds[w.kindIdx] != accounts.KindOwner || !strings.Contains(view, closing) ||
		!strings.Contains(view, "Fleet API app of your own is the durable path") {
		t.Fatalf("owner highlighted:\n%s", w.View())
	}
}
