package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// withConsumers adds consumers to the model's store as another keyfob
// process does (each added at its CreatedAt and last used as it says),
// and shows them once the model's watch of the store has seen them.
func withConsumers(t testing.TB, m *Model, cs ...accounts.Consumer) {
	t.Helper()
	ctx := context.Background()
	uses := map[string]accounts.ConsumerUse{}
	var other *accounts.Manager
	for _, c := range cs {
		var err error
		other, err = accounts.Open(m.c.Manager.Location(), accounts.Options{Dir: m.c.Manager.Dir(), Now: func() time.Time { return c.CreatedAt }})
		if err != nil {
			t.Fatal(err)
		}
		added, _, err := other.AddConsumer(ctx, c.Name, c.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if !c.LastUsedAt.IsZero() {
			uses[added.Hash] = accounts.ConsumerUse{At: c.LastUsedAt, Address: c.LastAddress}
		}
		_ = other.Close()
	}
	if other != nil {
		if err := other.RecordConsumerUses(ctx, uses); err != nil {
			t.Fatal(err)
		}
	}
	m.store.w.CheckConsumers()
	m.Update(m.loadCmd()())
}

var twoConsumers = []accounts.Consumer{
	keyfobtest.Consumer("teslamate", "a0000001", 5*time.Minute, "172.17.0.3:50122"),
	keyfobtest.Consumer("home-assistant", "a0000001", 0, ""),
	keyfobtest.Consumer("other-account", "a0000002", time.Hour, "127.0.0.1:40000"),
}

func TestRemoveConsumerFromDetail(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 120, 40)
	withConsumers(t, m, twoConsumers...)
	d := newDriver(t, m)
	d.Press("enter")
	scr := plain(m)
	for _, want := range []string{"Consumers (keyfob serve)", "teslamate", "last used 5 minutes ago from 172.17.0.3:50122",
		"home-assistant", "never used", "u remove a consumer"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("the detail page lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "other-account") {
		t.Fatal("the page lists another account's consumer")
	}
	// Two consumers: which one first, then confirm; n keeps it.
	d.Press("u")
	if txt := dialogText(m); !strings.Contains(txt, "1 teslamate") || !strings.Contains(txt, "2 home-assistant") {
		t.Fatalf("the choice: %s", txt)
	}
	d.Press("2")
	if txt := dialogText(m); !strings.Contains(txt, "Remove consumer home-assistant?") || !strings.Contains(txt, "stops working at once") {
		t.Fatalf("the confirm: %s", txt)
	}
	d.Press("n")
	d.Settle()
	if cs, _ := m.c.Manager.Consumers(context.Background()); len(cs) != 3 || m.dialogs.Top() != nil {
		t.Fatal("n removed the consumer, or left a dialog open")
	}
	d.Press("u", "2", "y")
	d.Until("the removal", func() bool { return strings.Contains(plain(m), "removed consumer home-assistant") })
	d.Until("the page without it", func() bool { return !strings.Contains(plain(m), "never used") })
	cs, _ := m.c.Manager.Consumers(context.Background())
	if len(cs) != 2 || cs[0].Name != "teslamate" || cs[1].Name != "other-account" {
		t.Fatalf("consumers left: %+v", cs)
	}
	// One consumer: straight to the confirm.
	d.Press("u")
	if txt := dialogText(m); !strings.Contains(txt, "Remove consumer teslamate?") {
		t.Fatalf("with one consumer: %s", txt)
	}
	d.Press("y")
	d.Until("the removal", func() bool { return strings.Contains(plain(m), "removed consumer teslamate") })
	d.Until("the page without it", func() bool { return !strings.Contains(plain(m), "Consumers (keyfob serve)") })
	if scr := plain(m); strings.Contains(scr, "Consumers (keyfob serve)") || strings.Contains(scr, "remove a consumer") {
		t.Fatalf("with no consumer left the section and the key should go:\n%s", scr)
	}
	d.Press("u") // disabled now: nothing opens
	if m.dialogs.Top() != nil {
		t.Fatal("u opened a dialog for an account with no consumers")
	}
}

// TestConsumerKeyInHelp: the ? screen of the detail page lists u only
// where it applies.
func TestConsumerKeyInHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cs   []accounts.Consumer
		want bool
	}{{twoConsumers, true}, {nil, false}} {
		m := newViewModel(t, keyfobtest.Fixtures(), 120, 40)
		withConsumers(t, m, tc.cs...)
		press(m, "enter", "?")
		if got := strings.Contains(plain(m), "remove a consumer"); got != tc.want {
			t.Errorf("with %d consumers the help lists u: %v", len(tc.cs), got)
		}
	}
}

// TestRevokeNamesTheConsumers: the revoke confirm of an account with
// consumers of keyfob serve names them and says what becomes of them; an
// account without any says nothing of consumers.
func TestRevokeNamesTheConsumers(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 120, 40)
	withConsumers(t, m, twoConsumers...)
	press(m, "x")
	txt := strings.Join(strings.Fields(dialogText(m)), " ")
	if !strings.Contains(txt, "Its consumers of keyfob serve (teslamate, home-assistant) keep their credentials, and a new login gives them its tokens again") ||
		strings.Contains(txt, "other-account") {
		t.Fatalf("the revoke confirm: %s", txt)
	}
	press(m, "esc", "down", "down", "x")
	if txt := dialogText(m); !strings.Contains(txt, "Revoke") || strings.Contains(txt, "consumers") {
		t.Fatalf("an account without consumers: %s", txt)
	}
}
