package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/keyfobtest"
	"github.com/keyfob/keyfob/ui/list"
)

// row is the i-th account of the list.
func (e *flowEnv) row(i int) *list.Row { return e.m.list.Rows()[i] }

// busy reports whether a refresh of the i-th account runs or waits.
func (e *flowEnv) busy(i int) bool { return e.m.sched.Job(e.row(i).ID()) != common.NoJob }

// failures is how many refreshes of the i-th account failed in a row, as
// its record says.
func (e *flowEnv) failures(i int) int {
	if lr := e.row(i).Account().LastRefresh; lr != nil && !lr.OK {
		return lr.Failures
	}
	return 0
}

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

func seedOne(kind accounts.Kind, req sandbox.MintRequest) func(*sandbox.Server) []accounts.Account {
	return func(s *sandbox.Server) []accounts.Account {
		return []accounts.Account{keyfobtest.Minted(s, "1d000001", "car", kind, req)}
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: -time.Minute}))
	before := e.stored(t)[0]
	e.d.Press("r")
	if !e.busy(0) {
		t.Fatal("r did not start a refresh")
	}
	if !strings.Contains(plain(e.m), "refreshing") {
		t.Errorf("the status does not show the refresh:\n%s", plain(e.m))
	}
	e.d.Until("the refresh to finish", func() bool { return !e.busy(0) })
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
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, func(s *sandbox.Server) []accounts.Account {
		var out []accounts.Account
		for i, n := range []string{"a", "b", "c"} {
			out = append(out, keyfobtest.Minted(s, "1d00000"+string(rune('1'+i)), n, accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
		}
		dead := keyfobtest.Minted(s, "1d000009", "dead", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID})
		dead.State = accounts.StateLoginRequired
		return append(out, dead)
	})
	before := map[string]string{}
	for _, a := range e.stored(t) {
		before[a.Name] = a.AccessToken
	}
	e.d.Press("R")
	e.d.Until("refresh-all to finish", func() bool { return !e.m.sched.Busy() && e.srv.Stats().Refreshes == 3 })
	for _, a := range e.stored(t) {
		changed := a.AccessToken != before[a.Name]
		if changed != (a.Name != "dead") {
			t.Errorf("%s: token changed = %v", a.Name, changed)
		}
	}
	if got := e.srv.Stats().Refreshes; got != 3 {
		t.Errorf("refreshes = %d, want 3 (the login-required account is skipped)", got)
	}
	if s := plain(e.m); !strings.Contains(s, "refreshed 3 accounts; 1 skipped, which cannot be refreshed: dead") || strings.Contains(s, "3 of 3") {
		t.Errorf("no summary toast:\n%s", s)
	}
}

func TestRefreshRejectedMeansLoginRequiredAndNoRetry(t *testing.T) {
	t.Parallel()
	var rt string
	e := newFlowEnv(t, sandbox.Options{}, func(s *sandbox.Server) []accounts.Account {
		a := keyfobtest.Minted(s, "1d000001", "car", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: time.Minute})
		rt = a.RefreshToken
		return []accounts.Account{a}
	})
	e.srv.KillRefreshToken(rt)
	e.d.Press("r")
	e.d.Until("the refresh to fail", func() bool { return !e.busy(0) && e.row(0).Account().State == accounts.StateLoginRequired })
	if a := e.stored(t)[0]; a.State != accounts.StateLoginRequired {
		t.Errorf("stored state %q, want login_required", a.State)
	}
	if s := plain(e.m); !strings.Contains(s, "needs a new login") || !strings.Contains(s, "login required") {
		t.Errorf("the screen does not say a new login is needed:\n%s", s)
	}
	// The token is within the auto-refresh margin, but a rejected refresh
	// token is never retried on its own.
	e.srv.ResetStats()
	e.d.Send(tickMsg(time.Now()))
	e.d.Send(tickMsg(time.Now().Add(time.Hour)))
	e.d.Settle()
	if got := e.srv.Stats().Refreshes; got != 0 {
		t.Errorf("auto-refresh retried a login-required account %d times", got)
	}
	// Nor does r: the key is off on its row, as R and the auto-refresh
	// skip it, and pressed all the same it says what helps.
	if strings.Contains(plain(e.m), "r refresh") {
		t.Errorf("the help offers r on a login-required row:\n%s", plain(e.m))
	}
	e.d.Press("r")
	e.d.Settle()
	if got := e.srv.Stats().Refreshes; got != 0 || e.busy(0) ||
		!strings.Contains(e.m.toast.text, "car needs a new login: the server rejected its refresh token — sign in again with n") {
		t.Errorf("r on a login-required row: %d refreshes, toast %q", got, e.m.toast.text)
	}
}

