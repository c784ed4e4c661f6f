package ui

import (
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// The engine's validation speaks of command-line flags; the form must
// speak of its own fields instead.
func TestFormWordingNamesFieldsNotFlags(t *testing.T) {
	var msgs []string
	for _, k := range accounts.Kinds {
		for _, grant := range []string{"", accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials} {
			a, err := oauth.Preset(k, "na")
			if err != nil {
				t.Fatal(err)
			}
			a.Grant = grant
			steps := []func(*accounts.Account){
				func(a *accounts.Account) {},
				func(a *accounts.Account) { a.ClientID = "app" },
				func(a *accounts.Account) { a.Endpoints.AuthURL = "" },
				func(a *accounts.Account) { a.Endpoints.AuthURL = "ftp://x" },
				func(a *accounts.Account) {
					a.Endpoints.AuthURL = "https://a.example/authorize"
					a.Endpoints.TokenURL = ""
				},
				func(a *accounts.Account) { a.Endpoints.TokenURL = "https://a.example/token"; a.Audience = "" },
				func(a *accounts.Account) { a.Audience = "https://api.example"; a.Endpoints.RedirectURI = "::bad" },
				func(a *accounts.Account) { a.Endpoints.RedirectURI = ""; a.Endpoints.RevokeURL = "nope" },
				func(a *accounts.Account) { a.Endpoints.RevokeURL = ""; a.Endpoints.BaseURL = "" },
			}
			for _, step := range steps {
				step(&a)
				if err := oauth.Validate(a); err != nil {
					msgs = append(msgs, err.Error())
				}
			}
		}
	}
	if len(msgs) < 5 {
		t.Fatalf("only %d validation messages exercised", len(msgs))
	}
	for _, m := range msgs {
		if got := formWording(m); strings.Contains(got, "--") || strings.Contains(got, "KEYFOB_") {
			t.Errorf("%q\n  became %q, which still names a flag", m, got)
		}
	}
}

func TestRequiredFieldIsFocusedWithItsHelp(t *testing.T) {
	m := newViewModel(t, fixtures(), 100, 30)
	press(m, "n", "down", "down", "enter", "enter", "type:my-app", "enter") // partner: a client id but no secret
	w := m.modals[0].(*wizard)
	if w.fields[w.focus].key != fSecret || !strings.HasPrefix(w.err, "Secret is required") {
		t.Fatalf("focus on %v, error %q; want the secret field and its requirement", w.fields[w.focus].key, w.err)
	}
}
