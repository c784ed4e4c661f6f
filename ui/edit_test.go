package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// editOpen reports whether the edit form is on top.
func (e *flowEnv) editOpen() bool {
	_, ok := e.m.dialogs.Top().(*dialog.Edit)
	return ok
}

func TestEditFormMovesTheRegionAndKeepsTokens(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	before := e.stored(t)[0]
	e.d.Press("E")
	if !e.editOpen() {
		t.Fatal("E did not open the edit form")
	}
	text := dialogText(e.m)
	for _, want := range []string{"Edit car", "Name car", "Region na", "Audience " + before.Audience, "Token URL " + before.Endpoints.TokenURL,
		"Redirect URI", "The tokens are kept"} {
		if !strings.Contains(text, want) {
			t.Errorf("the form lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "Owner API") {
		t.Error("the form offers a base URL, which a fleet account has not")
	}
	// A typo is refused, focused, and nothing is written.
	e.d.Press("down", "down", "down", "down")
	if got := focusedField(e.m); got != "Token URL" {
		t.Fatalf("focus on %q", got)
	}
	e.d.Press("ctrl+u", "type:fleet-auth.example.com/token", "up", "up", "up", "enter")
	e.d.Until("the refusal", func() bool { return e.editOpen() && strings.Contains(dialogText(e.m), "✗") })
	if got := focusedField(e.m); got != "Token URL" || !strings.Contains(dialogText(e.m), "not an http or https URL; nothing was changed") {
		t.Fatalf("focus %q: %s", got, dialogText(e.m))
	}
	if got := e.stored(t)[0]; got.Endpoints.TokenURL != before.Endpoints.TokenURL {
		t.Fatal("a refused edit was written")
	}
	e.d.Press("esc")
	if e.editOpen() {
		t.Fatal("esc did not close the form")
	}

	// A new region moves the audience; the tokens stay.
	e.d.Press("E", "down", "ctrl+u", "type:eu", "enter")
	e.d.Until("the edit", e.noModals)
	after := e.stored(t)[0]
	eu, _ := oauth.Preset(accounts.KindFleet, "eu")
	if after.Region != "eu" || after.Audience != eu.Audience || after.Endpoints.TokenURL != before.Endpoints.TokenURL ||
		after.AccessToken != before.AccessToken || after.RefreshToken != before.RefreshToken {
		t.Fatalf("stored %+v", after)
	}
	if !strings.Contains(plain(e.m), "edited car, tokens kept: region na → eu") {
		t.Errorf("no toast:\n%s", plain(e.m))
	}
	e.d.Until("the reload", func() bool { return e.row(0).Account().Region == "eu" })
	// The kept tokens still refresh.
	e.d.Press("r")
	e.d.Until("the refresh", func() bool { return !e.busy(0) })
	if got := e.stored(t)[0]; got.RefreshToken == before.RefreshToken || e.srv.Stats().Refreshes != 1 {
		t.Fatal("the edited account did not refresh")
	}
}

// TestRefreshEndingInListAndDetail: 6 days 23 hours before the refresh
// token's estimated end the list and the detail page warn; 7 days 1 hour
// before, they do not. The detail page says what renews it: a refresh
// (its answer carries a new refresh token), or, when the server kept the
// refresh token at the last refresh, only a new login.
func TestRefreshEndingInListAndDetail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		left time.Duration
		kept bool // the last refresh kept the refresh token
		warn bool
		says string
	}{
		{"6d23h", accounts.RefreshEndingWithin - time.Hour, false, true,
			"Ending soon: refresh with r — the answer carries a new refresh token, good for about 3 more months"},
		{"6d23h kept at the last refresh", accounts.RefreshEndingWithin - time.Hour, true, true,
			"Ending soon, and refreshing does not renew it: the server kept it at the last refresh. Sign in again with n before then"},
		{"7d1h", accounts.RefreshEndingWithin + time.Hour, false, false,
			"Renewed by each refresh: its answer carries a new refresh token"},
		{"7d1h kept at the last refresh", accounts.RefreshEndingWithin + time.Hour, true, false,
			"Renewed by a new login only: the server kept this refresh token at the last refresh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := keyfobtest.Fixtures()[0]
			a.RefreshObtainedAt = keyfobtest.Now.Add(tc.left - accounts.RefreshTokenLifetime)
			a.LastRefresh = &accounts.RefreshResult{At: a.RefreshObtainedAt, OK: true}
			if tc.kept {
				a.LastRefresh.At = keyfobtest.Now.Add(-time.Hour)
			}
			m := newViewModel(t, []accounts.Account{a}, 120, 40)
			list := plain(m)
			if got := strings.Contains(list, "! refresh ending"); got != tc.warn {
				t.Errorf("list warns: %v\n%s", got, list)
			}
			if !tc.warn && !strings.Contains(list, "✓ valid") {
				t.Errorf("list:\n%s", list)
			}
			press(m, "enter")
			detail := strings.Join(strings.Fields(plain(m)), " ")
			if !strings.Contains(detail, tc.says) {
				t.Errorf("detail does not say %q:\n%s", tc.says, plain(m))
			}
			if got := strings.Contains(detail, "Status ! refresh ending"); got != tc.warn {
				t.Errorf("detail status: %v\n%s", got, plain(m))
			}
		})
	}
}

// TestEditFormAsksBeforeLeavingTheAccountsHosts: a Tesla account's token
// URL moved to a host that is neither Tesla's nor the account's brings a
// confirm step naming the host (and, for plain http, saying so); n goes
// back to the form with nothing written, y saves.
func TestEditFormAsksBeforeLeavingTheAccountsHosts(t *testing.T) {
	t.Parallel()
	e := newFlowEnv(t, sandbox.Options{}, seedOne(accounts.KindFleet, sandbox.MintRequest{ClientID: sandbox.FleetClientID}))
	before := e.stored(t)[0]
	moved := "http://tokens.example.com/oauth2/v3/token"
	e.d.Press("E", "down", "down", "down", "down", "ctrl+u", "type:"+moved, "enter")
	e.d.Until("the confirm step", func() bool { return strings.Contains(dialogText(e.m), "to another host?") })
	text := strings.Join(strings.Fields(dialogText(e.m)), " ")
	for _, want := range []string{"Move car to another host?", "The token URL would be on tokens.example.com, which is not one of Tesla's hosts",
		"the refresh token and client secret would be sent there", "The token URL would be plain http to tokens.example.com, another machine",
		"y make the change", "n back to the form"} {
		if !strings.Contains(text, want) {
			t.Errorf("the confirm step lacks %q: %s", want, text)
		}
	}
	e.d.Press("n")
	if !e.editOpen() || focusedField(e.m) != "Token URL" || !strings.Contains(dialogText(e.m), "not saved") {
		t.Fatalf("n did not go back to the form: %s", dialogText(e.m))
	}
	if got := e.stored(t)[0]; got.Endpoints.TokenURL != before.Endpoints.TokenURL {
		t.Fatal("a declined edit was written")
	}
	e.d.Press("enter")
	e.d.Until("the confirm step again", func() bool { return strings.Contains(dialogText(e.m), "to another host?") })
	e.d.Press("y")
	e.d.Until("the edit", e.noModals)
	if got := e.stored(t)[0]; got.Endpoints.TokenURL != moved || !got.AllowInsecureHTTP || got.RefreshToken != before.RefreshToken {
		t.Fatalf("stored %+v", got.Endpoints)
	}
}
