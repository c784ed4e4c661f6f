package oauth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestParseRedirect(t *testing.T) {
	cases := []struct {
		name, in                  string
		code, state, issuer, fail string
	}{
		{name: "owner URL", in: "tesla://auth/callback?code=abc123&state=st&issuer=https%3A%2F%2Fauth.tesla.com%2Foauth2%2Fv3",
			code: "abc123", state: "st", issuer: "https://auth.tesla.com/oauth2/v3"},
		{name: "quoted with newline", in: "  \"https://auth.tesla.com/void/callback?code=c1&state=s1\"\n", code: "c1", state: "s1"},
		{name: "angle brackets", in: "<http://127.0.0.1:8080/callback?code=c2>", code: "c2"},
		{name: "no scheme", in: "auth.tesla.com/void/callback?code=c3&state=s3", code: "c3", state: "s3"},
		{name: "just the query", in: "?code=c4&state=s4", code: "c4", state: "s4"},
		{name: "query without question mark", in: "code=c5&state=s5", code: "c5", state: "s5"},
		{name: "fragment", in: "https://app.example/cb#code=c6&state=s6", code: "c6", state: "s6"},
		{name: "bare code", in: "'NA_0a1b2c3d4e5f'\r\n", code: "NA_0a1b2c3d4e5f"},
		{name: "empty", in: " \n\t", fail: "nothing was pasted"},
		{name: "no code", in: "tesla://auth/callback?state=abc&issuer=x", fail: "the pasted URL has no code parameter; paste the address"},
		{name: "cancelled", in: "tesla://auth/callback?error=login_cancelled&error_description=User+cancelled+login&state=s",
			fail: "cancelled in the browser (login_cancelled: User cancelled login)"},
		{name: "other error", in: "http://127.0.0.1/cb?error=invalid_request&error_description=bad+scope", fail: "invalid_request: bad scope"},
		{name: "prose", in: "I could not sign in", fail: "neither a URL nor a code"},
		{name: "wrapped line", in: "tesla://auth/callback?code=NA_0a1b2c\n3d4e5f&state=s", fail: "paste the address again on one line"},
		{name: "space in code", in: "tesla://auth/callback?code=abc%20def&state=s", fail: "has a space or a line break"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, state, issuer, err := ParseRedirect(tc.in)
			if tc.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fail) {
					t.Fatalf("got (%q, %v), want an error containing %q", code, err, tc.fail)
				}
				return
			}
			if err != nil || code != tc.code || state != tc.state || issuer != tc.issuer {
				t.Fatalf("got %q %q %q %v", code, state, issuer, err)
			}
		})
	}
	_, _, _, err := ParseRedirect("tesla://auth/callback?error=login_cancelled")
	if !errors.Is(err, ErrLoginCancelled) {
		t.Errorf("login_cancelled is not ErrLoginCancelled: %v", err)
	}
	var ce *CallbackError
	if _, _, _, err := ParseRedirect("x://y?error=server_error"); !errors.As(err, &ce) || ce.Code != "server_error" || errors.Is(err, ErrLoginCancelled) {
		t.Errorf("server_error: %v", err)
	}
}

// FuzzParseRedirect checks ParseRedirect on anything a user could paste.
// Properties: it never panics; it returns either an error and nothing else,
// or a non-empty code without whitespace or control characters; and when
// the paste is exactly a URL whose query carries a code (and no error), the
// code (less surrounding spaces), state and issuer are that query's. The seed corpus is in
// testdata/fuzz/FuzzParseRedirect.
func FuzzParseRedirect(f *testing.F) {
	f.Add("tesla://auth/callback?code=NA_0a1b2c3d&state=st&issuer=https%3A%2F%2Fauth.tesla.com%2Foauth2%2Fv3")
	f.Fuzz(func(t *testing.T, s string) {
		code, state, issuer, err := ParseRedirect(s)
		if err != nil {
			if code != "" || state != "" || issuer != "" {
				t.Fatalf("ParseRedirect(%q) returned %q %q %q with the error %v", s, code, state, issuer, err)
			}
		} else {
			if code == "" {
				t.Fatalf("ParseRedirect(%q) returned no code and no error", s)
			}
			if i := strings.IndexFunc(code, badInCode); i >= 0 {
				t.Fatalf("ParseRedirect(%q) returned the code %q, with %q in it", s, code, code[i:])
			}
		}

		// A paste that is exactly a URL whose query carries a code.
		if strings.Trim(s, "\"'`<> \t\r\n") != s {
			return
		}
		u, perr := url.Parse(s)
		if perr != nil || u.Scheme == "" {
			return
		}
		// Spaces around the code are dropped like those around the paste.
		q := u.Query()
		want := strings.TrimSpace(q.Get("code"))
		if want == "" || q.Get("error") != "" {
			return
		}
		if strings.IndexFunc(want, badInCode) >= 0 {
			if err == nil {
				t.Fatalf("ParseRedirect(%q) accepted the code %q", s, code)
			}
			return
		}
		if err != nil || code != want || state != q.Get("state") || issuer != q.Get("issuer") {
			t.Fatalf("ParseRedirect(%q) = %q %q %q %v, want %q %q %q", s, code, state, issuer, err, want, q.Get("state"), q.Get("issuer"))
		}
	})
}

// badInCode reports what cannot be part of an authorization code as
// pasted: whitespace (a wrapped line) and control characters.
func badInCode(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
