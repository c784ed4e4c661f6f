package dialog

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/edit"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// helpGroups are keys of a screen in three columns, as the root gives the
// help screen.
func helpGroups() [][]key.Binding {
	b := func(k, desc string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, desc)) }
	return [][]key.Binding{
		{b("↑/k", "up"), b("↓/j", "down"), b("/", "filter"), b("enter", "details")},
		{b("n", "new login"), b("i", "import token"), b("r", "refresh"), b("R", "refresh all"), b("x", "revoke"), b("d", "remove")},
		{b("c", "copy token"), b("a", "auto-refresh on/off"), b("t", "next theme"), b("?", "help"), b("q", "quit")},
	}
}

func TestGolden(t *testing.T) {
	fx := keyfobtest.Fixtures()
	home, selfhost := fx[0], keyfobtest.Named(fx, "selfhost")
	teslamate := keyfobtest.Consumer("teslamate", home.ID, 5*time.Minute, "172.17.0.3:50122")
	assistant := keyfobtest.Consumer("home-assistant", home.ID, 0, "")
	refused := func(d Dialog, err error) Dialog { d.Update(Refused{Err: err}); return d }
	for _, c := range []struct {
		name  string
		open  func(c *common.Common) Dialog
		keys  []string
		sizes [][2]int
	}{
		{name: "revoke_tesla", open: func(c *common.Common) Dialog { return NewRevoke(c, home) }, sizes: keyfobtest.Sizes},
		{name: "revoke_endpoint", open: func(c *common.Common) Dialog { return NewRevoke(c, selfhost) }, sizes: keyfobtest.Sizes},
		{name: "revoke_partner", open: func(c *common.Common) Dialog { return NewRevoke(c, keyfobtest.Named(fx, "partner-na")) }, sizes: [][2]int{{80, 24}}},
		{name: "revoke_consumers", open: func(c *common.Common) Dialog { return NewRevoke(c, home, teslamate, assistant) }, sizes: keyfobtest.Sizes},
		{name: "remove", open: func(c *common.Common) Dialog { return NewRemove(c, home) }, sizes: keyfobtest.Sizes},
		{name: "revoke_result_consent", open: func(c *common.Common) Dialog {
			return NewRevokeResult(c, Revocation{Name: "home", Rev: accounts.Revocation{
				Outcome:    accounts.RevokeUnsupported,
				Detail:     "the account has no revocation endpoint; withdraw the app's access on Tesla's consent page to end it for good",
				ConsentURL: "https://auth.tesla.com/user/revoke/consent?revoke_client_id=test-client&back_url=https%3A%2F%2Fwww.tesla.com%2F",
			}})
		}, sizes: keyfobtest.Sizes},
		{name: "revoke_result_server", open: func(c *common.Common) Dialog {
			return NewRevokeResult(c, Revocation{Name: "selfhost", Rev: accounts.Revocation{
				Outcome: accounts.RevokedAtServer, Revoked: []string{"refresh_token", "access_token"},
				Detail: "the server revoked the refresh token and the access token",
			}})
		}, sizes: keyfobtest.Sizes},
		{name: "revoke_result_failed", open: func(c *common.Common) Dialog {
			return NewRevokeResult(c, Revocation{Name: "selfhost", Rev: accounts.Revocation{
				Outcome: accounts.RevokeFailed,
				Detail:  "the server did not revoke the tokens: auth.example.test answered 503; the service may be down, try again later",
			}, Err: errors.New(`revoking "selfhost" at the server: failed`)})
		}, sizes: [][2]int{{80, 24}}},
		{name: "rename", open: func(c *common.Common) Dialog { d, _ := NewRename(c, home); return d }, sizes: keyfobtest.Sizes},
		{name: "rename_refused", open: func(c *common.Common) Dialog {
			d, _ := NewRename(c, home)
			d.input.SetValue("work")
			return refused(d, fmt.Errorf("%w: an account named \"work\" already exists; choose another name", accounts.ErrNameTaken))
		}, sizes: [][2]int{{80, 24}}},
		{name: "edit", open: func(c *common.Common) Dialog { d, _ := NewEdit(c, home, nil); return d }, sizes: keyfobtest.Sizes},
		{name: "edit_refused", open: func(c *common.Common) Dialog {
			d, _ := NewEdit(c, home, nil)
			return refused(d, &oauth.FieldError{Field: oauth.FieldTokenURL, Problem: "ftp://auth.example is not an http(s) URL"})
		}, sizes: [][2]int{{80, 24}}},
		{name: "edit_consent", open: func(c *common.Common) Dialog {
			d, _ := NewEdit(c, home, nil)
			return refused(d, &edit.ConsentError{Account: "home", OffTesla: []edit.HostChange{{Field: oauth.FieldTokenURL, Host: "proxy.example.net"}}})
		}, sizes: keyfobtest.Sizes},
		{name: "remove_consumer_pick", open: func(c *common.Common) Dialog {
			return NewPickConsumer(c, home, []accounts.Consumer{teslamate, assistant})
		}, sizes: keyfobtest.Sizes},
		{name: "remove_consumer_confirm", open: func(c *common.Common) Dialog { return NewRemoveConsumer(c, home, teslamate) }, sizes: keyfobtest.Sizes},
		{name: "help", open: func(c *common.Common) Dialog {
			return NewHelp(c, helpGroups(), Settings{AutoRefresh: true, Margin: 5 * time.Minute, BackoffMax: accounts.BackoffMax,
				Theme: "charm", ClearAfter: 30 * time.Second})
		}, sizes: keyfobtest.Sizes},
	} {
		for _, sz := range c.sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				d := c.open(keyfobtest.Common(t, sz[0], sz[1]))
				for _, msg := range keyfobtest.Keys(c.keys...) {
					d.Update(msg)
				}
				keyfobtest.Golden(t, d.View(), sz[0], sz[1])
			})
		}
	}
}

