package ui

import (
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
)

// The engine's validation speaks of command-line flags; the form speaks of
// its own fields instead, and puts the focus on the one to fix.
func TestValidationErrorsNameFormFields(t *testing.T) {
	m := newViewModel(t, nil, 100, 30)
	baseline := map[fieldKey]string{
		fClientID: "app", fSecret: "s", fEmail: "me@example.com", fPassword: "pw",
		fAuthURL: "https://id.example/authorize", fTokenURL: "https://id.example/token",
	}
	edits := []struct {
		k fieldKey
		v string
	}{
		{fAuthURL, ""}, {fAuthURL, "ftp://id.example/authorize"}, {fTokenURL, ""}, {fTokenURL, "https://me:pw@id.example/token"},
		{fAudience, ""}, {fRedirect, "::bad"}, {fRevokeURL, "nope"}, {fBaseURL, ""}, {fBaseURL, "owner-api"},
	}
	form := func(k accounts.Kind, grant string) *wizard {
		w := newWizard(m, modeLogin)
		w.kind, w.grant = k, grant
		if k != accounts.KindCustom {
			w.region = "na"
		}
		w.buildForm()
		for fk, v := range baseline {
			if i := w.fieldIndex(fk); i >= 0 {
				w.fields[i].input.SetValue(v)
			}
		}
		return w
	}
	failures := 0
	for _, k := range accounts.Kinds {
		for _, grant := range []string{accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials} {
			if k != accounts.KindCustom && grant != accounts.GrantCode {
				continue
			}
			w := form(k, grant)
			w.submit()
			w.abandon()
			if w.err != "" {
				t.Fatalf("%s/%s: the baseline form fails: %s", k, grant, w.err)
			}
			for _, e := range edits {
				w := form(k, grant)
				i := w.fieldIndex(e.k)
				if i < 0 {
					continue
				}
				w.fields[i].input.SetValue(e.v)
				w.submit()
				w.abandon()
				if w.err == "" {
					continue
				}
				failures++
				label := fieldSpecs[e.k].label
				if strings.Contains(w.err, "--") || strings.Contains(w.err, "KEYFOB_") || !strings.Contains(w.err, label) {
					t.Errorf("%s/%s, %s = %q: %q names a flag, not the field", k, grant, label, e.v, w.err)
				}
				if w.fields[w.focus].key != e.k {
					t.Errorf("%s/%s, %s = %q: the focus is on %s", k, grant, label, e.v, fieldSpecs[w.fields[w.focus].key].label)
				}
			}
		}
	}
	if failures < 10 {
		t.Fatalf("only %d validation failures exercised", failures)
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
