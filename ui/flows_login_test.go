package ui

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
	"github.com/keyfob/keyfob/ui/wizard"
)

// wizardOpen reports whether the wizard is on top.
func (e *flowEnv) wizardOpen() bool {
	_, ok := e.m.dialogs.Top().(*wizard.Model)
	return ok
}

// onForm reports whether the wizard shows its form.
func (e *flowEnv) onForm() bool {
	return e.wizardOpen() && strings.Contains(dialogText(e.m), "next field")
}

// onBrowserStep reports whether the wizard shows its browser step.
func (e *flowEnv) onBrowserStep() bool {
	return e.wizardOpen() && strings.Contains(dialogText(e.m), "open browser again")
}

// loopback reports whether the browser step waits for the browser to come
// back by itself.
func (e *flowEnv) loopback() bool {
	return strings.Contains(dialogText(e.m), "Waiting for the browser to come back")
}

// wizardErr is the error the wizard shows (after its ✗), or "".
func (e *flowEnv) wizardErr() string {
	_, err, _ := strings.Cut(dialogText(e.m), "✗ ")
	return err
}

// redirect is the redirect URI of the last sign-in address.
func (e *flowEnv) redirect(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(e.authURL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("redirect_uri")
}

func TestLoginFleetLoopback(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("n", "enter", "enter") // new login → fleet → na
	if !e.onForm() {
		t.Fatalf("the wizard is not on its form:\n%s", plain(e.m))
	}
	e.d.Press("type:car", "enter")
	e.d.Until("the new account to be saved", e.noModals)

	a, ok := e.storedNamed(t, "car")
	if !ok {
		t.Fatalf("no account named car in the store: %+v", e.stored(t))
	}
	if a.Kind != accounts.KindFleet || a.Email != e.srv.User().Email || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Errorf("stored account = kind %s, email %q, live refresh token %v", a.Kind, a.Email, e.srv.RefreshTokenLive(a.RefreshToken))
	}
	if got := e.srv.Stats().CodeExchanges; got != 1 {
		t.Errorf("code exchanges = %d, want 1", got)
	}
	e.d.Until("the reload to select the new account", func() bool {
		r := e.m.list.Selected()
		return r != nil && r.ID() == a.ID
	})
	if !strings.Contains(plain(e.m), "signed in: car") {
		t.Errorf("no success toast:\n%s", plain(e.m))
	}
}

func TestLoginOwnerPaste(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("n", "down", "enter", "enter", "enter") // owner → na → sign in
	e.d.Until("the paste step", e.onBrowserStep)
	if e.loopback() {
		t.Fatal("an Owner API login should be a paste flow")
	}
	if !strings.Contains(plain(e.m), "Paste the address you landed on") {
		t.Errorf("the paste step does not ask for the address:\n%s", plain(e.m))
	}
	e.d.Until("the browser to be sent to the sign-in page", func() bool { return e.authURL() != "" })
	landed := keyfobtest.Landed(t, e.authURL())
	if !strings.HasPrefix(landed, "tesla://auth/callback?") {
		t.Fatalf("the sandbox sent the browser to %q", landed)
	}
	e.d.Press("paste:"+landed, "enter")
	e.d.Until("the owner account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 || accts[0].Kind != accounts.KindOwner || accts[0].ClientID != "ownerapi" || accts[0].RefreshToken == "" {
		t.Fatalf("store after the owner login: %+v", accts)
	}
}

func TestLoginOwnerBadPasteKeepsTheFlow(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("n", "down", "enter", "enter", "enter")
	e.d.Until("the paste step", e.onBrowserStep)
	e.d.Press("paste:https://example.com/void/callback?state=x", "enter")
	e.d.Until("the paste error", func() bool { return e.wizardErr() != "" })
	if !e.onBrowserStep() {
		t.Fatalf("a bad paste should leave the flow waiting:\n%s", plain(e.m))
	}
	if !strings.Contains(plain(e.m), "no code") {
		t.Errorf("the error does not say what is wrong:\n%s", plain(e.m))
	}
	landed := keyfobtest.Landed(t, e.authURL())
	e.d.Press("ctrl+u", "paste:"+landed, "enter")
	e.d.Until("the account to be saved", e.noModals)
	if len(e.stored(t)) != 1 {
		t.Fatalf("store: %+v", e.stored(t))
	}
}

func TestLoginPartner(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("n", "down", "down", "enter", "down", "enter", "enter") // partner → eu → sign in
	e.d.Until("the partner account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 || accts[0].Kind != accounts.KindPartner || accts[0].Region != "eu" || accts[0].AccessToken == "" || accts[0].RefreshToken != "" {
		t.Fatalf("store after the partner login: %+v", accts)
	}
	if got := e.srv.Stats().ClientCredentials; got != 1 {
		t.Errorf("client-credentials grants = %d, want 1", got)
	}
}

