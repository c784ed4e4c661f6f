package ui

import (
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/oauthtest"
	"github.com/keyfob/keyfob/ui/clipboard"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/list"
	"github.com/keyfob/keyfob/ui/wizard"
)

// row is the i-th account of the list.
func (e *flowEnv) row(i int) *list.Row { return e.m.list.Rows()[i] }

// shownNames are the names of the rows on screen, in order.
func shownNames(m *Model) []string {
	var out []string
	in := false
	for _, l := range strings.Split(plain(m), "\n") {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "NAME"):
			in = true
		case in && strings.TrimSpace(l) == "":
			return out
		case in:
			out = append(out, strings.Fields(strings.TrimPrefix(l, "› "))[0])
		}
	}
	return out
}

// noModals reports whether every dialog is closed.
func (e *flowEnv) noModals() bool { return e.m.dialogs.Len() == 0 }

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
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "enter", "enter") // new login → fleet → na
	if !e.onForm() {
		t.Fatalf("the wizard is not on its form:\n%s", plain(e.m))
	}
	e.d.press("type:car", "enter")
	e.d.until("the new account to be saved", e.noModals)

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
	e.d.until("the reload to select the new account", func() bool {
		r := e.m.list.Selected()
		return r != nil && r.Acct.ID == a.ID
	})
	if !strings.Contains(plain(e.m), "signed in: car") {
		t.Errorf("no success toast:\n%s", plain(e.m))
	}
}

func TestLoginOwnerPaste(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "down", "enter", "enter", "enter") // owner → na → sign in
	e.d.until("the paste step", e.onBrowserStep)
	if e.loopback() {
		t.Fatal("an Owner API login should be a paste flow")
	}
	if !strings.Contains(plain(e.m), "Paste the address you landed on") {
		t.Errorf("the paste step does not ask for the address:\n%s", plain(e.m))
	}
	e.d.until("the browser to be sent to the sign-in page", func() bool { return e.authURL() != "" })
	landed := landedAt(t, e.authURL())
	if !strings.HasPrefix(landed, "tesla://auth/callback?") {
		t.Fatalf("the sandbox sent the browser to %q", landed)
	}
	e.d.press("paste:"+landed, "enter")
	e.d.until("the owner account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 || accts[0].Kind != accounts.KindOwner || accts[0].ClientID != "ownerapi" || accts[0].RefreshToken == "" {
		t.Fatalf("store after the owner login: %+v", accts)
	}
}

func TestLoginOwnerBadPasteKeepsTheFlow(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "down", "enter", "enter", "enter")
	e.d.until("the paste step", e.onBrowserStep)
	e.d.press("paste:https://example.com/void/callback?state=x", "enter")
	e.d.until("the paste error", func() bool { return e.wizardErr() != "" })
	if !e.onBrowserStep() {
		t.Fatalf("a bad paste should leave the flow waiting:\n%s", plain(e.m))
	}
	if !strings.Contains(plain(e.m), "no code") {
		t.Errorf("the error does not say what is wrong:\n%s", plain(e.m))
	}
	landed := landedAt(t, e.authURL())
	e.d.press("ctrl+u", "paste:"+landed, "enter")
	e.d.until("the account to be saved", e.noModals)
	if len(e.stored(t)) != 1 {
		t.Fatalf("store: %+v", e.stored(t))
	}
}

func TestLoginPartner(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "down", "down", "enter", "down", "enter", "enter") // partner → eu → sign in
	e.d.until("the partner account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 || accts[0].Kind != accounts.KindPartner || accts[0].Region != "eu" || accts[0].AccessToken == "" || accts[0].RefreshToken != "" {
		t.Fatalf("store after the partner login: %+v", accts)
	}
	if got := e.srv.Stats().ClientCredentials; got != 1 {
		t.Errorf("client-credentials grants = %d, want 1", got)
	}
}

func TestLoginLegacy(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "down", "down", "down", "enter", "enter")
	if f := focusedField(e.m); f != "Password" {
		t.Fatalf("the legacy form should start on the empty password field, not %q", f)
	}
	if strings.Contains(focusedLine(e.m), "•") {
		t.Fatal("the password field is not empty")
	}
	e.d.press("type:" + e.srv.User().Password)
	if strings.Contains(plain(e.m), e.srv.User().Password) {
		t.Fatal("the password is shown on screen")
	}
	e.d.press("enter")
	e.d.until("the legacy account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 || accts[0].Kind != accounts.KindLegacy || accts[0].AccessToken == "" {
		t.Fatalf("store after the legacy login: %+v", accts)
	}
	if got := e.srv.Stats().PasswordGrants; got != 1 {
		t.Errorf("password grants = %d, want 1", got)
	}
}