// A refresh renews a refresh token near its end, as the detail page
// says: the answer carries a new one, the estimate restarts and the
// warning goes.
func TestRefreshRenewsARefreshTokenNearItsEnd(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, func(s *sandbox.Server) []accounts.Account {
		a := keyfobtest.Minted(s, "1d000001", "car", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID})
		a.RefreshObtainedAt = time.Now().Add(-accounts.RefreshTokenLifetime + 2*24*time.Hour)
		return []accounts.Account{a}
	})
	if s := plain(e.m); !strings.Contains(s, "! refresh ending") {
		t.Fatalf("no warning to start with:\n%s", s)
	}
	e.d.Press("r")
	e.d.Until("the refresh", func() bool { return !e.busy(0) && e.srv.Stats().Refreshes == 1 })
	got := e.stored(t)[0]
	if got.RefreshExpiresSoon(time.Now()) || time.Since(got.RefreshObtainedAt) > time.Minute {
		t.Fatalf("the refresh token was not renewed: obtained %v", got.RefreshObtainedAt)
	}
	if s := plain(e.m); strings.Contains(s, "refresh ending") {
		t.Errorf("the warning stayed:\n%s", s)
	}
}

// A refresh that fails says so once, naming the account once: the
// accounts package's "refreshing "car": " is not repeated after it.
func TestFailedRefreshNamesTheAccountOnce(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.srv.FailNext(sandbox.FaultServerError, 1)
	e.d.Press("r")
	e.d.Until("the refresh to fail", func() bool { return !e.busy(0) && strings.Contains(plain(e.m), "failed") })
	s := plain(e.m)
	if !strings.Contains(s, "refreshing car failed: ") || strings.Contains(s, `refreshing "car"`) {
		t.Errorf("the toast does not name the account once:\n%s", s)
	}
}

func TestAutoRefreshWithinMarginAndBackOff(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: 3 * time.Minute}))
	before := e.stored(t)[0]
	e.srv.FailNext(sandbox.FaultServerError, 1)
	e.d.Send(tickMsg(time.Now()))
	e.d.Until("the failed auto-refresh", func() bool { return e.failures(0) == 1 && !e.busy(0) })
	if a := e.row(0).Account(); a.RetryAt(e.now()).Sub(e.now()) < 20*time.Second {
		wait := a.RetryAt(e.now()).Sub(e.now())
		t.Fatalf("after a failure the next try is in %v; want a back-off", wait)
	}
	e.d.Send(tickMsg(time.Now()))
	e.d.Settle()
	if e.busy(0) || e.srv.Stats().Refreshes != 0 {
		t.Fatal("auto-refresh retried at once instead of backing off")
	}
	// The store keeps the back-off too: a refresh another face asks for
	// on its own (cron's keyfob token) does not reach the server either.
	if r, err := e.other(t).Refresh(ctx(), e.stored(t)[0], accounts.Automatic); err != nil || r.Requested {
		t.Fatalf("an automatic refresh during the back-off: %v, requested %v", err, r.Requested)
	}
	// Once the back-off the record keeps is over, the next tick
	// refreshes: the TUI keeps no back-off of its own.
	e.advance(accounts.BackoffFirst + time.Second)
	e.d.Send(tickMsg(time.Now()))
	e.d.Until("the auto-refresh", func() bool { return e.failures(0) == 0 && !e.busy(0) && e.srv.Stats().Refreshes == 1 })
	if e.stored(t)[0].AccessToken == before.AccessToken {
		t.Error("the store does not hold the auto-refreshed token")
	}
}

