package oauth

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
)

// ParseRedirect extracts the code, state and issuer from what a user
// pasted: the whole redirect URL (any scheme, e.g. tesla://auth/callback?…,
// or just its query) or a bare code. Surrounding whitespace and quotes are
// ignored. It fails when the URL carries error=… (saying what the server
// said), has no code, or nothing was pasted.
func ParseRedirect(pasted string) (code, state, issuer string, err error) {
	s := strings.TrimSpace(pasted)
	s = strings.Trim(s, "\"'`<> \t\r\n")
	if s == "" {
		return "", "", "", errors.New("nothing was pasted; paste the address of the page you landed on after signing in, or just its code")
	}
	if !strings.ContainsAny(s, "?=&#") && !strings.Contains(s, "://") {
		if !plausibleCode(s) {
			return "", "", "", errors.New("the pasted text is neither a URL nor a code; paste the address of the page you landed on after signing in, or just its code")
		}
		return s, "", "", nil
	}
	q, err := redirectQuery(s)
	if err != nil {
		return "", "", "", err
	}
	if e := q.Get("error"); e != "" {
		return "", "", "", &CallbackError{Code: errorCode(e), Description: cleanText(q.Get("error_description"), 200)}
	}
	code = strings.TrimSpace(q.Get("code"))
	if code == "" {
		return "", "", "", errors.New("the pasted URL has no code parameter; paste the address of the page you landed on after signing in, or just its code")
	}
	// No server issues such a code: the address was wrapped or mangled on
	// its way to the terminal, and the server would only say invalid_grant.
	if strings.IndexFunc(code, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", "", "", errors.New("the code in the pasted address has a space or a line break in it; paste the address again on one line, exactly as the browser shows it")
	}
	return code, q.Get("state"), q.Get("issuer"), nil
}

// redirectQuery finds the parameters of a pasted URL: its query, else its
// fragment (response_mode=fragment), else the text itself as a query.
func redirectQuery(s string) (url.Values, error) {
	if u, err := url.Parse(s); err == nil && (u.Scheme != "" || strings.HasPrefix(s, "?") || strings.HasPrefix(s, "/")) {
		q := u.Query()
		if q.Get("code") == "" && q.Get("error") == "" && u.Fragment != "" {
			if fq, err := url.ParseQuery(u.Fragment); err == nil {
				return fq, nil
			}
		}
		return q, nil
	}
	s = strings.TrimPrefix(s, "?")
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '#'); i >= 0 && !strings.Contains(s[:i], "code=") {
		s = s[i+1:]
	}
	q, err := url.ParseQuery(s)
	if err != nil && len(q) == 0 {
		return nil, errors.New("the pasted text is not a URL keyfob can read; paste the address of the page you landed on after signing in, or just its code")
	}
	return q, nil
}

// plausibleCode accepts what an authorization code looks like: URL-safe
// characters without spaces.
func plausibleCode(s string) bool {
	if len(s) > 4096 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-._~+/%", r):
		default:
			return false
		}
	}
	return true
}