func TestLoginErrorSaysWhatToDo(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "down", "down", "down", "enter", "enter", "type:wrong-password", "enter")
	e.d.until("the error", func() bool { return e.wizardErr() != "" })
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
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "enter", "enter", "tab", "ctrl+u", "enter") // clear the client id
	if err := e.wizardErr(); !e.onForm() || !strings.Contains(err, "Client ID") || focusedField(e.m) != "Client ID" {
		t.Fatalf("error %q, focus on %q; want the form with a client-id error", err, focusedField(e.m))
	}
}

// A name held by another login is refused before anything reaches the
// server; the manager's rule decides, as it does for the command line.
func TestLoginRefusesATakenNameBeforeSigningIn(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindPartner,
		oauthtest.MintRequest{ClientID: oauthtest.PartnerClientID, NoRefresh: true}))
	e.d.press("n", "enter", "enter", "type:CAR", "enter") // fleet → na, named like the partner account
	e.d.until("the error", func() bool { return e.wizardErr() != "" })
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
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.setBrowser(func(string) error { return errNoBrowser }) // nobody comes back
	e.d.press("n", "enter", "enter", "enter")
	e.d.until("the browser step", e.onBrowserStep)
	if !e.loopback() {
		t.Fatal("a fleet login with no redirect URI should listen on loopback")
	}
	e.d.until("the no-browser note", func() bool { return strings.Contains(plain(e.m), "could not open a browser") })
	u, err := url.Parse(e.redirect(t))
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("redirect %q should be on 127.0.0.1", e.redirect(t))
	}
	if c, err := net.Dial("tcp", u.Host); err != nil {
		t.Fatalf("the listener is not up: %v", err)
	} else {
		c.Close()
	}
	e.d.press("esc")
	if !e.onForm() || !strings.Contains(dialogText(e.m), "cancelled") {
		t.Fatalf("esc should return to the form with a note:\n%s", plain(e.m))
	}
	e.d.until("the listener to close", func() bool {
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
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.setBrowser(func(string) error { return errNoBrowser }) // nobody comes back
	e.d.press("n", "enter", "enter", "enter")
	e.d.until("the browser step", e.onBrowserStep)
	e.d.until("the browser to be sent to the sign-in page", func() bool { return e.authURL() != "" })
	u, err := url.Parse(e.redirect(t))
	if err != nil {
		t.Fatal(err)
	}
	e.d.press("ctrl+c")
	e.d.until("quit", e.d.quitted)
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
	var rt string
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	rt = e.srv.Mint(oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, Scopes: []string{"openid", "offline_access", "vehicle_device_data"}}).RefreshToken
	e.d.press("i", "enter", "enter") // import → fleet → na
	if f := focusedField(e.m); f != "Refresh token" {
		t.Fatalf("the import form should start on the refresh token, not %q", f)
	}
	e.d.press("paste:" + rt)
	if strings.Contains(plain(e.m), rt) {
		t.Fatal("the refresh token is shown on screen")
	}
	e.d.press("enter")
	e.d.until("the import to finish", e.noModals)
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
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("i", "enter", "enter", "paste:NA_not-a-live-token", "enter")
	e.d.until("the error", func() bool { return e.wizardErr() != "" && e.onForm() })
	if !strings.Contains(e.wizardErr(), "did not accept") {
		t.Errorf("error %q", e.wizardErr())
	}
	if len(e.stored(t)) != 0 {
		t.Error("a rejected import saved an account")
	}
}

func seedOne(kind accounts.Kind, req oauthtest.MintRequest) func(*oauthtest.Server) []accounts.Account {
	return func(s *oauthtest.Server) []accounts.Account {
		return []accounts.Account{minted(s, "1d000001", "car", kind, req)}
	}
}

