package oauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// person is someone at one browser, which keeps its cookies between
// sign-ins: where the sign-in page asks, they type in the email and
// password of the account they mean to add.
type person struct {
	t       *testing.T
	browser *http.Client
}

func newPerson(t *testing.T) *person {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &person{t: t, browser: &http.Client{Jar: jar}}
}

// signIn opens authURL, types who's credentials if a form comes, and lets
// the browser follow the redirects to keyfob's listener.
func (p *person) signIn(authURL string, who sandbox.User) {
	resp, err := p.browser.Get(authURL)
	if err != nil {
		p.t.Errorf("browser: %v", err)
		return
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `name="password"`) {
		return // approved at once: the browser followed to the listener
	}
	form := resp.Request.URL.Query()
	form.Set("email", who.Email)
	form.Set("password", who.Password)
	target := *resp.Request.URL
	target.RawQuery = ""
	if resp, err = p.browser.PostForm(target.String(), form); err != nil {
		p.t.Errorf("browser: %v", err)
		return
	}
	resp.Body.Close()
}

// A second account can be added while the browser is still signed in to
// the first: fleet and owner sign-ins ask for prompt=login, so the
// sign-in page asks again and the account is the one whose password was
// typed, not the signed-in one.
func TestSecondAccountWhileSignedInToTheFirst(t *testing.T) {
	second := sandbox.User{Email: "second@example.com", Password: "second-password"}
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{second}})
	e := &oauth.Engine{}
	me := newPerson(t)
	login := func(who sandbox.User) accounts.Account {
		t.Helper()
		a := preset(t, e, srv, accounts.KindFleet, "na")
		a.ClientID = sandbox.FleetClientID
		f, err := e.StartCodeFlow(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if q := mustQuery(t, f.AuthURL()); q.Get("prompt") != "login" {
			t.Fatalf("the fleet authorize URL asks prompt=%q", q.Get("prompt"))
		}
		go me.signIn(f.AuthURL(), who)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got, err := f.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := login(srv.User())
	if first.Email != srv.User().Email {
		t.Fatalf("first account %q", first.Email)
	}
	got := login(srv.Users()[1])
	if got.Email != second.Email || got.Subject == first.Subject {
		t.Fatalf("the second sign-in gave %q (subject %s): the browser's first account", got.Email, got.Subject)
	}
}

// prompt=login is Tesla's, for the kinds that sign a Tesla user in; a
// custom server's sign-in is left as the server decides.
func TestPromptLoginOnTeslaKindsOnly(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	for kind, want := range map[accounts.Kind]string{accounts.KindFleet: "login", accounts.KindOwner: "login", accounts.KindCustom: ""} {
		a := preset(t, e, srv, kind, "na")
		if kind == accounts.KindCustom {
			a.ClientID, a.Endpoints.RedirectURI = "custom-app", "x-keyfob-test://callback"
		} else if kind == accounts.KindFleet {
			a.ClientID = sandbox.FleetClientID
		}
		f, err := e.StartCodeFlow(context.Background(), a)
		if err != nil {
			t.Fatal(kind, err)
		}
		if got := mustQuery(t, f.AuthURL()).Get("prompt"); got != want {
			t.Errorf("%s: prompt=%q, want %q", kind, got, want)
		}
		f.Close()
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