// busyServer fails every refresh as a server that asks to wait does
// (429 with Retry-After).
type busyServer struct {
	keyfobtest.NoServer
	wait time.Duration
}

func (b busyServer) Refresh(context.Context, accounts.Account) (accounts.Grant, error) {
	return accounts.Grant{}, retryLater{b.wait}
}

// retryLater is a server's answer that gives a Retry-After.
type retryLater struct{ wait time.Duration }

func (e retryLater) Error() string             { return "the server is busy (429)" }
func (e retryLater) RetryDelay() time.Duration { return e.wait }

// After a failure, the auto-refresh waits as long as the server asked
// (its Retry-After, which the store keeps), not only its own back-off: a
// refresh before then would not reach the server anyway.
func TestAutoRefreshWaitsForTheServersRetryAfter(t *testing.T) {
	t.Parallel()
	garage := keyfobtest.Fixtures()[2] // expires in 4m30s: within the margin
	clock := func() time.Time { return keyfobtest.Now }
	mgr := keyfobtest.Manager(t, []accounts.Account{garage}, accounts.Options{Auth: busyServer{wait: 10 * time.Minute}, Now: clock})
	m := newModelFor(t, Options{Manager: mgr, Engine: &oauth.Engine{}, Now: clock}, 100, 30)
	d := newDriver(t, m)
	d.Send(tickMsg(keyfobtest.Now))
	failed := func() bool {
		lr := m.list.Rows()[0].Account().LastRefresh
		return lr != nil && lr.Failures == 1 && !m.sched.Busy()
	}
	d.Until("the failed auto-refresh", failed)
	d.Send(tickMsg(keyfobtest.Now))
	if next := m.sched.NextDue(); next.Before(keyfobtest.Now.Add(10 * time.Minute)) {
		t.Errorf("the next auto-refresh is at %v, before the server's Retry-After (10 minutes)", next.Sub(keyfobtest.Now))
	}
	if !strings.Contains(m.toast.text, "retrying in 10 minutes") {
		t.Errorf("the toast: %q", m.toast.text)
	}
}

// Tokens that live no longer than the margin (5 minutes here, 4-minute
// tokens) are refreshed once, then not again until half their life has
// gone: the next refresh is never due at once after the last one.
func TestAutoRefreshOfShortLivedTokensDoesNotStorm(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{AccessTTL: 4 * time.Minute},
		seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: time.Minute}))
	e.d.Send(tickMsg(time.Now()))
	e.d.Until("the auto-refresh", func() bool { return e.srv.Stats().Refreshes == 1 && !e.busy(0) })
	for range 5 {
		e.d.Send(tickMsg(time.Now()))
		e.d.Settle()
	}
	if got := e.srv.Stats().Refreshes; got != 1 {
		t.Fatalf("%d refreshes of a 4-minute token within a few ticks; want 1", got)
	}
	if next := time.Until(e.m.sched.NextDue()); next < time.Minute {
		t.Fatalf("the next auto-refresh is planned in %v; want about 2 minutes (half the token's life)", next)
	}
}

func TestAutoRefreshOffDoesNothing(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: time.Minute}))
	e.d.Press("a")
	if e.m.cfg.AutoRefreshOn() {
		t.Fatal("a did not turn auto-refresh off")
	}
	e.d.Send(tickMsg(time.Now()))
	e.d.Settle()
	if e.srv.Stats().Refreshes != 0 {
		t.Error("auto-refresh ran while off")
	}
	e.d.Until("the setting to be saved", func() bool {
		c, err := e.config(t)
		return err == nil && c.AutoRefresh != nil && !*c.AutoRefresh
	})
}

