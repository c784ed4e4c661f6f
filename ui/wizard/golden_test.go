package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// wizardAt is the wizard of purpose on a w×h terminal with Tesla's
// logins, after keys; its commands are not run.
func wizardAt(p Purpose, keys ...string) func(*testing.T, int, int) *Model {
	return func(t *testing.T, w, h int) *Model {
		c := newCommon(t)
		c.Width, c.Height, c.Frame = w, h, "⠋"
		m := New(c, p)
		for _, msg := range keyfobtest.Keys(keys...) {
			m.Update(msg)
		}
		return m
	}
}

// driven is the wizard on a w×h terminal, run as a program runs it by
// keyfobtest.Driver, with logins that begin s; setup may change the
// shared context first.
func driven(t *testing.T, w, h int, s *keyfobtest.SignIn, setup func(*common.Common)) (*Model, *keyfobtest.Driver) {
	c := newCommon(t)
	c.Width, c.Height, c.Frame = w, h, "⠋"
	c.Logins = keyfobtest.Logins{Logins: c.Logins, SignIn: s}
	if setup != nil {
		setup(c)
	}
	m := New(c, purposeLogin)
	d := keyfobtest.NewDriver(t, func(msg tea.Msg) tea.Cmd { _, cmd := m.Update(msg); return cmd })
	d.Screen = func() string { return keyfobtest.BoxText(m.View()) }
	return m, d
}

// says reports whether the wizard's box says text.
func says(m *Model, text string) func() bool {
	return func() bool { return strings.Contains(keyfobtest.BoxText(m.View()), text) }
}

// browserStep is the wizard on its browser page: a fleet sign-in that
// listens on loopback, or an Owner API one that asks for a paste.
func browserStep(loopback bool) func(*testing.T, int, int) *Model {
	return func(t *testing.T, w, h int) *Model {
		keys := []string{"down", "enter", "enter", "enter"} // owner → na → sign in
		s := keyfobtest.PasteSignIn()
		if loopback {
			// fleet → na → the app and its registered redirect URI → sign in
			s = keyfobtest.LoopbackSignIn()
			keys = []string{"enter", "enter", "type:test-client", "tab", "tab", "type:" + s.Redirect, "enter"}
		}
		m, d := driven(t, w, h, s, nil)
		d.Press(keys...)
		d.Until("the browser step", says(m, "open this address"))
		d.Settle()
		return m
	}
}

func TestGolden(t *testing.T) {
	login := func(keys ...string) func(*testing.T, int, int) *Model { return wizardAt(purposeLogin, keys...) }
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, w, h int) *Model
		sizes [][2]int
	}{
		{"kind", login(), keyfobtest.Sizes},
		{"region", login("enter"), keyfobtest.Sizes},
		{"fleet", login("enter", "enter"), keyfobtest.Sizes},
		{"owner", login("down", "enter", "enter"), keyfobtest.Sizes},
		{"partner", login("down", "down", "enter", "down", "enter"), keyfobtest.Sizes},
		{"legacy", login("down", "down", "down", "enter", "enter", "type:secret-password"), keyfobtest.Sizes},
		{"custom_grant", login("up", "up", "enter"), keyfobtest.Sizes},
		{"custom_code", login("up", "up", "enter", "enter"), keyfobtest.Sizes},
		{"custom_password", login("up", "up", "enter", "down", "enter"), keyfobtest.Sizes},
		{"required", login("enter", "enter", "enter"), keyfobtest.Sizes},
		{"validation_error", login("enter", "enter", "type:my-app", "tab", "tab", "type:http://localhost:8976/callback",
			"tab", "tab", "tab", "ctrl+u", "type:ftp://auth.example", "enter"), keyfobtest.Sizes},
		{"working", login("down", "down", "enter", "enter", "type:my-app", "tab", "type:s3cret", "enter"), keyfobtest.Sizes},
		{"browser_loopback", browserStep(true), keyfobtest.Sizes},
		{"browser_paste", browserStep(false), keyfobtest.Sizes},
		{"browser_paste_crowded", func(t *testing.T, w, h int) *Model {
			// The browser landed somewhere, the pasted address had no
			// code, and the user cleared the field to paste another.
			s := keyfobtest.PasteSignIn().FailPaste(errors.New("the pasted URL has no code parameter; paste the address of the page you landed on after signing in, or just its code"))
			m, d := driven(t, w, h, s, func(c *common.Common) {
				c.Browse = func(context.Context, string) (string, error) { return "tesla://auth/callback?state=x", nil }
			})
			d.Press("down", "enter", "enter", "enter")
			d.Until("the landed address", says(m, "press enter to finish"))
			d.Press("enter")
			d.Until("the paste error", says(m, "no code parameter"))
			d.Press("ctrl+u")
			m.c.Browse = nil // the browser was the user's own
			return m
		}, [][2]int{{80, 24}, {120, 40}, {80, 20}}},
		{"server_error", func(t *testing.T, w, h int) *Model {
			s := keyfobtest.LoopbackSignIn()
			s.FailWait(errors.New("fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token refused the code (invalid_auth_code: the code expired); sign in again — codes are valid for a few minutes"))
			m, d := driven(t, w, h, s, nil)
			d.Press("enter", "enter", "type:car", "tab", "tab", "type:"+s.Redirect, "enter")
			d.Until("the error", says(m, "refused the code"))
			d.Settle()
			return m
		}, keyfobtest.Sizes},
		{"import_kind", wizardAt(purposeImport), keyfobtest.Sizes},
		{"import_fleet", wizardAt(purposeImport, "enter", "enter", "paste:NA_0000not0a0real0token0000"), keyfobtest.Sizes},
		{"import_custom", wizardAt(purposeImport, "up", "enter"), keyfobtest.Sizes},
		{"guide_app", func(t *testing.T, w, h int) *Model {
			m, d := driven(t, w, h, nil, nil)
			d.Press("up", "enter", "enter")
			d.Until("the guide", says(m, "Create the app"))
			d.Press("type:car.example.net")
			return m
		}, keyfobtest.Sizes},
	} {
		for _, sz := range c.sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				m := c.setup(t, sz[0], sz[1])
				keyfobtest.Golden(t, m.View(), sz[0], sz[1])
			})
		}
	}
}
