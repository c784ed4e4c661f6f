package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// Secrets used by the error tests; no error string may contain any of them.
const (
	secretAccess   = "at-SECRET-access-0123456789abcdef"
	secretRefresh  = "rt-SECRET-refresh-0123456789abcdef"
	secretClient   = "cs-SECRET-client-0123456789abcdef"
	secretPassword = "pw-SECRET-hunter2-password"
)

// operation under test: each runs one engine call against base.
type errOp struct {
	name string
	run  func(e *Engine, base string) error
	// refresh reports whether the call is a refresh (for login-required
	// mapping).
	refresh bool
}

var errOps = []errOp{
	{"refresh", func(e *Engine, base string) error {
		_, err := e.Refresh(context.Background(), accounts.Account{Kind: accounts.KindFleet, ClientID: "app",
			ClientSecret: secretClient, RefreshToken: secretRefresh, AccessToken: secretAccess,
			Endpoints: accounts.Endpoints{TokenURL: base + "/oauth2/v3/token"}})
		return err
	}, true},
	{"owner refresh", func(e *Engine, base string) error {
		_, err := e.Refresh(context.Background(), accounts.Account{Kind: accounts.KindOwner, ClientID: "ownerapi",
			RefreshToken: secretRefresh, Endpoints: accounts.Endpoints{TokenURL: base + "/oauth2/v3/token"}})
		return err
	}, true},
	{"legacy refresh", func(e *Engine, base string) error {
		_, err := e.Refresh(context.Background(), accounts.Account{Kind: accounts.KindLegacy, ClientID: "c",
			ClientSecret: secretClient, RefreshToken: secretRefresh, Endpoints: accounts.Endpoints{BaseURL: base}})
		return err
	}, true},
	{"client credentials", func(e *Engine, base string) error {
		_, err := e.Login(context.Background(), accounts.Account{Kind: accounts.KindPartner, ClientID: "p",
			ClientSecret: secretClient, Audience: "https://api.example",
			Endpoints: accounts.Endpoints{TokenURL: base + "/oauth2/v3/token"}}, Credentials{})
		return err
	}, false},
	{"custom password", func(e *Engine, base string) error {
		_, err := e.Login(context.Background(), accounts.Account{Kind: accounts.KindCustom, Grant: accounts.GrantPassword,
			ClientID: "c", ClientSecret: secretClient, Endpoints: accounts.Endpoints{TokenURL: base + "/token"}},
			Credentials{Email: "me@example.com", Password: secretPassword})
		return err
	}, false},
	{"legacy password", func(e *Engine, base string) error {
		_, err := e.Login(context.Background(), accounts.Account{Kind: accounts.KindLegacy, ClientID: "c",
			ClientSecret: secretClient, Endpoints: accounts.Endpoints{BaseURL: base}},
			Credentials{Email: "me@example.com", Password: secretPassword})
		return err
	}, false},
	{"code exchange", func(e *Engine, base string) error {
		a := customCodeAccount(base + "/token")
		a.ClientSecret = secretClient
		a.Endpoints.RedirectURI = "https://app.example/cb"
		f, err := e.StartCodeFlow(context.Background(), a)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Complete(context.Background(), "https://app.example/cb?code=the-code&state="+f.state)
		if err != nil && strings.Contains(err.Error(), f.verifier) {
			return fmt.Errorf("LEAK: the error holds the code verifier: %w", err)
		}
		return err
	}, false},
	{"revoke", func(e *Engine, base string) error {
		_, err := e.Revoke(context.Background(), accounts.Account{Kind: accounts.KindCustom, ClientID: "c",
			ClientSecret: secretClient, RefreshToken: secretRefresh, AccessToken: secretAccess,
			Endpoints: accounts.Endpoints{RevokeURL: base + "/revoke"}})
		return err
	}, false},
}

// echoBody reads the request and returns it, so fault handlers can echo
// every secret the client sent.
func echoBody(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b) + " " + r.Header.Get("Authorization") + " " + r.URL.RawQuery
}

type errFault struct {
	name    string
	handler http.HandlerFunc
	kind    string
	status  int
	says    string // part of the message
	// loginRequired: the error must match accounts.ErrLoginRequired on a
	// refresh (and must not elsewhere, except for the code exchange).
	loginRequired bool
	skip          map[string]bool // operations the fault does not apply to
}