func TestLoginLegacy(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("n", "down", "down", "down", "enter", "enter")
	if f := focusedField(e.m); f != "Password" {
		t.Fatalf("the legacy form should start on the empty password field, not %q", f)
	}
	if strings.Contains(focusedLine(e.m), "•") {
		t.Fatal("the password field is not empty")
	}
	e.d.Press("type:" + e.srv.User().Password)
	if strings.Contains(plain(e.m), e.srv.User().Password) {
		t.Fatal("the password is shown on screen")
	}
	e.d.Press("enter")
	e.d.Until("the legacy account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 || accts[0].Kind != accounts.KindLegacy || accts[0].AccessToken == "" {
		t.Fatalf("store after the legacy login: %+v", accts)
	}
	if got := e.srv.Stats().PasswordGrants; got != 1 {
		t.Errorf("password grants = %d, want 1", got)
	}
}

func TestLoginErrorSaysWhatToDo(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("n", "down", "down", "down", "enter", "enter", "type:wrong-password", "enter")
	e.d.Until("the error", func() bool { return e.wizardErr() != "" })
	if !e.onForm() {
		t.Fatalf("after a failed login the wizard should be back on its form:\n%s", plain(e.m))
	}
	if strings.Contains(plain(e.m), "wrong-password") {
		t.Error("the error shows the password")
	}
	if !strings.Contains(plain(e.m), "✗") {
		t.Errorf("no error on screen:\n%s", plain(e.m))
	}
	if n := len(e.stored(t)); n != 0 {
		t.Errorf("a failed login saved %d accounts", n)
	}
}

func TestLoginValidationNamesTheMissingField(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("n", "enter", "enter", "tab", "ctrl+u", "enter") // clear the client id
	if err := e.wizardErr(); !e.onForm() || !strings.Contains(err, "Client ID") || focusedField(e.m) != "Client ID" {
		t.Fatalf("error %q, focus on %q; want the form with a client-id error", err, focusedField(e.m))
	}
}

// A name held by another login is refused before anything reaches the
// server; the manager's rule decides, as it does for the command line.
func TestLoginRefusesATakenNameBeforeSigningIn(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindPartner,
		sandbox.MintRequest{ClientID: sandbox.PartnerClientID, NoRefresh: true}))
	e.d.Press("n", "enter", "enter", "type:CAR", "enter") // fleet → na, named like the partner account
	e.d.Until("the error", func() bool { return e.wizardErr() != "" })
	if err := e.wizardErr(); !e.onForm() || !strings.Contains(err, "already exists") {
		t.Fatalf("error %q; want the form with a name-taken error:\n%s", err, plain(e.m))
	}
	if st := e.srv.Stats(); st.Authorize != 0 || st.CodeExchanges != 0 {
		t.Errorf("the sign-in went ahead: %+v", st)
	}
	if n := len(e.stored(t)); n != 1 {
		t.Errorf("%d accounts stored", n)
	}
}

func TestLoginEscCancelsAndClosesTheListener(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.setBrowser(func(string) error { return errNoBrowser }) // nobody comes back
	e.d.Press("n", "enter", "enter", "enter")
	e.d.Until("the browser step", e.onBrowserStep)
	if !e.loopback() {
		t.Fatal("a fleet login with no redirect URI should listen on loopback")
	}
	e.d.Until("the no-browser note", func() bool {
		return strings.Contains(plain(e.m), "No browser could be opened") && strings.Contains(plain(e.m), "open the address above yourself")
	})
	u, err := url.Parse(e.redirect(t))
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("redirect %q should be on 127.0.0.1", e.redirect(t))
	}
	if c, err := net.Dial("tcp", u.Host); err != nil {
		t.Fatalf("the listener is not up: %v", err)
	} else {
		c.Close()
	}
	e.d.Press("esc")
	if !e.onForm() || !strings.Contains(dialogText(e.m), "cancelled") {
		t.Fatalf("esc should return to the form with a note:\n%s", plain(e.m))
	}
	e.d.Until("the listener to close", func() bool {
		c, err := net.Dial("tcp", u.Host)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if n := len(e.stored(t)); n != 0 {
		t.Errorf("a cancelled login saved %d accounts", n)
	}
}

// ctrl+c only ends the program; Close, which Run calls after it, closes
// the loopback listener of a login in progress before it returns.
func TestCloseAfterQuitClosesTheListener(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.setBrowser(func(string) error { return errNoBrowser }) // nobody comes back
	e.d.Press("n", "enter", "enter", "enter")
	e.d.Until("the browser step", e.onBrowserStep)
	e.d.Until("the browser to be sent to the sign-in page", func() bool { return e.authURL() != "" })
	u, err := url.Parse(e.redirect(t))
	if err != nil {
		t.Fatal(err)
	}
	e.d.Press("ctrl+c")
	e.d.Until("quit", e.d.quitted)
	if c, err := net.Dial("tcp", u.Host); err != nil {
		t.Fatalf("quit closed the listener before Close: %v", err)
	} else {
		c.Close()
	}
	e.m.Close()
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Fatal("the listener is still up after Close")
	}
	if !e.noModals() {
		t.Error("Close left dialogs open")
	}
}

