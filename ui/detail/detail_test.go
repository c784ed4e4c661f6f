package detail

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/keyfobtest"
	"github.com/keyfob/keyfob/ui/list"
	"github.com/keyfob/keyfob/ui/present/qrtest"
)

// detailChrome is the lines of the detail screen around the page
// (header, blank, toast, footer), as the root lays it out.
const detailChrome = 4

// openPage is the detail page of a on a w×h terminal at keyfobtest.Now.
func openPage(t *testing.T, a accounts.Account, w, h int) *Model {
	t.Helper()
	d := New(keyfobtest.Common(t, w, h))
	d.SetSize(w, h-detailChrome)
	d.Show(a.ID)
	d.Refresh(list.NewRow(a))
	return d
}

// press sends keys to the page, then renders it again as the root does
// after every message.
func press(d *Model, a accounts.Account, keys ...string) {
	for _, msg := range keyfobtest.Keys(keys...) {
		d.Update(msg)
		d.Refresh(list.NewRow(a))
	}
}

var twoConsumers = []accounts.Consumer{
	keyfobtest.Consumer("teslamate", "a0000001", 5*time.Minute, "172.17.0.3:50122"),
	keyfobtest.Consumer("home-assistant", "a0000001", 0, ""),
}

func TestGolden(t *testing.T) {
	fx := keyfobtest.Fixtures()
	home := fx[0]
	for _, c := range []struct {
		name  string
		acct  accounts.Account
		setup func(*Model)
		keys  []string
		sizes [][2]int
	}{
		{name: "fleet", acct: home, sizes: keyfobtest.Sizes},
		{name: "fleet_scrolled", acct: home, keys: []string{"pgdown"}, sizes: keyfobtest.Sizes},
		{name: "refreshing", acct: home, sizes: [][2]int{{80, 24}}, setup: func(d *Model) {
			d.c.Jobs, d.c.Frame = keyfobtest.Jobs{home.ID: common.Refreshing}, "⠋"
		}},
		{name: "owner", acct: keyfobtest.Named(fx, "garage"), sizes: keyfobtest.Sizes},
		{name: "partner", acct: keyfobtest.Named(fx, "partner-na"), sizes: keyfobtest.Sizes},
		{name: "login_required", acct: keyfobtest.Named(fx, "old-car"), sizes: keyfobtest.Sizes},
		{name: "custom_failed", acct: keyfobtest.Named(fx, "selfhost"), sizes: [][2]int{{80, 24}}},
		{name: "revoked", acct: keyfobtest.Named(fx, "sold"), sizes: [][2]int{{80, 24}}},
		{name: "consumers", acct: home, keys: []string{"pgdown"}, sizes: [][2]int{{80, 24}}, setup: func(d *Model) { d.SetConsumers(twoConsumers) }},
		{name: "consumers", acct: home, sizes: [][2]int{{120, 40}}, setup: func(d *Model) { d.SetConsumers(twoConsumers) }},
		{name: "pairing", acct: home, keys: []string{"pgdown"}, sizes: keyfobtest.Sizes, setup: func(d *Model) { d.SetPairing(home.ID, "app.example.com") }},
		// The caption gives way to the code, and a screen too small for it
		// says so.
		{name: "pairing_qr", acct: home, keys: []string{"p"}, sizes: [][2]int{{80, 24}, {120, 40}, {80, 22}, {60, 16}},
			setup: func(d *Model) { d.SetPairing(home.ID, "app.example.com") }},
	} {
		for _, sz := range c.sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				d := openPage(t, c.acct, sz[0], sz[1])
				if c.setup != nil {
					c.setup(d)
					d.Refresh(list.NewRow(c.acct))
				}
				press(d, c.acct, c.keys...)
				keyfobtest.Golden(t, d.View(), sz[0], sz[1]-detailChrome)
			})
		}
	}
}