func TestRefresh(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: -time.Minute}))
	before := e.stored(t)[0]
	e.d.press("r")
	if !e.row(0).Busy {
		t.Fatal("r did not start a refresh")
	}
	if !strings.Contains(plain(e.m), "refreshing") {
		t.Errorf("the status does not show the refresh:\n%s", plain(e.m))
	}
	e.d.until("the refresh to finish", func() bool { return !e.row(0).Busy })
	after := e.stored(t)[0]
	if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || !after.Expiry.After(time.Now()) {
		t.Error("the store does not hold the new tokens")
	}
	if e.srv.RefreshTokenLive(before.RefreshToken) {
		t.Error("the old refresh token is still live: the rotation was not used")
	}
	if got := e.srv.Stats().Refreshes; got != 1 {
		t.Errorf("refreshes = %d, want 1", got)
	}
	if !strings.Contains(plain(e.m), "refreshed car") {
		t.Errorf("no toast:\n%s", plain(e.m))
	}
}

func TestRefreshAll(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, func(s *oauthtest.Server) []accounts.Account {
		var out []accounts.Account
		for i, n := range []string{"a", "b", "c"} {
			out = append(out, minted(s, "1d00000"+string(rune('1'+i)), n, accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
		}
		dead := minted(s, "1d000009", "dead", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID})
		dead.State = accounts.StateLoginRequired
		return append(out, dead)
	})
	before := map[string]string{}
	for _, a := range e.stored(t) {
		before[a.Name] = a.AccessToken
	}
	e.d.press("R")
	e.d.until("refresh-all to finish", func() bool { return e.m.refresh.busy == 0 && e.m.refresh.batch.done == 3 })
	for _, a := range e.stored(t) {
		changed := a.AccessToken != before[a.Name]
		if changed != (a.Name != "dead") {
			t.Errorf("%s: token changed = %v", a.Name, changed)
		}
	}
	if got := e.srv.Stats().Refreshes; got != 3 {
		t.Errorf("refreshes = %d, want 3 (the login-required account is skipped)", got)
	}
	if s := plain(e.m); !strings.Contains(s, "refreshed 3 of 3 accounts") || !strings.Contains(s, "1 skipped") {
		t.Errorf("no summary toast:\n%s", s)
	}
}

func TestRefreshRejectedMeansLoginRequiredAndNoRetry(t *testing.T) {
	var rt string
	e := newFlowEnv(t, oauthtest.Options{}, func(s *oauthtest.Server) []accounts.Account {
		a := minted(s, "1d000001", "car", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: time.Minute})
		rt = a.RefreshToken
		return []accounts.Account{a}
	})
	e.srv.KillRefreshToken(rt)
	e.d.press("r")
	e.d.until("the refresh to fail", func() bool { return !e.row(0).Busy && e.row(0).Acct.State == accounts.StateLoginRequired })
	if a := e.stored(t)[0]; a.State != accounts.StateLoginRequired {
		t.Errorf("stored state %q, want login_required", a.State)
	}
	if s := plain(e.m); !strings.Contains(s, "needs a new login") || !strings.Contains(s, "login required") {
		t.Errorf("the screen does not say a new login is needed:\n%s", s)
	}
	// The token is within the auto-refresh margin, but a rejected refresh
	// token is never retried on its own.
	e.srv.ResetStats()
	e.d.send(tickMsg(time.Now()))
	e.d.send(tickMsg(time.Now().Add(time.Hour)))
	e.d.settle()
	if got := e.srv.Stats().Refreshes; got != 0 {
		t.Errorf("auto-refresh retried a login-required account %d times", got)
	}
}

func TestAutoRefreshWithinMarginAndBackOff(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: 3 * time.Minute}))
	before := e.stored(t)[0]
	e.srv.FailNext(oauthtest.FaultServerError, 1)
	e.d.send(tickMsg(time.Now()))
	e.d.until("the failed auto-refresh", func() bool { return e.row(0).Failures == 1 && !e.row(0).Busy })
	if wait := time.Until(e.row(0).RetryAt); wait < 20*time.Second {
		t.Fatalf("after a failure the next try is in %v; want a back-off", wait)
	}
	e.d.send(tickMsg(time.Now()))
	e.d.settle()
	if e.row(0).Busy || e.srv.Stats().Refreshes != 0 {
		t.Fatal("auto-refresh retried at once instead of backing off")
	}
	// Once the back-off is over, the next tick refreshes.
	e.row(0).RetryAt = time.Now().Add(-time.Second)
	e.m.refresh.nextDue = time.Time{}
	e.d.send(tickMsg(time.Now()))
	e.d.until("the auto-refresh", func() bool { return e.row(0).Failures == 0 && !e.row(0).Busy && e.srv.Stats().Refreshes == 1 })
	if e.stored(t)[0].AccessToken == before.AccessToken {
		t.Error("the store does not hold the auto-refreshed token")
	}
}