func TestRevokeAtServer(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindCustom, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	before := e.stored(t)[0]
	e.d.Press("x")
	if !strings.Contains(plain(e.m), "Revoke car?") {
		t.Fatalf("no confirmation:\n%s", plain(e.m))
	}
	e.d.Press("y")
	e.d.Until("the report", func() bool { return strings.Contains(plain(e.m), "at the server") })
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
	e.d.Press("enter")
	e.d.Until("the report to close", e.noModals)
	e.d.Until("the list to show the revocation", func() bool { return strings.Contains(plain(e.m), "⊘ revoked") })
}

func TestRevokeWithoutEndpointShowsConsentPage(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	before := e.stored(t)[0]
	e.d.Press("x", "y")
	e.d.Until("the report", func() bool { return strings.Contains(plain(e.m), "locally only") })
	s := plain(e.m)
	if !strings.Contains(s, "auth.tesla.com/user/revoke/consent") || !strings.Contains(s, "Nothing was revoked at the server") {
		t.Errorf("the report does not explain or show the consent page:\n%s", s)
	}
	a := e.stored(t)[0]
	if a.State != accounts.StateRevoked || a.RefreshToken != before.RefreshToken {
		t.Errorf("stored after a local revoke: state %q, refresh token kept %v", a.State, a.RefreshToken == before.RefreshToken)
	}
	// Without a browser (o), the report stays and says how to get the
	// address all the same.
	e.d.Send(openedMsg{what: "consent page", err: errors.New("no browser could be opened")})
	e.d.Settle()
	if !strings.Contains(e.m.toast.text, "could not open the consent page: no browser could be opened; c copies its address instead") ||
		!strings.Contains(plain(e.m), "locally only") {
		t.Errorf("a browser that did not open: toast %q\n%s", e.m.toast.text, plain(e.m))
	}
	e.d.Press("c")
	e.d.Until("the consent address on the clipboard", func() bool {
		clip := e.d.clipboard()
		return len(clip) > 0 && strings.Contains(clip[len(clip)-1], "revoke_client_id=")
	})
}

func TestRevokeAndRemove(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindCustom, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.d.Press("x", "d")
	e.d.Until("the report", func() bool { return strings.Contains(plain(e.m), "removed car") })
	if n := len(e.stored(t)); n != 0 {
		t.Errorf("%d accounts left after revoke and remove", n)
	}
}

func TestRevokeCancel(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindCustom, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.d.Press("x", "enter") // the focused button is cancel
	e.d.Until("the dialog to close", e.noModals)
	e.d.Settle()
	if a := e.stored(t)[0]; a.State != accounts.StateActive || e.srv.Stats().Revocations != 0 {
		t.Errorf("cancel revoked anyway: state %q", a.State)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	e.d.Press("d", "esc")
	e.d.Until("the dialog to close", e.noModals)
	if len(e.stored(t)) != 1 {
		t.Fatal("esc removed the account")
	}
	e.d.Press("d")
	if !strings.Contains(plain(e.m), "revoke first") {
		t.Errorf("the dialog does not warn that the tokens stay valid:\n%s", plain(e.m))
	}
	e.d.Press("y")
	e.d.Until("the removal", func() bool { return len(e.m.list.Rows()) == 0 })
	if n := len(e.stored(t)); n != 0 {
		t.Errorf("%d accounts left after remove", n)
	}
	if !strings.Contains(plain(e.m), "Welcome to keyfob") {
		t.Errorf("an empty store should show the welcome:\n%s", plain(e.m))
	}
}

func TestRename(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, func(s *sandbox.Server) []accounts.Account {
		return []accounts.Account{
			keyfobtest.Minted(s, "1d000001", "car", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}),
			keyfobtest.Minted(s, "1d000002", "truck", accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}),
		}
	})
	e.d.Press("e", "ctrl+u", "type:truck", "enter")
	e.d.Until("the name-taken error", func() bool {
		_, ok := e.m.dialogs.Top().(*dialog.Rename)
		return ok && strings.Contains(dialogText(e.m), "already exists")
	})
	if !strings.Contains(plain(e.m), "already exists") {
		t.Errorf("no error in the dialog:\n%s", plain(e.m))
	}
	e.d.Press("ctrl+u", "type:model-3", "enter")
	e.d.Until("the rename", e.noModals)
	if _, ok := e.storedNamed(t, "model-3"); !ok {
		t.Fatalf("store: %+v", e.stored(t))
	}
	if _, ok := e.storedNamed(t, "car"); ok {
		t.Error("the old name is still in the store")
	}
	e.d.Until("the reload to show the new name, selected", func() bool {
		r := e.m.list.Selected()
		return r != nil && r.Name() == "model-3"
	})
}