// errFaults lists the failures; stop releases handlers that hang.
func errFaults(stop <-chan struct{}) []errFault {
	writeJSON := func(status int, body string, header ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_ = echoBody(r)
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	success := func(tokenType string, withAccess bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body := `{"token_type":"` + tokenType + `","expires_in":28800,"refresh_token":"new-` + secretRefresh + `"`
			if withAccess {
				body += `,"access_token":"new-` + secretAccess + `"`
			}
			writeJSON(200, body+"}")(w, r)
		}
	}
	noRevoke := map[string]bool{"revoke": true}
	return []errFault{
		{name: "5xx", handler: writeJSON(503, `{"error":"server_error"}`, "Retry-After", "12"), kind: KindOAuth, status: 503,
			says: "answered 503 server_error; the service may be down; try again in 12s"},
		{name: "429", handler: writeJSON(429, `{"error":"rate_limited"}`, "Retry-After", "7"), kind: KindOAuth, status: 429,
			says: "too many requests; try again in 7s"},
		{name: "login required", handler: writeJSON(401, `{"error":"login_required","error_description":"The refresh_token is invalid or expired"}`),
			kind: KindOAuth, status: 401, says: "401 login_required", loginRequired: true},
		{name: "invalid grant", handler: writeJSON(400, `{"error":"invalid_grant"}`), kind: KindOAuth, status: 400,
			says: "400 invalid_grant", loginRequired: true},
		{name: "echoing server", handler: func(w http.ResponseWriter, r *http.Request) {
			desc := strings.NewReplacer(`"`, "", `\`, "").Replace(echoBody(r))
			writeJSON(400, `{"error":"invalid_request","error_description":"you sent `+desc+`"}`)(w, r)
		}, kind: KindOAuth, status: 400, says: "400 invalid_request (you sent"},
		{name: "html", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprintf(w, "<html><body>Bad gateway %s</body></html>", echoBody(r))
		}, kind: KindHTML, status: 502, says: "answered 502 with a web page instead of JSON — the service may be down; try again later"},
		{name: "malformed json", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token": "%s`, secretAccess)
		}, kind: KindMalformed, status: 200, says: "sent a reply keyfob cannot read", skip: noRevoke},
		{name: "missing fields", handler: success("Bearer", false), kind: KindMissingFields, status: 200,
			says: "answered without an access token", skip: noRevoke},
		{name: "wrong token type", handler: success("mac", true), kind: KindTokenType, status: 200,
			says: `issued a token of type "mac"`, skip: noRevoke},
		{name: "timeout", handler: func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client leaving.
			_ = echoBody(r)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}, kind: KindTimeout, says: "within 300ms; check the network or try again"},
		{name: "slow drip", handler: func(w http.ResponseWriter, r *http.Request) {
			_ = echoBody(r)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			body := `{"access_token":"` + secretAccess + `","token_type":"Bearer"}`
			for i := range len(body) {
				if _, err := io.WriteString(w, body[i:i+1]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}, kind: KindTimeout, says: "no answer from", skip: noRevoke},
	}
}

func TestServerErrorsAreClassifiedAndSecretFree(t *testing.T) {
	t.Parallel()
	for i, f := range errFaults(nil) {
		t.Run(f.name, func(t *testing.T) {
			stop := make(chan struct{})
			f := errFaults(stop)[i]
			srv := httptest.NewServer(f.handler)
			defer srv.Close()
			defer close(stop)
			e := &Engine{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}}
			host := strings.TrimPrefix(srv.URL, "http://")
			// An operation against a fault that times out takes the
			// client's whole timeout however fast the machine is, so those
			// operations wait it out together.
			var waiting sync.WaitGroup
			defer waiting.Wait()
			for _, op := range errOps {
				if f.skip[op.name] {
					continue
				}
				check := func(t *testing.T) {
					err := op.run(e, srv.URL)
					if err == nil {
						t.Fatal("no error")
					}
					msg := err.Error()
					assertNoSecrets(t, msg)
					var se *ServerError
					if !errors.As(err, &se) {
						t.Fatalf("not a *ServerError: %T %v", err, err)
					}
					if se.Kind != f.kind || (f.status != 0 && se.StatusCode != f.status) {
						t.Errorf("kind %q status %d, want %q %d: %s", se.Kind, se.StatusCode, f.kind, f.status, msg)
					}
					if !strings.Contains(msg, host+"/") || !strings.Contains(msg, f.says) {
						t.Errorf("message %q does not name %s and say %q", msg, host, f.says)
					}
					wantLR := f.loginRequired && (op.refresh || op.name == "code exchange")
					if got := errors.Is(err, accounts.ErrLoginRequired); got != wantLR {
						t.Errorf("errors.Is(ErrLoginRequired) = %v, want %v: %s", got, wantLR, msg)
					}
					if wantLR && op.refresh && !strings.Contains(msg, "log in again") {
						t.Errorf("a login-required message does not say to log in again: %s", msg)
					}
				}
				if f.kind == KindTimeout {
					waiting.Go(func() { t.Run(op.name, check) })
				} else {
					t.Run(op.name, check)
				}
			}
		})
	}
}