// Tokens that live no longer than the margin (5 minutes here, 4-minute
// tokens) are refreshed once, then not again until half their life has
// gone: the next refresh is never due at once after the last one.
func TestAutoRefreshOfShortLivedTokensDoesNotStorm(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{AccessTTL: 4 * time.Minute},
		seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: time.Minute}))
	e.d.send(tickMsg(time.Now()))
	e.d.until("the auto-refresh", func() bool { return e.srv.Stats().Refreshes == 1 && !e.row(0).Busy })
	for range 5 {
		e.d.send(tickMsg(time.Now()))
		e.d.settle()
	}
	if got := e.srv.Stats().Refreshes; got != 1 {
		t.Fatalf("%d refreshes of a 4-minute token within a few ticks; want 1", got)
	}
	if next := time.Until(e.m.refresh.nextDue); next < time.Minute {
		t.Fatalf("the next auto-refresh is planned in %v; want about 2 minutes (half the token's life)", next)
	}
}

func TestAutoRefreshOffDoesNothing(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID, AccessTTL: time.Minute}))
	e.d.press("a")
	if e.m.cfg.AutoRefreshOn() {
		t.Fatal("a did not turn auto-refresh off")
	}
	e.d.send(tickMsg(time.Now()))
	e.d.settle()
	if e.srv.Stats().Refreshes != 0 {
		t.Error("auto-refresh ran while off")
	}
	e.d.until("the setting to be saved", func() bool {
		c, err := e.store.LoadConfig()
		return err == nil && c.AutoRefresh != nil && !*c.AutoRefresh
	})
}

func TestRevokeAtServer(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindCustom, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	before := e.stored(t)[0]
	e.d.press("x")
	if !strings.Contains(plain(e.m), "Revoke car?") {
		t.Fatalf("no confirmation:\n%s", plain(e.m))
	}
	e.d.press("y")
	e.d.until("the report", func() bool { return strings.Contains(plain(e.m), "at the server") })
	a := e.stored(t)[0]
	if a.State != accounts.StateRevoked || a.RefreshToken != "" || a.AccessToken != "" {
		t.Errorf("stored after revoke: state %q, tokens kept %v", a.State, a.RefreshToken != "")
	}
	if e.srv.RefreshTokenLive(before.RefreshToken) {
		t.Error("the refresh token is still live at the server")
	}
	if info, _ := e.srv.AccessToken(before.AccessToken); !info.Revoked {
		t.Error("the access token is not revoked at the server")
	}
	e.d.press("enter")
	e.d.until("the report to close", e.noModals)
	e.d.until("the list to show the revocation", func() bool { return strings.Contains(plain(e.m), "⊘ revoked") })
}

func TestRevokeWithoutEndpointShowsConsentPage(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	before := e.stored(t)[0]
	e.d.press("x", "y")
	e.d.until("the report", func() bool { return strings.Contains(plain(e.m), "locally only") })
	s := plain(e.m)
	if !strings.Contains(s, "auth.tesla.com/user/revoke/consent") || !strings.Contains(s, "Nothing was revoked at the server") {
		t.Errorf("the report does not explain or show the consent page:\n%s", s)
	}
	a := e.stored(t)[0]
	if a.State != accounts.StateRevoked || a.RefreshToken != before.RefreshToken {
		t.Errorf("stored after a local revoke: state %q, refresh token kept %v", a.State, a.RefreshToken == before.RefreshToken)
	}
	e.d.press("c")
	e.d.until("the consent address on the clipboard", func() bool {
		clip := e.d.clipboard()
		return len(clip) > 0 && strings.Contains(clip[len(clip)-1], "revoke_client_id=")
	})
}

func TestRevokeAndRemove(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindCustom, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	e.d.press("x", "d")
	e.d.until("the report", func() bool { return strings.Contains(plain(e.m), "removed car") })
	if n := len(e.stored(t)); n != 0 {
		t.Errorf("%d accounts left after revoke and remove", n)
	}
}

