package sandbox

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// maxForm bounds request bodies; real ones are a few hundred bytes.
const maxForm = 1 << 20

// serveAuthorize is the browser's authorization endpoint, on both hosts.
// It approves at once, or with LoginForm asks for the user's email and
// password first. At the main host, a China user's request goes on at the
// China host. Errors it can trust the redirect_uri for go back to the
// client in the redirect; a bad client_id or redirect_uri gets a 400 page,
// never a redirect (RFC 6749 §4.1.2.1).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q, ok := s.authorizeQuery(w, r)
	if !ok {
		return
	}
	clientID, redirect, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	if clientID == "" {
		writePage(w, http.StatusBadRequest, "The request has no client_id. The app that sent you here is misconfigured.")
		return
	}
	if msg := s.redirectProblem(clientID, redirect); msg != "" {
		writePage(w, http.StatusBadRequest, msg+" The app that sent you here is misconfigured.")
		return
	}
	cn := isChina(r)
	email := q.Get("login_hint")
	if r.Method == http.MethodPost {
		email = q.Get("email")
	} else if who, ok := s.session(r); ok && !promptLogin(q) {
		email = who.Email // a signed-in browser stays signed in
	}
	if target, ok := s.chinaRedirect(q, email); ok && !cn {
		redirectTo(w, target, nil)
		return
	}
	fail := func(code, description string) {
		v := url.Values{"error": {code}, "error_description": {description}}
		if state != "" {
			v.Set("state", state)
		}
		redirectTo(w, redirect, v)
	}
	if code, description := checkAuthorizeParams(q); code != "" {
		fail(code, description)
		return
	}
	if _, ok := s.takeFault(true); ok {
		fail("login_cancelled", "The user cancelled the login.")
		return
	}
	who, ok := s.signInUser(w, r, q, fail)
	if !ok {
		return
	}
	code := s.newCode(q, who, cn)
	var header http.Header
	if r.Method == http.MethodPost {
		header = s.startSession(who)
	}
	redirectWith(w, redirect, url.Values{"code": {code}, "state": {state}, "issuer": {s.issuerOf(cn)}}, header)
}

// authorizeQuery returns the parameters of an authorize request: its query,
// or the submitted login form. It answers the request itself and returns
// false when there are none to read.
func (s *Server) authorizeQuery(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return r.URL.Query(), true
	case r.Method == http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			writePage(w, http.StatusBadRequest, "The sign-in form could not be read. Start the login again from the app.")
			return nil, false
		}
		// Only a sign-in form posts here: with LoginForm, or when the
		// request asked for it with prompt=login.
		if s.form || promptLogin(r.PostForm) {
			return r.PostForm, true
		}
	}
	writeReply(w, methodNotAllowed(http.MethodGet))
	return nil, false
}

// checkAuthorizeParams returns the error code and description of an
// authorize request the client should hear about, or "".
func checkAuthorizeParams(q url.Values) (code, description string) {
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		return "unsupported_response_type", "response_type must be code."
	case q.Get("state") == "":
		return "invalid_request", "The state parameter is required."
	case challenge == "":
		return "invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256."
	case method != "S256":
		return "invalid_request", "code_challenge_method must be S256; plain is not supported."
	case !validPKCE(challenge):
		return "invalid_request", "code_challenge must be 43 to 128 characters of base64url."
	}
	return "", ""
}

