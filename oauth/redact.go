package oauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// secretFields are the request fields whose values are secrets, in form
// and JSON bodies alike: client secrets, passwords, tokens, codes and
// PKCE verifiers.
var secretFields = map[string]bool{
	"client_secret": true, "password": true, "refresh_token": true, "access_token": true, "token": true,
	"code": true, "code_verifier": true, "id_token": true, "assertion": true, "client_assertion": true,
	"subject_token": true, "actor_token": true, "device_code": true, "auth_code": true,
}

// redactor removes from server text every secret one request sequence
// carried. It learns the secrets from the requests themselves (see
// recorder), so whatever keyfob sent is covered, not what a pattern
// guesses; the long-token heuristic of cleanText stays as a second net.
type redactor struct {
	secrets []string
	re      *regexp.Regexp // every form of every secret; nil until needed
}

// add records secrets (empty ones are ignored).
func (r *redactor) add(secrets ...string) {
	for _, s := range secrets {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
			r.re = nil
		}
	}
}

// addRequest records the secrets of req, whose body is body: the values of
// secretFields in a form or JSON body, and the Authorization header's
// credentials (the whole credential, and a Basic one's user and password,
// decoded).
func (r *redactor) addRequest(req *http.Request, body []byte) {
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch {
	case mt == "application/json":
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			for k, v := range m {
				if s, ok := v.(string); ok && secretFields[k] {
					r.add(s)
				}
			}
		}
	case len(body) > 0:
		form, _ := url.ParseQuery(string(body)) // what parses is what a server could echo
		for k, vs := range form {
			if secretFields[k] {
				r.add(vs...)
			}
		}
	}
	for k, vs := range req.URL.Query() {
		if secretFields[k] {
			r.add(vs...)
		}
	}
	r.addAuthorization(req)
}

// addAuthorization records the credentials of req's Authorization header.
func (r *redactor) addAuthorization(req *http.Request) {
	h := req.Header.Get("Authorization")
	if h == "" {
		return
	}
	if _, cred, ok := strings.Cut(h, " "); ok {
		r.add(strings.TrimSpace(cred))
	} else {
		r.add(h)
	}
	if user, pass, ok := req.BasicAuth(); ok {
		r.add(user, pass)
		// RFC 6749 §2.3.1 form-encodes both inside the header.
		if u, err := url.QueryUnescape(user); err == nil {
			r.add(u)
		}
		if p, err := url.QueryUnescape(pass); err == nil {
			r.add(p)
		}
	}
}

// forms lists s as a server may echo it: raw, URL-encoded (query and path
// escaping), JSON-escaped (with and without HTML escaping, with and without
// escaped slashes) and base64 (standard and URL alphabets, padded or not).
func forms(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	html, _ := json.Marshal(s) // a string always encodes
	var plain bytes.Buffer
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	for _, q := range []string{string(html), strings.TrimSuffix(plain.String(), "\n")} {
		q = q[1 : len(q)-1]
		out = append(out, q, strings.ReplaceAll(q, "/", `\/`))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString([]byte(s)))
	}
	return out
}

// pattern is one expression matching every form of every secret, longest
// first so that a form is never cut by a shorter one it contains;
// percent-escapes and base64 are matched without regard to case.
func (r *redactor) pattern() *regexp.Regexp {
	if r.re != nil || len(r.secrets) == 0 {
		return r.re
	}
	var all []string
	for _, s := range r.secrets {
		for _, f := range forms(s) {
			if f != "" && !slices.Contains(all, f) {
				all = append(all, f)
			}
		}
	}
	slices.SortFunc(all, func(a, b string) int { return len(b) - len(a) })
	for i, f := range all {
		all[i] = regexp.QuoteMeta(f)
	}
	r.re = regexp.MustCompile("(?i)" + strings.Join(all, "|"))
	return r.re
}

// redact replaces every form of every secret in s by "[redacted]".
func (r *redactor) redact(s string) string {
	if r == nil || len(r.secrets) == 0 || s == "" {
		return s
	}
	return r.pattern().ReplaceAllString(s, "[redacted]")
}

// clean is cleanText of s with the secrets removed first, before the
// text is cut, and again once its spaces are normalised. A nil redactor
// only cleans.
func (r *redactor) clean(s string, n int) string {
	if r == nil {
		return cleanText(s, n)
	}
	return cleanWith(r.redact(s), n, r.redact)
}

// CleanServerText makes text a server sent safe to show and store, for the
// packages that make requests of their own (oauth/fleetapi): every form of
// each secret removed (raw, URL-encoded, JSON-escaped, base64), control
// characters dropped, long token-like runs redacted, at most n runes.
func CleanServerText(s string, n int, secrets ...string) string {
	var r redactor
	r.add(secrets...)
	return r.clean(s, n)
}

// code is errorCode of s; a code that holds a secret is unreadable.
func (r *redactor) code(s string) string {
	if r != nil && r.redact(s) != s {
		return "unreadable_error"
	}
	return errorCode(s)
}

// requestBody returns the body of req without consuming it: from
// GetBody when the request can be replayed, else by reading it and putting
// a copy back. It reads at most maxForm bytes of a body it cannot replay.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, maxForm))
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}

// maxForm bounds the request bodies the redactor reads: keyfob's own are
// a few hundred bytes.
const maxForm = 1 << 20