func TestRevokeCancel(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindCustom, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	e.d.press("x", "enter") // the focused button is cancel
	e.d.until("the dialog to close", e.noModals)
	e.d.settle()
	if a := e.stored(t)[0]; a.State != accounts.StateActive || e.srv.Stats().Revocations != 0 {
		t.Errorf("cancel revoked anyway: state %q", a.State)
	}
}

func TestRemove(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	e.d.press("d", "esc")
	e.d.until("the dialog to close", e.noModals)
	if len(e.stored(t)) != 1 {
		t.Fatal("esc removed the account")
	}
	e.d.press("d")
	if !strings.Contains(plain(e.m), "revoke first") {
		t.Errorf("the dialog does not warn that the tokens stay valid:\n%s", plain(e.m))
	}
	e.d.press("y")
	e.d.until("the removal", func() bool { return len(e.m.list.Rows()) == 0 })
	if n := len(e.stored(t)); n != 0 {
		t.Errorf("%d accounts left after remove", n)
	}
	if !strings.Contains(plain(e.m), "Welcome to keyfob") {
		t.Errorf("an empty store should show the welcome:\n%s", plain(e.m))
	}
}

func TestRename(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, func(s *oauthtest.Server) []accounts.Account {
		return []accounts.Account{
			minted(s, "1d000001", "car", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}),
			minted(s, "1d000002", "truck", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}),
		}
	})
	e.d.press("e", "ctrl+u", "type:truck", "enter")
	e.d.until("the name-taken error", func() bool {
		_, ok := e.m.dialogs.Top().(*dialog.Rename)
		return ok && strings.Contains(dialogText(e.m), "already exists")
	})
	if !strings.Contains(plain(e.m), "already exists") {
		t.Errorf("no error in the dialog:\n%s", plain(e.m))
	}
	e.d.press("ctrl+u", "type:model-3", "enter")
	e.d.until("the rename", e.noModals)
	if _, ok := e.storedNamed(t, "model-3"); !ok {
		t.Fatalf("store: %+v", e.stored(t))
	}
	if _, ok := e.storedNamed(t, "car"); ok {
		t.Error("the old name is still in the store")
	}
	e.d.until("the reload to show the new name, selected", func() bool {
		r := e.m.list.Selected()
		return r != nil && r.Acct.Name == "model-3"
	})
}

func TestCopyTokens(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	a := e.stored(t)[0]
	e.d.press("c")
	e.d.until("both copies", func() bool { return e.clip.get() == a.AccessToken && len(e.d.clipboard()) > 0 })
	if clip := e.d.clipboard(); len(clip) != 1 || clip[0] != a.AccessToken {
		t.Fatalf("OSC 52 got %d writes; want the access token", len(clip))
	}
	if s := plain(e.m); !strings.Contains(s, "copied access token of car — clears in 30 s") || strings.Contains(s, a.AccessToken) {
		t.Errorf("toast:\n%s", s)
	}
	// The clear timer fires: the clipboard still holds the token, so both
	// clipboards are emptied.
	e.d.send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	e.d.until("the clipboard to clear", func() bool { return e.clip.get() == "" })
	e.d.until("the OSC 52 clear", func() bool { c := e.d.clipboard(); return c[len(c)-1] == "" })

	// C copies the refresh token; if the user copies something else
	// before the delay, nothing is cleared.
	e.d.press("C")
	e.d.until("both copies", func() bool {
		c := e.d.clipboard()
		return e.clip.get() == a.RefreshToken && c[len(c)-1] == a.RefreshToken
	})
	e.clip.set("something the user copied")
	n := len(e.d.clipboard())
	e.d.send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	e.d.settle()
	if e.clip.get() != "something the user copied" || len(e.d.clipboard()) != n {
		t.Error("keyfob cleared a clipboard that no longer held its token")
	}
}

// Every secret that reaches the system clipboard is also handed to a
// clearer that outlives the TUI (a closed terminal or a kill ends the
// program's own timer); a scheduling failure is said, not swallowed.
func TestCopyHandsTheSecretToAClearerThatOutlivesTheTUI(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	type scheduled struct {
		secret string
		after  time.Duration
	}
	var mu sync.Mutex
	var calls []scheduled
	var fail atomic.Bool
	e.m.clip = clipboard.New(e.clip, func(secret string, after time.Duration) error {
		mu.Lock()
		calls = append(calls, scheduled{secret, after})
		mu.Unlock()
		if fail.Load() {
			return errors.New("no executable")
		}
		return nil
	})
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(calls) }
	a := e.stored(t)[0]
	e.d.press("c")
	e.d.until("a clearer to be scheduled", func() bool { return count() == 1 })
	if s := calls[0]; s.secret != a.AccessToken || s.after != accounts.DefaultClipboardClear {
		t.Fatalf("scheduled %.8q… after %v; want the access token after %v", s.secret, s.after, accounts.DefaultClipboardClear)
	}
	fail.Store(true)
	e.d.press("C")
	e.d.until("the warning", func() bool { return count() == 2 && strings.Contains(plain(e.m), "no clearer could be started") })
}

