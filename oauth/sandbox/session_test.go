package sandbox

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// browser is a client with cookies that does not follow redirects: a
// browser whose every step the test sees.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
}

// A browser signed in to one account approves the next sign-in as that
// account, whoever login_hint names — as at Tesla, and why keyfob sends
// prompt=login. With prompt=login the sandbox asks for the password again,
// with a session and without LoginForm alike, and the user who signs in is
// the one whose password was typed.
func TestPromptLoginAsksForThePasswordAgain(t *testing.T) {
	for _, loginForm := range []bool{true, false} {
		s := NewTest(t, Options{LoginForm: loginForm, Users: []User{euUser}})
		b := browser(t)
		verifier, challenge := pkce("sess")
		q := authorizeParams(FleetClientID, loopbackRedirect, challenge, "openid")
		q.Set("prompt", "login")
		open := func(q url.Values) response {
			return do(t, b, mustRequest(t, http.MethodGet, s.Issuer()+"/authorize?"+q.Encode(), ""))
		}
		submit := func(q url.Values, who User) response {
			f := url.Values{}
			for k, v := range q {
				f[k] = v
			}
			f.Set("email", who.Email)
			f.Set("password", who.Password)
			return do(t, b, mustRequest(t, http.MethodPost, s.Issuer()+"/authorize", f.Encode()))
		}
		wantForm := func(what string, r response) {
			t.Helper()
			if r.status != 200 || r.header.Get("Location") != "" || !strings.Contains(string(r.body), `name="password"`) {
				t.Fatalf("form %v, %s: %d %s", loginForm, what, r.status, r.body)
			}
		}
		subject := func(r response) any {
			t.Helper()
			code := location(t, r).Query().Get("code")
			return claims(t, exchange(t, s.URL(), FleetClientID, code, verifier).str(t, "access_token"))["sub"]
		}
		wantForm("first sign-in", open(q))
		first := submit(q, s.User())
		if subject(first) != s.User().Subject {
			t.Fatal("the first sign-in is not the default user's")
		}

		// Signed in: without prompt=login the session's user approves,
		// although login_hint names another.
		plain := url.Values{}
		for k, v := range q {
			plain[k] = v
		}
		plain.Del("prompt")
		plain.Set("login_hint", euUser.Email)
		if got := subject(open(plain)); got != s.User().Subject {
			t.Errorf("form %v: a signed-in browser approved %v, want the session's user", loginForm, got)
		}

		// prompt=login asks again; the user typed decides.
		again := url.Values{}
		for k, v := range plain {
			again[k] = v
		}
		again.Set("prompt", "login")
		wantForm("prompt=login with a session", open(again))
		if got := subject(submit(again, s.Users()[1])); got != s.Users()[1].Subject {
			t.Errorf("form %v: prompt=login signed in %v, want the second user", loginForm, got)
		}
	}
}

// SignIn and Approve play a user who types the password the form asks
// for: a sign-in with prompt=login completes without LoginForm.
func TestApproveFillsTheForm(t *testing.T) {
	s := NewTest(t, Options{Users: []User{euUser}})
	_, challenge := pkce("fill")
	q := authorizeParams(FleetClientID, loopbackRedirect, challenge, "openid")
	q.Set("prompt", "login")
	q.Set("login_hint", euUser.Email)
	loc, err := s.Approve(context.Background(), s.Issuer()+"/authorize?"+q.Encode())
	if err != nil || !strings.HasPrefix(loc, loopbackRedirect+"?") {
		t.Fatalf("Approve: %q %v", loc, err)
	}
	if st := s.Stats(); st.Authorize != 1 {
		t.Errorf("stats %+v", st)
	}
}

func mustRequest(t *testing.T, method, rawURL, form string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}
