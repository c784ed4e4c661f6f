package oauth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// consoleMessage is what Chrome's console prints when the sign-in sends
// the browser to tesla://, which no application handles.
const consoleMessage = "Failed to launch 'tesla://auth/callback?code=NA_5f0c3a2e&state=st8&issuer=https%3A%2F%2Fauth.tesla.cn%2Foauth2%2Fv3' because the scheme does not have a registered handler."

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
		{name: "chrome console", in: consoleMessage, code: "NA_5f0c3a2e", state: "st8", issuer: "https://auth.tesla.cn/oauth2/v3"},
		{name: "chrome console wrapped", in: "Failed to launch 'tesla://auth/callback?code=NA_5f\n0c3a2e&state=st8' because the scheme does not have a registered handler.",
			fail: "paste the address again on one line"},
		{name: "devtools request url", in: "Request URL: tesla://auth/callback?code=c8&state=s8", code: "c8", state: "s8"},
		{name: "devtools request url on two lines", in: "Request URL\n tesla://auth/callback?code=c9&state=s9\n", code: "c9", state: "s9"},
		{name: "response headers", in: "HTTP/2 302\r\ncache-control: no-store\r\nlocation: tesla://auth/callback?code=c10&state=s10&issuer=x\r\ncontent-length: 0",
			code: "c10", state: "s10", issuer: "x"},
		{name: "sentence", in: "Navigated to tesla://auth/callback?code=c11&state=s11.", code: "c11", state: "s11"},
		{name: "sentence wrapped", in: "Navigated to tesla://auth/callback?code=c1\n2&state=s", fail: "broken over several lines"},
		{name: "query with a raw issuer", in: "code=c12&state=s12&issuer=https://auth.tesla.cn/oauth2/v3", code: "c12", state: "s12",
			issuer: "https://auth.tesla.cn/oauth2/v3"},
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
// code (less surrounding spaces), state and issuer are that query's, also
// when the URL comes inside Chrome's console message or after DevTools'
// "Request URL:". The seed corpus is in testdata/fuzz/FuzzParseRedirect,
// with every form the paste instructions (ui/present.PasteHelp) name.
func FuzzParseRedirect(f *testing.F) {
	f.Add("tesla://auth/callback?code=NA_0a1b2c3d&state=st&issuer=https%3A%2F%2Fauth.tesla.com%2Foauth2%2Fv3")
	f.Add(consoleMessage)
	f.Add("Request URL: tesla://auth/callback?code=NA_0a1b2c3d&state=st")
	f.Add("location: tesla://auth/callback?code=NA_0a1b2c3d&state=st")
	f.Add("?code=NA_0a1b2c3d&state=st")
	f.Add("NA_0a1b2c3d")
	f.Fuzz(func(t *testing.T, s string) {
		code, state, issuer, err := ParseRedirect(s)
		checkParsed(t, s, code, err)
		want, ok := urlQuery(s)
		if !ok {
			return
		}
		wantCode := strings.TrimSpace(want.Get("code"))
		if strings.IndexFunc(wantCode, badInCode) >= 0 {
			if err == nil {
				t.Fatalf("ParseRedirect(%q) accepted the code %q", s, code)
			}
			return
		}
		if err != nil || code != wantCode || state != want.Get("state") || issuer != want.Get("issuer") {
			t.Fatalf("ParseRedirect(%q) = %q %q %q %v, want %q %q %q", s, code, state, issuer, err, wantCode, want.Get("state"), want.Get("issuer"))
		}
		if strings.ContainsAny(s, "' \t\r\n") {
			return
		}
		for _, wrapped := range []string{"Failed to launch '" + s + "' because the scheme does not have a registered handler.", "Request URL: " + s} {
			c, st, iss, err := ParseRedirect(wrapped)
			if err != nil || c != code || st != state || iss != issuer {
				t.Fatalf("ParseRedirect(%q) = %q %q %q %v, want %q %q %q", wrapped, c, st, iss, err, code, state, issuer)
			}
		}
	})
}

// checkParsed fails unless ParseRedirect returned an error and nothing
// else, or a code without whitespace or control characters.
func checkParsed(t *testing.T, s, code string, err error) {
	t.Helper()
	switch {
	case err != nil && code != "":
		t.Fatalf("ParseRedirect(%q) returned %q with the error %v", s, code, err)
	case err == nil && code == "":
		t.Fatalf("ParseRedirect(%q) returned no code and no error", s)
	case err == nil && strings.IndexFunc(code, badInCode) >= 0:
		t.Fatalf("ParseRedirect(%q) returned the code %q", s, code)
	}
}

// urlQuery is the query of s when s is exactly a URL (with a scheme, no
// surrounding quotes or spaces) carrying a code and no error.
func urlQuery(s string) (url.Values, bool) {
	// A browser never shows an address with raw white space in it: a paste
	// that has some is a sentence around an address (or a wrapped one),
	// which the other properties cover.
	if strings.Trim(s, "\"'`<> \t\r\n") != s || strings.ContainsFunc(s, unicode.IsSpace) {
		return nil, false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil, false
	}
	q := u.Query()
	if strings.TrimSpace(q.Get("code")) == "" || q.Get("error") != "" {
		return nil, false
	}
	return q, true
}

// badInCode reports what cannot be part of an authorization code as
// pasted: whitespace (a wrapped line) and control characters.
func badInCode(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