func TestCopyWithoutNativeClipboardAsksTheTerminal(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	e.m.clip = clipboard.New(nil, nil)
	a := e.stored(t)[0]
	e.d.press("c")
	e.d.until("the OSC 52 copy", func() bool { return len(e.d.clipboard()) == 1 })
	e.d.send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	// The terminal answers that the user copied something else: keep it.
	e.d.send(clipboardReply("other text"))
	e.d.settle()
	if slices.Contains(e.d.clipboard(), "") {
		t.Fatal("the terminal clipboard was cleared although it held something else")
	}
	// Copy again; the terminal answers with the token: clear it.
	e.d.press("c")
	e.d.send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	e.d.send(clipboardReply(a.AccessToken))
	e.d.until("the clear", func() bool { return slices.Contains(e.d.clipboard(), "") })
}

func TestQuitClearsAPendingToken(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	e.d.press("c")
	e.d.until("the native copy", func() bool { return e.clip.get() != "" })
	e.d.press("q")
	e.d.until("quit", e.d.quitted)
	if e.clip.get() != "" {
		t.Error("quitting left the token in the clipboard")
	}
}

func TestFilter(t *testing.T) {
	m := newViewModel(t, fixtures(), 100, 30)
	d := newDriver(t, m)
	names := func() []string { return shownNames(m) }
	d.press("/", "type:cmds")
	if got := strings.Join(names(), ","); got != "home,partner-na,sold" {
		t.Errorf("filter on a scope badge: %s", got)
	}
	d.press("enter")
	if m.list.Filtering() || !strings.Contains(plain(m), "/ cmds  (esc clears)") {
		t.Errorf("enter should keep the filter and leave the input:\n%s", plain(m))
	}
	d.press("esc")
	if len(names()) != len(m.list.Rows()) {
		t.Error("esc should clear the filter")
	}
	d.press("/", "type:EXAMPLE.com fleet")
	if got := strings.Join(names(), ","); got != "home,work,sold" {
		t.Errorf("filter on email and kind: %s", got)
	}
	d.press("esc", "/", "type:vehicle_location")
	if got := strings.Join(names(), ","); got != "home,sold" {
		t.Errorf("filter on a full scope name: %s", got)
	}
	d.press("type:zzz")
	if !strings.Contains(plain(m), "No account matches") {
		t.Errorf("no empty-filter message:\n%s", plain(m))
	}
}

func TestOtherProcessChangesShowUp(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, func(s *oauthtest.Server) []accounts.Account {
		return []accounts.Account{
			minted(s, "1d000001", "car", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}),
			minted(s, "1d000002", "truck", accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}),
		}
	})
	// Another keyfob (e.g. `keyfob token` in cron) refreshes car.
	other := accounts.NewManager(e.store, e.engine)
	seen := e.stored(t)[0]
	fresh, err := other.Refresh(ctx(), seen)
	if err != nil {
		t.Fatal(err)
	}
	ensureNewStamp(t, e.store)
	e.d.send(tickMsg(time.Now()))
	e.d.until("the reload", func() bool { return e.row(0).Acct.AccessToken == fresh.AccessToken })

	// A change made here keeps the other process's refresh: writes go
	// through the manager, which re-reads the store.
	e.d.press("down", "e", "ctrl+u", "type:lorry", "enter")
	e.d.until("the rename", e.noModals)
	car, _ := e.storedNamed(t, "car")
	if car.RefreshToken != fresh.RefreshToken {
		t.Error("the rename wrote back a stale refresh token of another account")
	}
}

// ensureNewStamp makes sure the store's stamp differs from the one the
// model saw, even on file systems with coarse modification times.
func ensureNewStamp(t *testing.T, s *accounts.Store) {
	t.Helper()
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	later := fi.ModTime().Add(2 * time.Second)
	if err := os.Chtimes(s.Path(), later, later); err != nil {
		t.Fatal(err)
	}
}

