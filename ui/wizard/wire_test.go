package wizard

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// redirectMemory is logins that remember redirect URIs by client id.
type redirectMemory struct {
	keyfobtest.Logins
	uris map[string]string
}

func (l redirectMemory) RedirectFor(clientID string) string { return l.uris[clientID] }

// A fleet form's redirect URI comes from the memory of the client id in
// the form, follows a new client id while the user has not typed one, and
// is never put over one the user typed.
func TestFleetRedirectComesFromMemory(t *testing.T) {
	c := newCommon(t)
	c.Logins = redirectMemory{Logins: keyfobtest.Logins{Logins: c.Logins},
		uris: map[string]string{"app": "http://localhost:8976/callback", "other": "https://other.example/cb"}}
	w := formAt(c, purposeLogin, accounts.KindFleet, "")
	id, redirect := w.form.index(oauth.FieldClientID), w.form.index(oauth.FieldRedirectURI)
	if w.form.focus != id || w.form.value(oauth.FieldRedirectURI) != "" {
		t.Fatalf("focus %d, redirect %q: want the client id first and no redirect URI yet", w.form.focus, w.form.value(oauth.FieldRedirectURI))
	}
	w.form.fields[id].input.SetValue("app")
	w.Update(keyfobtest.Key("tab"))
	if got := w.form.value(oauth.FieldRedirectURI); got != "http://localhost:8976/callback" {
		t.Fatalf("after the client id: redirect %q", got)
	}
	w.form.focusOn(redirect)
	if view := ansi.Strip(w.View()); !strings.Contains(strings.Join(strings.Fields(view), " "), "Remembered from the last sign-in of this app") {
		t.Errorf("the help does not say where the redirect URI came from:\n%s", view)
	}
	w.form.fields[id].input.SetValue("other")
	w.Update(keyfobtest.Key("tab"))
	if got := w.form.value(oauth.FieldRedirectURI); got != "https://other.example/cb" {
		t.Fatalf("after another client id: redirect %q", got)
	}
	w.form.fields[redirect].input.SetValue("http://127.0.0.1:9000/mine")
	w.form.fields[id].input.SetValue("app")
	w.Update(keyfobtest.Key("tab"))
	if got := w.form.value(oauth.FieldRedirectURI); got != "http://127.0.0.1:9000/mine" {
		t.Fatalf("the user's own redirect URI was replaced by %q", got)
	}
	// Without one, the form names the field and says where to find it.
	w = formAt(c, purposeLogin, accounts.KindFleet, "")
	w.form.fields[id].input.SetValue("unknown-app")
	w.Update(keyfobtest.Key("enter"))
	if w.form.fields[w.form.focus].req.Field != oauth.FieldRedirectURI || !strings.Contains(w.err, "Redirect URI is required") ||
		!strings.Contains(w.err, "developer.tesla.com") {
		t.Fatalf("focus %s, error %q", w.form.fields[w.form.focus].req.Field, w.err)
	}
}

// A plain http endpoint off loopback is refused in the wizard, which says
// that only the command line's opt-in allows it.
func TestPlainHTTPNeedsTheCommandLine(t *testing.T) {
	w := formAt(newCommon(t), purposeLogin, accounts.KindCustom, accounts.GrantClientCredentials)
	for f, v := range map[oauth.Field]string{oauth.FieldTokenURL: "http://auth.example.com/token", oauth.FieldClientID: "app",
		oauth.FieldClientSecret: "s"} {
		w.form.fields[w.form.index(f)].input.SetValue(v)
	}
	w.Update(keyfobtest.Key("enter"))
	if !strings.Contains(w.err, "plain http") || !strings.Contains(w.err, "keyfob login --insecure-http") ||
		w.form.fields[w.form.focus].req.Field != oauth.FieldTokenURL {
		t.Fatalf("error %q", w.err)
	}
}

// The paste step says where to find the address; on a short screen its
// help shows a window that pgdn and pgup scroll, within its lines.
func TestPasteHelpScrolls(t *testing.T) {
	c := newCommon(t)
	c.Height = 22
	c.Logins = keyfobtest.Logins{Logins: c.Logins, SignIn: keyfobtest.PasteSignIn()}
	w := formAt(c, purposeLogin, accounts.KindOwner, "")
	_, cmd := w.Update(keyfobtest.Key("enter"))
	run(w, cmd)
	view := func() string { return strings.Join(strings.Fields(ansi.Strip(w.View())), " ") }
	first := view()
	if !strings.Contains(first, "Browsers cannot open tesla:// addresses") || !strings.Contains(first, "pgdn/pgup: more of this help (1–") {
		t.Fatalf("the paste step on a short screen:\n%s", ansi.Strip(w.View()))
	}
	pgdn, pgup := tea.KeyPressMsg{Code: tea.KeyPgDown}, tea.KeyPressMsg{Code: tea.KeyPgUp}
	for range 20 {
		w.Update(pgdn)
	}
	last := view()
	if strings.Contains(last, "Browsers cannot open") || !strings.Contains(last, "just the code") || !strings.Contains(last, " of 18 lines)") {
		t.Fatalf("scrolled to the end:\n%s", ansi.Strip(w.View()))
	}
	for range 20 {
		w.Update(pgup)
	}
	if view() != first {
		t.Fatalf("scrolled back:\n%s", ansi.Strip(w.View()))
	}
	// On a screen tall enough, everything shows and nothing scrolls.
	c.Height = 50
	if v := view(); strings.Contains(v, "more of this help") || !strings.Contains(v, "just the code") || !strings.Contains(v, "Browsers cannot open") {
		t.Fatalf("a tall screen:\n%s", ansi.Strip(w.View()))
	}
}
