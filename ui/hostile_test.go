package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// hostileText is text from outside keyfob as a careless server, or a store
// edited by hand, may hold it: escape sequences, a bell, a line break that
// would forge a line, and marks that reorder what follows them on screen.
const hostileText = "Mallory \x1b[31mRed\x1b[0m Driver\x07\nkeyfob: all tokens valid \u202egnp.exe\u2066 \x1b]0;pwned\x07"

// hostileAuthority answers every request with hostileText.
type hostileAuthority struct{}

func (hostileAuthority) Refresh(context.Context, accounts.Account) (accounts.Grant, error) {
	return accounts.Grant{}, errors.New(hostileText)
}

func (hostileAuthority) Revoke(context.Context, accounts.Account) (accounts.Revocation, error) {
	return accounts.Revocation{Outcome: accounts.RevokeFailed, Detail: hostileText,
		ConsentURL: "https://auth.example.test/consent?" + hostileText}, errors.New(hostileText)
}

// TestHostileTextNeverReachesTheScreen puts hostileText wherever text from
// outside keyfob shows in the TUI (an account's name, email, state and last
// refresh in a store edited by hand, a consumer's address, a refresh's
// error, a revocation's answer and its consent page, a sign-in's addresses
// and its error) and checks every screen and dialog that shows it.
func TestHostileTextNeverReachesTheScreen(t *testing.T) {
	t.Parallel()
	a := keyfobtest.Fixtures()[5] // selfhost: custom, in error, with a revocation endpoint
	a.Name, a.Email, a.StateDetail = hostileText, hostileText, hostileText
	a.LastRefresh.Error = hostileText
	// A store edited by hand: names keyfob would refuse are kept as they
	// are when keyfob takes the store over.
	clock := func() time.Time { return keyfobtest.Now }
	dir := t.TempDir()
	keyfobtest.OldStore(t, dir, []accounts.Account{a}, []accounts.Consumer{{Name: "grafana", AccountID: a.ID,
		Hash: strings.Repeat("ab", 32), CreatedAt: keyfobtest.Now, LastUsedAt: keyfobtest.Now, LastAddress: hostileText}})
	mgr := keyfobtest.Manager(t, nil, accounts.Options{Dir: dir, Auth: hostileAuthority{}, Now: clock})
	m := newModelFor(t, Options{Manager: mgr, Engine: &oauth.Engine{}, Now: clock}, 160, 60)
	d := newDriver(t, m)
	check := func(where string) { t.Helper(); screenSafe(t, where, m.View().Content) }

	check("list")
	d.Press("enter")
	check("detail")
	for _, k := range []string{"e", "E", "x", "d", "u"} {
		d.Press(k)
		check("the dialog of " + k)
		d.Press("esc")
	}
	d.Press("r")
	d.Until("the refresh's error", func() bool { return strings.HasPrefix(m.toast.text, "refreshing ") })
	check("a refresh's error")
	d.Press("x", "y")
	d.Until("the revocation's answer", func() bool { return strings.Contains(dialogText(m), "did not revoke") })
	check("a revocation's answer")
	d.Press("enter")

	withSignIn(m, (&keyfobtest.SignIn{URL: "https://auth.example.test/authorize?" + hostileText,
		Redirect: "tesla://" + hostileText}).FailPaste(errors.New(hostileText)))
	d.Press("n", "down", "enter", "enter", "enter") // owner → na → sign in
	d.Until("the sign-in page", func() bool { return strings.Contains(dialogText(m), "Paste the address") })
	check("a sign-in page")
	d.Press("type:x", "enter")
	d.Until("the sign-in's error", func() bool { return strings.Contains(dialogText(m), "✗") })
	check("a sign-in's error")
}