// The page's keys: esc goes back (or hides the QR code first), u asks to
// remove a consumer only when the account has some, p shows the pairing
// link only when its domain is known; help never lists a dead key.
func TestKeys(t *testing.T) {
	home := keyfobtest.Fixtures()[0]
	d := openPage(t, home, 80, 24)
	if k := d.KeyMap(); k.RemoveConsumer.Enabled() || k.ShowQR.Enabled() {
		t.Error("u or p offered with no consumer and no domain")
	}
	if a, _ := d.Update(keyfobtest.Key("u")); a != nil {
		t.Errorf("u without consumers decided %#v", a)
	}
	d.SetConsumers(twoConsumers)
	if a, _ := d.Update(keyfobtest.Key("u")); a != (RemoveConsumer{ID: home.ID}) {
		t.Errorf("u decided %#v", a)
	}
	d.SetPairing("a0000002", "other.example.com") // another account's
	if d.KeyMap().ShowQR.Enabled() {
		t.Error("the domain of another account's app was taken")
	}
	d.SetPairing(home.ID, "app.example.com")
	press(d, home, "p")
	if got, err := qrtest.Decode(strings.Split(ansi.Strip(d.View()), "\n")); err != nil || got != "https://tesla.com/_ak/app.example.com" {
		t.Fatalf("the QR code decodes to %q (%v)", got, err)
	}
	if k := d.KeyMap(); k.RemoveConsumer.Enabled() || k.ShowQR.Help().Desc != "hide the QR code" {
		t.Errorf("over the QR code: u %v, p %q", k.RemoveConsumer.Enabled(), k.ShowQR.Help().Desc)
	}
	if a, _ := d.Update(keyfobtest.Key("esc")); a != nil || d.showQR {
		t.Errorf("esc over the QR code decided %#v, QR shown %v", a, d.showQR)
	}
	if a, _ := d.Update(keyfobtest.Key("esc")); a != (Back{}) {
		t.Errorf("esc decided %#v", a)
	}
	// Another account's page starts afresh.
	d.Show("a0000002")
	if len(d.Consumers()) != 0 || d.KeyMap().ShowQR.Enabled() {
		t.Error("the next page kept this one's consumers or domain")
	}
}

// The page scrolls, keeps its place as it is rendered again every second,
// and says how far down it is.
func TestScrolling(t *testing.T) {
	home := keyfobtest.Fixtures()[0]
	d := openPage(t, home, 80, 24)
	if d.Position() != "0%" {
		t.Fatalf("position at the top %q", d.Position())
	}
	press(d, home, "j", "j")
	later := home
	later.Expiry = later.Expiry.Add(-time.Second)
	d.c.Now = d.c.Now.Add(time.Second)
	d.Refresh(list.NewRow(later))
	if d.vp.YOffset() != 2 {
		t.Errorf("a new rendering moved the page to line %d", d.vp.YOffset())
	}
	press(d, home, "G")
	if d.Position() != "100%" {
		t.Errorf("position at the bottom %q", d.Position())
	}
	press(d, home, "g")
	if d.vp.YOffset() != 0 {
		t.Error("g did not go back to the top")
	}
	if tall := openPage(t, keyfobtest.Named(keyfobtest.Fixtures(), "sold"), 120, 200); tall.Position() != "" {
		t.Errorf("a page that fits shows a position: %q", tall.Position())
	}
}

// What the page says of an account comes from the account and the
// scheduler: a refresh under way, a new login needed and how.
func TestPageSaysWhatHelps(t *testing.T) {
	fx := keyfobtest.Fixtures()
	text := func(d *Model) string { return strings.Join(strings.Fields(ansi.Strip(d.vp.GetContent())), " ") }
	old := openPage(t, keyfobtest.Named(fx, "old-car"), 100, 30)
	if s := text(old); !strings.Contains(s, "⊗ login required") || !strings.Contains(s, "Sign in again with n") {
		t.Errorf("login required:\n%s", s)
	}
	home := openPage(t, fx[0], 100, 30)
	home.c.Jobs, home.c.Frame = keyfobtest.Jobs{fx[0].ID: common.Refreshing}, "⠋"
	home.Refresh(list.NewRow(fx[0]))
	if s := text(home); !strings.Contains(s, "Status ⠋ refreshing") {
		t.Errorf("refreshing:\n%s", s)
	}
	partner := openPage(t, keyfobtest.Named(fx, "partner-na"), 100, 30)
	if s := text(partner); !strings.Contains(s, "Client secret set (hidden)") || strings.Contains(s, "not-a-real-secret") {
		t.Errorf("partner:\n%s", s)
	}
}
