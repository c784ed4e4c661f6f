package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/keyfobtest"
	"github.com/keyfob/keyfob/ui/present/qrtest"
)

// withPairing opens the detail page of the first account (fleet) after
// keyfob remembered its app's domain, as partner register does, then
// presses keys.
func withPairing(t *testing.T, w, h int, keys ...string) *Model {
	t.Helper()
	m := newViewModel(t, keyfobtest.Fixtures(), w, h)
	apps := fleetapp.Apps{Dir: m.c.Manager.Dir()}
	if _, err := apps.Registered(context.Background(), keyfobtest.Fixtures()[0].ClientID, "app.example.com", "na"); err != nil {
		t.Fatal(err)
	}
	press(m, "enter")
	m.Update(m.pairingCmd(m.detail.ID())())
	press(m, keys...)
	return m
}

// TestPairingQRScansFromTheScreen: the code on the 80×24 screen decodes to
// the pairing link; p or esc go back to the page, and the key is offered
// only when the domain is known.
func TestPairingQRScansFromTheScreen(t *testing.T) {
	t.Parallel()
	m := withPairing(t, 80, 24, "p")
	got, err := qrtest.Decode(strings.Split(plain(m), "\n"))
	if err != nil || got != "https://tesla.com/_ak/app.example.com" {
		t.Fatalf("decoded %q: %v\n%s", got, err, plain(m))
	}
	for _, back := range []string{"p", "esc"} {
		press(m, back)
		if out := plain(m); !strings.Contains(out, "Pairing link   https://tesla.com/_ak/app.example.com") && !strings.Contains(out, "Access token") {
			t.Fatalf("%s did not go back to the page:\n%s", back, out)
		}
		if m.screen != screenDetail {
			t.Fatalf("%s left the detail page", back)
		}
		press(m, "p")
	}

	// Another fleet account, of an app keyfob knows nothing of: no QR key.
	m = newViewModel(t, keyfobtest.Fixtures(), 120, 40)
	press(m, "j", "enter")
	m.Update(m.pairingCmd(m.detail.ID())())
	press(m, "p")
	if out := plain(m); !strings.Contains(out, "not known yet: keyfob partner pair --domain DOMAIN") || strings.Contains(out, "█") {
		t.Fatalf("unknown domain:\n%s", out)
	}
}
