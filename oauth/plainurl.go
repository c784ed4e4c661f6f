package oauth

import (
	"net"
	"net/url"
	"regexp"
	"strings"
)

// webAddress finds the web addresses in server text. It stops at the
// characters that end an address in a sentence or in JSON.
var webAddress = regexp.MustCompile(`\b[Hh][Tt][Tt][Pp][Ss]?://[^\s"'<>()\[\]{}\\,;|` + "`" + `]+`)

// redactTokenLike redacts the long token-like runs of s (tokenLike),
// except inside plain web addresses (plainURL): Tesla's region errors
// name the Fleet API host the user must use ("use base URL:
// https://fleet-api.prd.eu.vn.cloud.tesla.com"), which the heuristic
// alone would cut to "https:[redacted]". An address that could carry a
// secret is redacted as before. Known secrets are removed before this
// runs (redactor.clean), inside addresses too.
func redactTokenLike(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range webAddress.FindAllStringIndex(s, -1) {
		end := m[0] + len(strings.TrimRight(s[m[0]:m[1]], ".:!?"))
		if !plainURL(s[m[0]:end]) {
			continue
		}
		b.WriteString(tokenLike.ReplaceAllString(s[last:m[0]], "[redacted]"))
		b.WriteString(s[m[0]:end])
		last = end
	}
	b.WriteString(tokenLike.ReplaceAllString(s[last:], "[redacted]"))
	return b.String()
}

// plainWord is one host label, path segment or fragment of a plain
// address: short, lower case, no escapes.
var plainWord = regexp.MustCompile(`^[a-z0-9._~-]{0,23}$`)

// plainURL reports whether raw is a web address that cannot be hiding a
// secret: http or https, no user, no query; a host name, an IP address
// or loopback with a port; and a path and fragment of short lower-case
// words, none of which mixes digits into a long run (tokens are long,
// mixed-case or hex). https://fleet-api.prd.na.vn.cloud.tesla.com/ and
// https://developer.tesla.com/docs/fleet-api#register are plain.
func plainURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Opaque != "" ||
		(u.Scheme != "http" && u.Scheme != "https") || len(raw) > 160 {
		return false
	}
	if !plainHost(u.Host) || !plainWords(strings.Split(u.EscapedPath(), "/")) {
		return false
	}
	return u.Fragment == "" || plainWords([]string{u.EscapedFragment()})
}

// plainHost reports whether host (with an optional port) is an IP
// address or a name of plain words.
func plainHost(host string) bool {
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = host, ""
	}
	if strings.Trim(port, "0123456789") != "" {
		return false
	}
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		return true
	}
	labels := strings.Split(name, ".")
	return name != "" && !strings.Contains(name, "..") && plainWords(labels) && !strings.ContainsAny(name, "_~")
}

// plainWords reports whether every word is plain: plainWord, and a word
// of 16 characters or more has no digit.
func plainWords(words []string) bool {
	for _, w := range words {
		if !plainWord.MatchString(w) || (len(w) >= 16 && strings.ContainsAny(w, "0123456789")) {
			return false
		}
	}
	return true
}
