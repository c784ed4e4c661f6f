package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/internal/keyfobtest"
	"github.com/keyfob/keyfob/ui/dialog"
)

// goldenCase builds a model in some state at a size.
type goldenCase struct {
	name  string
	setup func(t *testing.T, w, h int) *Model
	only  [][2]int // keyfobtest.Sizes; nil = both
}

func withKeys(accts []accounts.Account, keys ...string) func(*testing.T, int, int) *Model {
	return func(t *testing.T, w, h int) *Model {
		m := newViewModel(t, accts, w, h)
		press(m, keys...)
		return m
	}
}

// wizardAt opens the wizard and walks it with keys.
func wizardAt(keys ...string) func(*testing.T, int, int) *Model {
	return withKeys(keyfobtest.Fixtures(), keys...)
}

func TestGolden(t *testing.T) {
	cases := []goldenCase{
		{name: "main", setup: withKeys(keyfobtest.Fixtures())},
		{name: "main_narrow", setup: withKeys(keyfobtest.Fixtures()), only: [][2]int{{60, 16}, {40, 12}}},
		{name: "main_scrolled", setup: withKeys(keyfobtest.Cars(60), "G", "k"), only: [][2]int{{80, 24}}},
		{name: "main_refreshing", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			m.refreshOne(m.list.Rows()[1].Account())
			return m
		}},
		{name: "main_toast", setup: withKeys(keyfobtest.Fixtures(), "c"), only: [][2]int{{80, 24}}},
		{name: "main_plain", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			m.SetNoColor(true)
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "filter", setup: withKeys(keyfobtest.Fixtures(), "/", "type:fleet")},
		{name: "filter_applied", setup: withKeys(keyfobtest.Fixtures(), "/", "type:cmds", "enter"), only: [][2]int{{80, 24}}},
		{name: "filter_nomatch", setup: withKeys(keyfobtest.Fixtures(), "/", "type:nothing-like-this"), only: [][2]int{{80, 24}}},
		{name: "empty", setup: withKeys(nil)},
		{name: "load_error", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, nil, w, h)
			m.Update(loadedMsg{err: &accounts.CorruptError{Path: "/home/user/.config/keyfob/accounts.json", Line: 3, Column: 14, Err: errors.New("invalid character '}' looking for beginning of value")}})
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "detail", setup: withKeys(keyfobtest.Fixtures(), "enter")},
		{name: "detail_scrolled", setup: withKeys(keyfobtest.Fixtures(), "enter", "pgdown"), only: [][2]int{{80, 24}}},
		{name: "detail_partner", setup: withKeys(keyfobtest.Fixtures(), "j", "j", "j", "enter"), only: [][2]int{{120, 40}}},
		{name: "detail_owner", setup: withKeys(keyfobtest.Fixtures(), "j", "j", "enter"), only: [][2]int{{80, 24}}},
		{name: "detail_login_required", setup: withKeys(keyfobtest.Fixtures(), "j", "j", "j", "j", "enter"), only: [][2]int{{120, 40}}},
		{name: "help", setup: withKeys(keyfobtest.Fixtures(), "?")},
		{name: "help_detail", setup: withKeys(keyfobtest.Fixtures(), "enter", "?"), only: [][2]int{{80, 24}}},
		{name: "confirm_revoke_tesla", setup: withKeys(keyfobtest.Fixtures(), "x")},
		{name: "confirm_revoke_endpoint", setup: withKeys(keyfobtest.Fixtures(), "j", "j", "j", "j", "j", "x"), only: [][2]int{{80, 24}}},
		{name: "confirm_revoke_partner", setup: withKeys(keyfobtest.Fixtures(), "j", "j", "j", "x"), only: [][2]int{{80, 24}}},
		{name: "confirm_remove", setup: withKeys(keyfobtest.Fixtures(), "d")},
		{name: "revoke_result_consent", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			m.Update(changedMsg{change: dialog.Revoke{ID: "a0000001", Name: "home"}, rev: accounts.Revoked{Revocation: accounts.Revocation{
				Outcome:    accounts.RevokeUnsupported,
				Detail:     "the account has no revocation endpoint; withdraw the app's access on Tesla's consent page to end it for good",
				ConsentURL: "https://auth.tesla.com/user/revoke/consent?revoke_client_id=test-client&back_url=https%3A%2F%2Fwww.tesla.com%2F",
			}}})
			return m
		}},
		{name: "revoke_result_server", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			m.Update(changedMsg{change: dialog.Revoke{ID: "a0000006", Name: "selfhost"}, rev: accounts.Revoked{Revocation: accounts.Revocation{
				Outcome: accounts.RevokedAtServer, Revoked: []string{"refresh_token", "access_token"},
				Detail: "the server revoked the refresh token and the access token",
			}}})
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "revoke_result_failed", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			m.Update(changedMsg{change: dialog.Revoke{ID: "a0000006", Name: "selfhost"}, rev: accounts.Revoked{Revocation: accounts.Revocation{
				Outcome: accounts.RevokeFailed,
				Detail:  "the server did not revoke the tokens: auth.example.test answered 503; the service may be down, try again later",
			}}, err: errors.New("revoking \"selfhost\" at the server: failed")})
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "rename", setup: withKeys(keyfobtest.Fixtures(), "e")},
		{name: "rename_error", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			cmds := press(m, "e", "ctrl+u", "type:work", "enter")
			m.Update(cmds[len(cmds)-1]()) // the manager refuses: work is taken
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "wizard_kind", setup: wizardAt("n")},
		{name: "wizard_region", setup: wizardAt("n", "enter")},
		{name: "wizard_fleet", setup: wizardAt("n", "enter", "enter")},
		{name: "wizard_owner", setup: wizardAt("n", "down", "enter", "enter"), only: [][2]int{{80, 24}}},
		{name: "wizard_partner", setup: wizardAt("n", "down", "down", "enter", "down", "enter"), only: [][2]int{{80, 24}}},
		{name: "wizard_legacy", setup: wizardAt("n", "down", "down", "down", "enter", "enter", "type:secret-password"), only: [][2]int{{80, 24}}},
		{name: "wizard_custom_grant", setup: wizardAt("n", "up", "up", "enter"), only: [][2]int{{80, 24}}},
		{name: "wizard_custom_code", setup: wizardAt("n", "up", "up", "enter", "enter")},
		{name: "wizard_custom_password", setup: wizardAt("n", "up", "up", "enter", "down", "enter"), only: [][2]int{{80, 24}}},
		{name: "wizard_required", setup: wizardAt("n", "enter", "enter", "enter"), only: [][2]int{{80, 24}}},
		{name: "wizard_validation_error", setup: wizardAt("n", "enter", "enter", "type:my-app", "tab", "tab", "type:http://localhost:8976/callback",
			"tab", "tab", "tab", "ctrl+u", "type:ftp://auth.example", "enter")},
		{name: "wizard_working", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			press(m, "n", "down", "down", "enter", "enter", "type:my-app", "tab", "type:s3cret", "enter")
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "wizard_browser_loopback", setup: browserStep(true)},
		{name: "wizard_browser_paste", setup: browserStep(false)},
		{name: "wizard_browser_paste_crowded", setup: func(t *testing.T, w, h int) *Model {
			// The browser landed somewhere, the pasted address had no code,
			// and the user cleared the field to paste another.
			s := pasteSignIn
			s.pasteErr = errors.New("the pasted URL has no code parameter; paste the address of the page you landed on after signing in, or just its code")
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			withSignIn(t, m, s)
			m.c.Browse = func(context.Context, string) (string, error) { return "tesla://auth/callback?state=x", nil }
			d := newDriver(t, m)
			d.Press("n", "down", "enter", "enter", "enter")
			d.Until("the landed address", func() bool { return strings.Contains(dialogText(m), "press enter to finish") })
			d.Press("enter")
			d.Until("the paste error", func() bool { return strings.Contains(dialogText(m), "no code parameter") })
			d.Press("ctrl+u")
			m.c.Browse = nil // the browser was the user's own
			return m
		}, only: [][2]int{{80, 24}, {80, 20}}},
		{name: "wizard_server_error", setup: func(t *testing.T, w, h int) *Model {
			s := loopbackSignIn
			s.waitErr = errors.New("fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token refused the code (invalid_auth_code: the code expired); sign in again — codes are valid for a few minutes")
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			withSignIn(t, m, s)
			d := newDriver(t, m)
			d.Press("n", "enter", "enter", "type:car", "tab", "tab", "type:"+loopbackSignIn.redirect, "enter")
			d.Until("the error", func() bool { return strings.Contains(dialogText(m), "refused the code") })
			d.Settle()
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "import_kind", setup: wizardAt("i"), only: [][2]int{{80, 24}}},
		{name: "import_fleet", setup: wizardAt("i", "enter", "enter", "paste:NA_0000not0a0real0token0000")},
		{name: "import_custom", setup: wizardAt("i", "up", "enter"), only: [][2]int{{80, 24}}},
	}
	for _, c := range cases {
		only := c.only
		if only == nil {
			only = keyfobtest.Sizes
		}
		for _, sz := range only {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				m := c.setup(t, sz[0], sz[1])
				out := plain(m)
				keyfobtest.CheckScreen(t, out, sz[0], sz[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// browserStep puts the wizard on its browser page: a fleet sign-in that
// listens on loopback, or an Owner API one that asks for a paste, each at a
// fixed address (a real one carries a random state).
func browserStep(loopback bool) func(*testing.T, int, int) *Model {
	return func(t *testing.T, w, h int) *Model {
		m := newViewModel(t, keyfobtest.Fixtures(), w, h)
		keys := []string{"n", "down", "enter", "enter", "enter"} // owner → na → sign in
		s := pasteSignIn
		if loopback {
			// fleet → na → the app and its registered redirect URI → sign in
			keys = []string{"n", "enter", "enter", "type:test-client", "tab", "tab", "type:" + loopbackSignIn.redirect, "enter"}
			s = loopbackSignIn
		}
		withSignIn(t, m, s)
		d := newDriver(t, m)
		d.Press(keys...)
		d.Until("the browser step", func() bool { return strings.Contains(dialogText(m), "open this address") })
		d.Settle()
		return m
	}
}

var _ tea.Model = (*Model)(nil)