func TestThemeCycleIsSaved(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	if e.m.theme.Name != "charm" {
		t.Fatalf("default theme %q", e.m.theme.Name)
	}
	e.d.press("t")
	if e.m.theme.Name != "high-contrast" {
		t.Fatalf("t gave %q", e.m.theme.Name)
	}
	e.d.until("the theme to be saved", func() bool {
		c, err := e.store.LoadConfig()
		return err == nil && c.Theme == "high-contrast"
	})
	if _, err := os.Stat(filepath.Join(e.store.Dir(), accounts.ConfigFile)); err != nil {
		t.Fatal(err)
	}
}

// clipboardReply is the terminal's answer to an OSC 52 read.
func clipboardReply(s string) tea.Msg { return tea.ClipboardMsg{Content: s, Selection: 'c'} }

func TestLoginCustomWithDiscovery(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, nil)
	e.d.press("n", "up", "enter", "enter") // custom → code
	if f := focusedField(e.m); f != "Client ID" {
		t.Fatalf("the custom form should start on the empty client id, not %q", f)
	}
	e.d.press("type:"+oauthtest.FleetClientID, "shift+tab", "shift+tab", "shift+tab", "shift+tab")
	if f := focusedField(e.m); f != "Issuer" {
		t.Fatalf("focus on %q, want the issuer", f)
	}
	e.d.press("type:"+e.srv.Issuer(), "enter")
	e.d.until("the custom account to be saved", e.noModals)
	accts := e.stored(t)
	if len(accts) != 1 {
		t.Fatalf("store: %+v", accts)
	}
	a := accts[0]
	if a.Kind != accounts.KindCustom || a.Endpoints.RevokeURL != e.srv.Issuer()+"/revoke" || a.Endpoints.TokenURL != e.srv.Issuer()+"/token" {
		t.Errorf("the discovered endpoints were not used: %+v", a.Endpoints)
	}
}

func TestClipboardReadTimeoutClears(t *testing.T) {
	e := newFlowEnv(t, oauthtest.Options{}, seedOne(accounts.KindFleet, oauthtest.MintRequest{ClientID: oauthtest.FleetClientID}))
	e.m.clip = clipboard.New(nil, nil)
	e.d.press("c")
	e.d.until("the OSC 52 copy", func() bool { return len(e.d.clipboard()) == 1 })
	e.d.send(clipboard.ClearDue{Seq: e.m.clip.Seq()})
	// The terminal never answers the read: keyfob clears rather than
	// leave a live token behind.
	e.d.send(clipboard.ReadTimeout{Seq: e.m.clip.Seq()})
	e.d.until("the clear", func() bool { return slices.Contains(e.d.clipboard(), "") })
}

// A loopback login finished by pasting the address (the browser ran on
// another machine) succeeds, even though the paste also ends the wait.
func TestLoginLoopbackFinishedByPaste(t *testing.T) {
	for range 5 { // the race it guards against is one of timing
		e := newFlowEnv(t, oauthtest.Options{}, nil)
		e.setBrowser(func(string) error { return errNoBrowser }) // nobody comes back
		e.d.press("n", "enter", "enter", "enter")
		e.d.until("the browser step", e.onBrowserStep)
		if !e.loopback() {
			t.Fatal("a fleet login with no redirect URI should listen on loopback")
		}
		e.d.until("the browser to be sent to the sign-in page", func() bool { return e.authURL() != "" })
		landed := landedAt(t, e.authURL())
		e.d.press("paste:"+landed, "enter")
		e.d.until("the account to be saved", e.noModals)
		if n := len(e.stored(t)); n != 1 {
			t.Fatalf("%d accounts stored", n)
		}
		if strings.Contains(plain(e.m), "cancelled") {
			t.Fatalf("the login was reported as cancelled:\n%s", plain(e.m))
		}
	}
}

func TestRequiredFieldIsFocusedWithItsHelp(t *testing.T) {
	m := newViewModel(t, fixtures(), 100, 30)
	press(m, "n", "down", "down", "enter", "enter", "type:my-app", "enter") // partner: a client id but no secret
	if f, text := focusedField(m), dialogText(m); f != "Secret" || !strings.Contains(text, "✗ Secret is required. The client secret") {
		t.Fatalf("focus on %q, dialog %q; want the secret field and its requirement", f, text)
	}
}