func TestImportRefreshToken(t *testing.T) {
	t.Parallel()
	var rt string
	e := newFlowEnv(t, sandbox.Options{}, nil)
	rt = e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Scopes: []string{"openid", "offline_access", "vehicle_device_data"}}).RefreshToken
	e.d.Press("i", "enter", "enter") // import → fleet → na
	if f := focusedField(e.m); f != "Refresh token" {
		t.Fatalf("the import form should start on the refresh token, not %q", f)
	}
	e.d.Press("paste:" + rt)
	if strings.Contains(plain(e.m), rt) {
		t.Fatal("the refresh token is shown on screen")
	}
	e.d.Press("enter")
	e.d.Until("the import to finish", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 {
		t.Fatalf("store after import: %+v", accts)
	}
	a := accts[0]
	if a.RefreshToken == rt || !e.srv.RefreshTokenLive(a.RefreshToken) || e.srv.RefreshTokenLive(rt) {
		t.Error("the import should have rotated the refresh token and saved the new one")
	}
	if len(a.GrantedScopes) != 3 || a.Email == "" {
		t.Errorf("the import did not learn scopes and email: %v %q", a.GrantedScopes, a.Email)
	}
	if !strings.Contains(plain(e.m), "imported") {
		t.Errorf("no import toast:\n%s", plain(e.m))
	}
}

func TestImportRejectedTokenShowsTheError(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	e.d.Press("i", "enter", "enter", "paste:NA_not-a-live-token", "enter")
	e.d.Until("the error", func() bool { return e.wizardErr() != "" && e.onForm() })
	if !strings.Contains(e.wizardErr(), "did not accept") {
		t.Errorf("error %q", e.wizardErr())
	}
	if len(e.stored(t)) != 0 {
		t.Error("a rejected import saved an account")
	}
}

func TestLoginCustomWithDiscovery(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	// A custom server the wizard knows nothing of: keyfob's own custom
	// preset, not the demo's (which names the sandbox's endpoints).
	sandboxed := e.logins.Presets
	e.logins.Presets = func(k accounts.Kind, region string) (accounts.Account, error) {
		if k == accounts.KindCustom {
			return oauth.Preset(k, region)
		}
		return sandboxed(k, region)
	}
	e.d.Press("n", "up", "up", "enter", "enter") // custom → code
	if f := focusedField(e.m); f != "Client ID" {
		t.Fatalf("the custom form should start on the empty client id, not %q", f)
	}
	e.d.Press("type:"+sandbox.FleetClientID, "shift+tab", "shift+tab", "shift+tab", "shift+tab")
	if f := focusedField(e.m); f != "Issuer" {
		t.Fatalf("focus on %q, want the issuer", f)
	}
	e.d.Press("type:"+e.srv.Issuer(), "enter")
	e.d.Until("the custom account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 {
		t.Fatalf("store: %+v", accts)
	}
	a := accts[0]
	if a.Kind != accounts.KindCustom || a.Endpoints.RevokeURL != e.srv.Issuer()+"/revoke" || a.Endpoints.TokenURL != e.srv.Issuer()+"/token" {
		t.Errorf("the discovered endpoints were not used: %+v", a.Endpoints)
	}
}

// A loopback login finished by pasting the address (the browser ran on
// another machine) succeeds, even though the paste also ends the wait.
func TestLoginLoopbackFinishedByPaste(t *testing.T) {
	t.Parallel()
	for range 5 { // the race it guards against is one of timing
		e := newFlowEnv(t, sandbox.Options{}, nil)
		e.setBrowser(func(string) error { return errNoBrowser }) // nobody comes back
		e.d.Press("n", "enter", "enter", "enter")
		e.d.Until("the browser step", e.onBrowserStep)
		if !e.loopback() {
			t.Fatal("a fleet login with no redirect URI should listen on loopback")
		}
		e.d.Until("the browser to be sent to the sign-in page", func() bool { return e.authURL() != "" })
		landed := keyfobtest.Landed(t, e.authURL())
		e.d.Press("paste:"+landed, "enter")
		e.d.Until("the account to be saved", e.noModals)
		if n := len(e.stored(t)); n != 1 {
			t.Fatalf("%d accounts stored", n)
		}
		if strings.Contains(plain(e.m), "cancelled") {
			t.Fatalf("the login was reported as cancelled:\n%s", plain(e.m))
		}
	}
}

func TestRequiredFieldIsFocusedWithItsHelp(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 100, 30)
	press(m, "n", "down", "down", "enter", "enter", "type:my-app", "enter") // partner: a client id but no secret
	if f, text := focusedField(m), dialogText(m); f != "Secret" || !strings.Contains(text, "✗ Secret is required. The client secret") {
		t.Fatalf("focus on %q, dialog %q; want the secret field and its requirement", f, text)
	}
}