// signInUser returns the user who approves the request q. A browser that
// signed in through the form before stays signed in (its session cookie):
// its user approves whatever login_hint says, as at Tesla. prompt=login,
// and LoginForm without a session, ask for the email and password (showing
// the form first); otherwise the one login_hint names, or the default
// user, approves at once. It answers the request itself and returns false
// when the login is not done.
func (s *Server) signInUser(w http.ResponseWriter, r *http.Request, q url.Values, fail func(code, description string)) (User, bool) {
	if r.Method != http.MethodPost {
		who, signedIn := s.session(r)
		switch {
		case promptLogin(q) || (s.form && !signedIn):
			s.writeLoginForm(w, http.StatusOK, q, q.Get("login_hint"), "")
			return User{}, false
		case signedIn:
			return who, true
		}
		return s.hintedUser(q.Get("login_hint")), true
	}
	if q.Get("cancel") != "" {
		fail("login_cancelled", "The user cancelled the login.")
		return User{}, false
	}
	who, ok := s.checkUser(q.Get("email"), q.Get("password"))
	if !ok {
		s.writeLoginForm(w, http.StatusUnauthorized, q, q.Get("email"), "The email or password is wrong.")
		return User{}, false
	}
	return who, true
}

// newCode records an authorization code of request q for who, issued by
// the China host when cn, and returns it.
func (s *Server) newCode(q url.Values, who User, cn bool) string {
	code := randomHex(20)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for c, ac := range s.codes {
		if !now.Before(ac.expiry) {
			delete(s.codes, c)
		}
	}
	s.codes[code] = &authCode{
		clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		nonce: q.Get("nonce"), scopes: s.grantable(strings.Fields(q.Get("scope"))), expiry: now.Add(codeTTL),
		who: who, china: cn,
	}
	s.stats.Authorize++
	return code
}

// validPKCE reports whether v has the length and alphabet RFC 7636 §4.1
// allows for a code verifier, which an S256 challenge also satisfies.
func validPKCE(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

// redirectTo answers 302 to target with params added to its query. It sets
// Location itself so custom schemes such as tesla:// pass untouched.
func redirectTo(w http.ResponseWriter, target string, params url.Values) {
	redirectWith(w, target, params, nil)
}

// redirectWith is redirectTo with extra headers (a session cookie).
func redirectWith(w http.ResponseWriter, target string, params url.Values, header http.Header) {
	for k, v := range header {
		w.Header()[k] = v
	}
	u, err := url.Parse(target)
	if err != nil {
		// redirectProblem has accepted target already.
		writePage(w, http.StatusBadRequest, "The redirect_uri is not a valid URI.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>keyfob sandbox</title></head>
<body><h1>keyfob sandbox</h1><p>{{.}}</p></body></html>
`))

// textEscaper escapes what matters in an HTML text node, and leaves
// apostrophes and quotes as they are, so a page's source holds Tesla's
// words ("We don't recognize …") verbatim for clients that search it.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// writePage answers an HTML page with message.
func writePage(w http.ResponseWriter, status int, message string) {
	var b bytes.Buffer
	_ = pageTemplate.Execute(&b, template.HTML(textEscaper.Replace(message)))
	writeReply(w, reply{status: status, contentType: "text/html; charset=utf-8", body: b.Bytes()})
}

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in — keyfob sandbox</title></head>
<body>
<h1>Sign in to the keyfob sandbox</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>
{{end}}<form method="post" action="/oauth2/v3/authorize">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label>Email <input type="email" name="email" value="{{.Email}}" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
<button type="submit" name="cancel" value="1" formnovalidate>Cancel</button>
</form>
</body></html>
`))

// writeLoginForm answers the login form carrying the authorize request q,
// with the email field filled and an optional error.
func (s *Server) writeLoginForm(w http.ResponseWriter, status int, q url.Values, email, errText string) {
	type field struct{ Name, Value string }
	data := struct {
		Error, Email string
		Hidden       []field
	}{Error: errText, Email: email}
	for k, vs := range q {
		if k == "email" || k == "password" || k == "cancel" {
			continue
		}
		for _, v := range vs {
			data.Hidden = append(data.Hidden, field{k, v})
		}
	}
	var b bytes.Buffer
	_ = loginTemplate.Execute(&b, data)
	rep := reply{status: status, contentType: "text/html; charset=utf-8", body: b.Bytes()}
	rep.header = http.Header{"Cache-Control": {"no-store"}, loginFormHeader: {"1"}}
	writeReply(w, rep)
}