// The edit form decides the fields the user changed and nothing else; a
// refusal comes back to it: it focuses the field at fault, or, for a host
// that takes the user's consent, asks for it and decides again with it.
func TestEditDecisions(t *testing.T) {
	c := newCommon(t, nil)
	home := keyfobtest.Fixtures()[0]
	d, _ := NewEdit(c, home, nil)
	if a, _ := d.Update(keyfobtest.Key("enter")); a != (Close{}) {
		t.Fatalf("enter with nothing changed decided %#v", a)
	}
	d.focusField(oauth.FieldTokenURL)
	d.fields[d.focus].input.SetValue("https://proxy.example.net/token")
	a, _ := d.Update(keyfobtest.Key("enter"))
	save, ok := a.(SaveEdit)
	if !ok || save.ID != home.ID || len(save.Changes) != 1 || save.Changes[oauth.FieldTokenURL] != "https://proxy.example.net/token" || save.Consent != (edit.Consent{}) {
		t.Fatalf("decided %#v", a)
	}
	if !d.Busy() {
		t.Error("the form does not show that it saves")
	}
	if a, _ := d.Update(keyfobtest.Key("esc")); a != nil {
		t.Errorf("a key while saving decided %#v", a)
	}
	d.Update(Refused{Err: &edit.ConsentError{Account: "home", OffTesla: []edit.HostChange{{Field: oauth.FieldTokenURL, Host: "proxy.example.net"}}}})
	if d.Busy() || d.confirm == nil {
		t.Fatal("a change that needs consent did not ask for it")
	}
	a, _ = d.Update(keyfobtest.Key("y"))
	if save, ok := a.(SaveEdit); !ok || !save.Consent.LeaveTesla || save.Changes[oauth.FieldTokenURL] == "" {
		t.Fatalf("y decided %#v", a)
	}
	d.Update(Refused{Err: &oauth.FieldError{Field: oauth.FieldAuthURL, Problem: "not a URL"}})
	if d.fields[d.focus].field != oauth.FieldAuthURL || d.err == "" {
		t.Errorf("after a refused field: focus on %v, error %q", d.fields[d.focus].field, d.err)
	}
}
