package oauth

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// ParseRedirect extracts the code, state and issuer from what a user
// pasted: the whole redirect URL (any scheme, e.g. tesla://auth/callback?…,
// or just its query), a bare code, or a line that holds the URL: Chrome's
// console message (Failed to launch 'tesla://…' because the scheme does
// not have a registered handler.), a DevTools "Request URL: …" or
// "location: …" header line (or a block of headers holding one), or a
// sentence ending in the URL. Surrounding whitespace and quotes are
// ignored. It fails when the URL carries error=… (saying what the server
// said), has no code, or nothing was pasted.
func ParseRedirect(pasted string) (code, state, issuer string, err error) {
	s := strings.TrimSpace(pasted)
	s = strings.Trim(s, "\"'`<> \t\r\n")
	if s == "" {
		return "", "", "", errors.New("nothing was pasted; paste the address of the page you landed on after signing in, or just its code")
	}
	if s, err = extractRedirect(s); err != nil {
		return "", "", "", err
	}
	if s == "" { // a console message naming no address
		return "", "", "", errors.New("the pasted message names no address; paste the address of the page you landed on after signing in, or just its code")
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

// Forms a redirect URL comes wrapped in.
var (
	// urlStart is a URL's scheme, at the start of the text.
	urlStart = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	// consoleLine is Chrome's (and Edge's) console message for an address
	// of a scheme no application handles.
	consoleLine = regexp.MustCompile(`(?s)Failed to launch '(.*)' because the scheme does not have a registered handler`)
	// labelLine is a DevTools line: "Request URL: …" (Chrome's Headers
	// tab, the label on a line of its own in newer versions), or a
	// response's "location: …" header.
	labelLine = regexp.MustCompile(`(?im)^[ \t]*(?:request url|location)[ \t]*(?::[ \t]*|\r?\n[ \t]*|[ \t]+)(\S+)[ \t]*\r?$`)
	// inProse is a URL after some words: "Navigated to tesla://…".
	inProse = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://\S+`)
)

// extractRedirect finds the redirect URL in s when s is not one itself:
// in a console message, a DevTools line, or a sentence. A URL followed by
// more of its query after a line break was wrapped: that is an error.
func extractRedirect(s string) (string, error) {
	if urlStart.MatchString(s) {
		return s, nil
	}
	if m := consoleLine.FindStringSubmatch(s); m != nil {
		return strings.TrimSpace(m[1]), nil
	}
	if m := labelLine.FindStringSubmatch(s); m != nil && strings.ContainsAny(m[1], "?=") {
		return strings.Trim(m[1], "\"'`<>"), nil
	}
	loc := inProse.FindStringIndex(s)
	if loc == nil || loc[0] == 0 {
		return s, nil
	}
	// Words before the URL, not a query whose values hold URLs.
	prefix := s[:loc[0]]
	if strings.ContainsAny(prefix, "=&?#") || !strings.ContainsAny(prefix[len(prefix)-1:], " \t\r\n'\"`<(:") {
		return s, nil
	}
	found := strings.TrimRight(s[loc[0]:loc[1]], ".,;:!)\"'`>")
	if rest := s[loc[1]:]; strings.ContainsAny(rest, "=&") {
		return "", errors.New("the address in the pasted text is broken over several lines; paste the address again on one line, exactly as the browser shows it")
	}
	return found, nil
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