func assertNoSecrets(t *testing.T, msg string) {
	t.Helper()
	for _, s := range []string{secretAccess, secretRefresh, secretClient, secretPassword, "SECRET"} {
		if strings.Contains(msg, s) {
			t.Fatalf("the error holds a secret (%s): %s", s, msg)
		}
	}
	if strings.Contains(msg, "LEAK") {
		t.Fatal(msg)
	}
}

func TestRefreshBare401IsLoginRequiredButNotForClientCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
	}))
	defer srv.Close()
	e := &Engine{}
	for _, op := range errOps {
		if op.name == "revoke" || op.name == "code exchange" {
			continue
		}
		err := op.run(e, srv.URL)
		if got := errors.Is(err, accounts.ErrLoginRequired); got != op.refresh {
			t.Errorf("%s: login required %v for a bare 401: %v", op.name, got, err)
		}
	}
	// A wrong password says to check it, and is not "login required".
	err := errOps[5].run(e, srv.URL)
	if !strings.Contains(err.Error(), "check the email and password") {
		t.Errorf("legacy password 401: %v", err)
	}
	err = errOps[3].run(e, srv.URL)
	if !strings.Contains(err.Error(), "check the client id and client secret") {
		t.Errorf("client credentials 401: %v", err)
	}
}

func TestNetworkErrorsAndCancellation(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	e := &Engine{}
	for _, op := range errOps {
		err := op.run(e, base)
		var se *ServerError
		if !errors.As(err, &se) || se.Kind != KindNetwork || se.StatusCode != 0 {
			t.Errorf("%s: %T %v", op.name, err, err)
			continue
		}
		if !strings.Contains(err.Error(), "cannot reach "+strings.TrimPrefix(base, "http://")) {
			t.Errorf("%s: %v", op.name, err)
		}
		assertNoSecrets(t, err.Error())
	}

	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = e.Refresh(ctx, accounts.Account{Kind: accounts.KindFleet, ClientID: "a", RefreshToken: secretRefresh,
		Endpoints: accounts.Endpoints{TokenURL: srv.URL + "/token"}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("cancel: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = e.Refresh(ctx, accounts.Account{Kind: accounts.KindFleet, ClientID: "a", RefreshToken: secretRefresh,
		Endpoints: accounts.Endpoints{TokenURL: srv.URL + "/token"}})
	var se *ServerError
	if !errors.As(err, &se) || se.Kind != KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
}

func TestServerErrorMessages(t *testing.T) {
	cases := []struct {
		e    ServerError
		want string
	}{
		{ServerError{Endpoint: "h/t", Kind: KindTimeout, timeout: 30 * time.Second}, "no answer from h/t within 30s; check the network or try again"},
		{ServerError{Endpoint: "h/t", Kind: KindMalformed, StatusCode: 200}, "h/t sent a reply keyfob cannot read"},
		{ServerError{Endpoint: "h/t", Kind: KindHTML, StatusCode: 502}, "h/t answered 502 with a web page instead of JSON — the service may be down; try again later"},
		{ServerError{Endpoint: "h/t", Kind: KindOAuth, StatusCode: 400, Code: "invalid_client"}, "h/t answered 400 invalid_client; check the client id and client secret"},
		{ServerError{Endpoint: "h/t", Kind: KindOAuth, StatusCode: 400, Code: "invalid_scope", Description: "nope"}, "answered 400 invalid_scope (nope); check the requested scopes"},
		{ServerError{Endpoint: "h/t", Kind: KindOAuth, StatusCode: 401, Code: "login_required", op: opRefresh}, "log in again"},
	}
	for _, tc := range cases {
		if got := tc.e.Error(); !strings.Contains(got, tc.want) {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestCleanTextRedactsTokens(t *testing.T) {
	in := "bad token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc\x00\n for client"
	got := cleanText(in, 200)
	if strings.Contains(got, "eyJ") || !strings.Contains(got, "[redacted]") || strings.ContainsAny(got, "\x00\n") {
		t.Errorf("cleanText = %q", got)
	}
	// Marks that reorder text on screen make server text lie about itself.
	if got := cleanText("invalid \u202egrant\u2066 \u200f", 200); strings.ContainsAny(got, "\u202e\u2066\u200f") {
		t.Errorf("cleanText kept a reordering mark: %q", got)
	}
	if got := cleanText(strings.Repeat("word ", 100), 20); len([]rune(got)) != 20 {
		t.Errorf("not trimmed: %q", got)
	}
	if errorCode("login_required") != "login_required" || errorCode(secretAccess+secretAccess) != "unreadable_error" {
		t.Error("errorCode")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"7": 7 * time.Second, "": 0, "-3": 0, "soon": 0, "999999": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	}
	for in, want := range cases {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// Tesla's region errors name the Fleet API host the user needs: the
// cleaning keeps web addresses that cannot hide a secret, and still
// removes every form of a known secret, and every unknown token-like run,
// inside any address.
func TestCleanTextKeepsPlainAddresses(t *testing.T) {
	for _, in := range []string{
		"user out of region, use base URL: https://fleet-api.prd.eu.vn.cloud.tesla.com, see https://developer.tesla.com/docs/fleet-api/getting-started/regions-countries",
		"must be registered in the current region https://fleet-api.prd.na.vn.cloud.tesla.com/, please see https://developer.tesla.com/docs/fleet-api/endpoints/partner-endpoints#register",
		"forbidden, see https://developer.tesla.com/docs/fleet-api",
		"use base URL: http://127.0.0.1:41234/fleet-api/eu.",
	} {
		if got := CleanServerText(in, 400, "some-secret"); got != in {
			t.Errorf("cleaned\n %q\nto\n %q", in, got)
		}
	}
	const uuid = "2244d21b-6cee-44a8-8a14-0cfcf60a1ec5"
	got := cleanText("Account "+uuid+" must be registered in the current region https://fleet-api.prd.na.vn.cloud.tesla.com/, please", 400)
	if want := "Account [redacted] must be registered in the current region https://fleet-api.prd.na.vn.cloud.tesla.com/, please"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	// Known secrets, in every form, wherever they sit in an address.
	for _, secret := range []string{echoSecret, "plain-secret-value", secretAccess} {
		for name, form := range secretForms(secret) {
			for _, in := range []string{
				"see https://fleet-api.prd.na.vn.cloud.tesla.com/" + form,
				"see https://fleet-api.prd.na.vn.cloud.tesla.com/api?token=" + form,
				"see https://fleet-api.prd.na.vn.cloud.tesla.com/#" + form,
				"see https://" + form + "@fleet-api.prd.na.vn.cloud.tesla.com/",
				"see https://" + form + ".example.com/",
				"see " + form + " https://developer.tesla.com/docs",
			} {
				out := CleanServerText(in, 400, secret)
				wantNoSecret(t, []string{out}, secret)
				if !strings.Contains(out, "[redacted]") {
					t.Errorf("%s form: %q came out without [redacted]: %q", name, in, out)
				}
			}
		}
	}
	// Unknown tokens inside addresses: the heuristic still takes them.
	for _, tok := range []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
		"NA_0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef01234567",
	} {
		for _, in := range []string{
			"https://fleet-api.prd.na.vn.cloud.tesla.com/" + tok,
			"https://fleet-api.prd.na.vn.cloud.tesla.com/api/1?code=" + tok,
			"https://user:" + tok + "@fleet-api.prd.na.vn.cloud.tesla.com/",
			"https://fleet-api.prd.na.vn.cloud.tesla.com/#" + tok,
			"https://" + strings.ToLower(strings.ReplaceAll(tok, ".", "-")) + ".example.com/",
		} {
			if out := cleanText(in, 400); strings.Contains(out, tok) || strings.Contains(out, strings.ToLower(strings.ReplaceAll(tok, ".", "-"))) || !strings.Contains(out, "[redacted]") {
				t.Errorf("cleanText(%q) = %q: the token survived", in, out)
			}
		}
	}
}

// TestCleanServerTextRemovesEveryFormOfAShortSecret: a secret too short
// for the long-token heuristic (a password such as hunter2!) is still cut
// out of server text in each form a server may echo it: raw, URL-encoded,
// JSON-escaped, and base64 in both alphabets, padded or not.
func TestCleanServerTextRemovesEveryFormOfAShortSecret(t *testing.T) {
	for _, secret := range []string{"hunter2!", ">>>???<&"} {
		b := []byte(secret)
		echoes := map[string]string{
			"raw": secret, "query-escaped": url.QueryEscape(secret), "path-escaped": url.PathEscape(secret),
			"base64": base64.StdEncoding.EncodeToString(b), "base64 unpadded": base64.RawStdEncoding.EncodeToString(b),
			"base64url": base64.URLEncoding.EncodeToString(b), "base64url unpadded": base64.RawURLEncoding.EncodeToString(b),
		}
		js, _ := json.Marshal(secret)
		echoes["JSON-escaped"] = string(js[1 : len(js)-1])
		for form, echo := range echoes {
			got := CleanServerText("invalid_client: you sent "+echo+" as the secret", 200, secret)
			if strings.Contains(got, echo) || !strings.Contains(got, "[redacted]") {
				t.Errorf("%q %s (%q): CleanServerText kept it: %q", secret, form, echo, got)
			}
		}
	}
}
