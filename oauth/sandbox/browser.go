package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SignIn plays a user's browser: it signs in at authURL as Approve does
// and then follows the answer while it is a web address (a loopback
// callback, which completes a login by itself). It returns the last
// address reached: that callback's, or a tesla:// address a user would
// copy and paste. Each call is a new browser, signed in nowhere.
func (s *Server) SignIn(ctx context.Context, authURL string) (landed string, err error) {
	landed, err = s.Approve(ctx, authURL)
	if err != nil {
		return landed, err
	}
	if u, perr := url.Parse(landed); perr != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return landed, nil
	}
	client := &http.Client{
		Transport: s.transport,
		Timeout:   30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			landed = req.URL.String()
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("the sign-in redirected too many times")
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, landed, nil)
	if err != nil {
		return landed, fmt.Errorf("the sign-in sent the browser to an address that is not valid: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return landed, fmt.Errorf("could not open the page the sign-in sent the browser to: %w", err)
	}
	resp.Body.Close()
	return landed, nil
}

// Approve plays a user at the sign-in page authURL, up to the sandbox's
// answer: it opens the page, follows the sandbox's moves between its hosts
// (a China user's sign-in), and where the sandbox shows its login form
// (LoginForm, or prompt=login) types in the email and password of the
// user login_hint names, else the default user's. It returns the address
// the sandbox sends the browser back to — the client's redirect URI with
// the code, or with an error — without opening it.
func (s *Server) Approve(ctx context.Context, authURL string) (string, error) {
	return approve(ctx, s.transport, authURL, func(hint string) (string, string) {
		u := s.hintedUser(hint)
		return u.Email, u.Password
	})
}

// Approve is (*Server).Approve for a browser without the Server at hand
// (one in another process): it signs in with DefaultUser's password, which
// every user has unless Options gave another, and trusts only the system's
// certificates.
func Approve(ctx context.Context, authURL string) (string, error) {
	return approve(ctx, http.DefaultTransport, authURL, func(hint string) (string, string) {
		return cmpStr(strings.TrimSpace(hint), DefaultUser().Email), DefaultUser().Password
	})
}

// approve is Approve through rt, signing in as who(login_hint) says.
func approve(ctx context.Context, rt http.RoundTripper, authURL string, who func(hint string) (email, password string)) (string, error) {
	client := &http.Client{Transport: rt, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", fmt.Errorf("the sign-in address is not valid: %w", err)
	}
	for range 10 {
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("could not open the sign-in page: %w", err)
		}
		resp.Body.Close()
		page := req.URL
		switch loc := resp.Header.Get("Location"); {
		case resp.Header.Get(loginFormHeader) != "":
			if req, err = loginFormRequest(ctx, page, who); err != nil {
				return "", err
			}
		case resp.StatusCode >= 400:
			return "", fmt.Errorf("the sign-in page answered %s", resp.Status)
		case loc == "":
			return "", fmt.Errorf("the sign-in page answered %s without sending the browser anywhere", resp.Status)
		default:
			next, err := page.Parse(loc)
			if err != nil || next.Path != "/oauth2/v3/authorize" || (next.Scheme != "http" && next.Scheme != "https") {
				return loc, nil // the client's redirect URI
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil); err != nil {
				return "", err
			}
		}
	}
	return "", errors.New("the sign-in sent the browser around more than 10 times")
}

// loginFormRequest is what a user sends by filling in the login form that
// the authorize request page showed: the request's parameters, with the
// email and password of who(login_hint).
func loginFormRequest(ctx context.Context, page *url.URL, who func(hint string) (string, string)) (*http.Request, error) {
	form := page.Query()
	if page.RawQuery == "" { // the form came back to a submission: keep what was sent
		return nil, errors.New("the sign-in refused the email and password of its user")
	}
	email, password := who(form.Get("login_hint"))
	form.Set("email", email)
	form.Set("password", password)
	target := *page
	target.RawQuery = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// cmpStr returns s, or def when s is empty.
func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