func TestFilter(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 100, 30)
	d := newDriver(t, m)
	names := func() []string { return shownNames(m) }
	d.Press("/", "type:cmds")
	if got := strings.Join(names(), ","); got != "home,partner-na,sold" {
		t.Errorf("filter on a scope badge: %s", got)
	}
	d.Press("enter")
	if m.list.Filtering() || !strings.Contains(plain(m), "/ cmds  (esc clears)") {
		t.Errorf("enter should keep the filter and leave the input:\n%s", plain(m))
	}
	d.Press("esc")
	if len(names()) != len(m.list.Rows()) {
		t.Error("esc should clear the filter")
	}
	d.Press("/", "type:EXAMPLE.com fleet")
	if got := strings.Join(names(), ","); got != "home,work,sold" {
		t.Errorf("filter on email and kind: %s", got)
	}
	d.Press("esc", "/", "type:vehicle_location")
	if got := strings.Join(names(), ","); got != "home,sold" {
		t.Errorf("filter on a full scope name: %s", got)
	}
	d.Press("type:zzz")
	if !strings.Contains(plain(m), "No account matches") {
		t.Errorf("no empty-filter message:\n%s", plain(m))
	}
}

func TestThemeCycleIsSaved(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	if e.m.theme.Name != "charm" {
		t.Fatalf("default theme %q", e.m.theme.Name)
	}
	e.d.Press("t")
	if e.m.theme.Name != "high-contrast" {
		t.Fatalf("t gave %q", e.m.theme.Name)
	}
	e.d.Until("the theme to be saved", func() bool {
		c, err := e.config(t)
		return err == nil && c.Theme == "high-contrast"
	})
	if _, err := os.Stat(filepath.Join(e.dir, accounts.ConfigFile)); err != nil {
		t.Fatal(err)
	}
}

// A confirm answered after another keyfob removed its account says so,
// instead of closing without a word.
func TestConfirmOfAnAccountRemovedElsewhere(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ keys, want string }{
		{"x", "could not revoke car: it is no longer in the store"},
		{"d", "car was no longer in keyfob: another keyfob removed it"},
	} {
		e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindCustom, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
		e.d.Press(c.keys)
		if _, err := e.mgr.Remove(ctx(), e.stored(t)[0].ID); err != nil {
			t.Fatal(err)
		}
		e.d.Send(e.m.loadCmd()()) // the watch saw the change
		e.d.Press("y")
		e.d.Until(c.want, func() bool { return strings.Contains(e.m.toast.text, c.want) })
		if !e.noModals() || e.srv.Stats().Revocations != 0 {
			t.Errorf("%s: %d dialogs left, %d revocations", c.keys, e.m.dialogs.Len(), e.srv.Stats().Revocations)
		}
	}
}
