package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/keyfob/keyfob/accounts"
)

// CodeFlow is one authorization-code login with PKCE in progress. The
// browser comes back either to a loopback listener (Wait) or to a page
// whose address the user pastes (Complete).
type CodeFlow struct {
	e        *Engine
	acct     accounts.Account
	conf     *oauth2.Config
	verifier string
	state    string
	authURL  string
	redirect string
	opts     LoginOptions
	allow    bool // plain http endpoints off loopback are allowed

	srv       *http.Server // nil for a paste flow
	callbacks chan callback
	closed    chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	delivered bool // a callback that ends the flow was handed to Wait
	finished  bool // a code was exchanged successfully

	exchangeMu sync.Mutex // one code exchange at a time
}

// callback is what the loopback listener received; reply carries the
// result back so the browser page can say how the login ended.
type callback struct {
	code, issuer string
	err          error
	reply        chan result
}

type result struct {
	acct accounts.Account
	err  error
}

// StartCodeFlow prepares a code flow for a (fleet, owner, or custom with
// grant code): a PKCE S256 verifier, a random state and the authorize URL.
// When the redirect URI is empty or a loopback http URI (127.0.0.1,
// localhost, [::1], with or without a port) it starts a listener on
// 127.0.0.1 only, on the URI's port or an ephemeral one (an empty redirect
// URI becomes http://127.0.0.1:PORT/callback). Any other redirect URI (the
// Owner API's tesla://auth/callback, a remote https page) makes a paste
// flow. ctx only bounds the setup; Close ends the flow.
func (e *Engine) StartCodeFlow(ctx context.Context, a accounts.Account) (*CodeFlow, error) {
	return e.StartCodeFlowWith(ctx, a, LoginOptions{})
}

// StartCodeFlowWith is StartCodeFlow with the options of one login.
func (e *Engine) StartCodeFlowWith(ctx context.Context, a accounts.Account, o LoginOptions) (*CodeFlow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if GrantOf(a) != accounts.GrantCode {
		return nil, fmt.Errorf("a %s account does not sign in in the browser; use the password or client-credentials login", a.Kind)
	}
	if err := ValidateWith(PurposeLogin, a, o); err != nil {
		return nil, err
	}
	state, err := randomString(24)
	if err != nil {
		return nil, err
	}
	f := &CodeFlow{
		e:         e,
		acct:      a,
		verifier:  oauth2.GenerateVerifier(),
		state:     state,
		callbacks: make(chan callback, 1),
		closed:    make(chan struct{}),
		opts:      o,
		allow:     o.AllowInsecureHTTP || e.allowsHTTP(a),
	}
	loopback, port, err := redirectPlan(a.Endpoints.RedirectURI)
	if err != nil {
		return nil, err
	}
	f.redirect = a.Endpoints.RedirectURI
	if loopback {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			return nil, fmt.Errorf("cannot listen on 127.0.0.1:%s for the browser's answer (%w); free the port or register another redirect URI",
				port, err)
		}
		path := "/callback"
		if a.Endpoints.RedirectURI == "" {
			f.redirect = fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
		} else {
			// A registered loopback URI keeps its host and path; without a
			// port it gets the listener's (loopback redirects may use any
			// port, RFC 8252 §7.3).
			u, _ := url.Parse(a.Endpoints.RedirectURI)
			if path = u.Path; path == "" {
				path = "/"
			}
			if port == "0" {
				u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
				f.redirect = u.String()
			}
		}
		mux := http.NewServeMux()
		mux.HandleFunc(path, f.handle)
		// Server errors would be logged to stderr, under the terminal UI.
		f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		go func() { _ = f.srv.Serve(ln) }()
	}
	f.conf = oauthConfig(a, f.redirect)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier)}
	switch a.Kind {
	case accounts.KindOwner:
		if a.Email != "" {
			opts = append(opts, oauth2.SetAuthURLParam("login_hint", a.Email))
		}
	case accounts.KindFleet:
		opts = append(opts, oauth2.SetAuthURLParam("prompt_missing_scopes", "true"))
	}
	f.authURL = f.conf.AuthCodeURL(f.state, opts...)
	return f, nil
}

// redirectPlan decides how a redirect URI is served: loopback reports
// whether keyfob listens for it, on port ("0" for an ephemeral one).
func redirectPlan(uri string) (loopback bool, port string, err error) {
	if uri == "" {
		return true, "0", nil
	}
	u, perr := url.Parse(uri)
	if perr != nil || u.Scheme == "" {
		return false, "", fieldErr(FieldRedirectURI, "the redirect URI %q is not a valid URI", cleanText(uri, 100))
	}
	if u.Scheme != "http" {
		return false, "", nil
	}
	switch strings.ToLower(u.Hostname()) {
	case "127.0.0.1", "localhost", "::1":
	default:
		return false, "", nil
	}
	port = u.Port()
	if port == "" {
		return true, "0", nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return false, "", fieldErr(FieldRedirectURI, "the redirect URI has an invalid port %q", cleanText(port, 20))
	}
	return true, port, nil
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot get random bytes for the login: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AuthURL is the address to open in the browser.
func (f *CodeFlow) AuthURL() string { return f.authURL }

// RedirectURI is where the browser is sent back to.
func (f *CodeFlow) RedirectURI() string { return f.redirect }

// Loopback reports whether a listener waits for the browser's answer.
func (f *CodeFlow) Loopback() bool { return f.srv != nil }

// OpenBrowser opens AuthURL with the engine's OpenBrowser.
func (f *CodeFlow) OpenBrowser() error {
	if f.e != nil && f.e.OpenBrowser != nil {
		return f.e.OpenBrowser(f.authURL)
	}
	return OpenBrowser(f.authURL)
}

// Wait blocks until the browser comes back to the loopback listener, then
// exchanges the code and returns the logged-in account. It also ends when
// ctx ends or the flow is closed. A callback with the wrong state
// (ErrStateMismatch) or an error (a *CallbackError; ErrLoginCancelled when
// the user cancelled) ends the flow without an exchange. The browser gets
// a small page saying what happened. The listener closes when Wait returns.
func (f *CodeFlow) Wait(ctx context.Context) (accounts.Account, error) {
	if f.srv == nil {
		return f.acct, errors.New("this login has no listener: the browser lands on a page whose address must be pasted")
	}
	defer f.Close()
	select {
	case cb := <-f.callbacks:
		var r result
		if cb.err != nil {
			r = result{f.acct, cb.err}
		} else {
			r.acct, r.err = f.exchange(ctx, cb.code, cb.issuer)
		}
		cb.reply <- r
		return r.acct, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return f.acct, fmt.Errorf("timed out waiting for the browser to come back to %s; run the login again, or paste the address of the page you landed on: %w",
				f.redirect, ctx.Err())
		}
		return f.acct, fmt.Errorf("%w before the browser came back: %w", ErrLoginCancelled, ctx.Err())
	case <-f.closed:
		return f.acct, fmt.Errorf("%w: the login was closed before the browser came back", ErrLoginCancelled)
	}
}

// Complete finishes the flow from what the user pasted: the whole
// redirect URL or just the code (see ParseRedirect). The state is checked
// when the pasted URL carries one. It works for loopback flows too.
func (f *CodeFlow) Complete(ctx context.Context, pasted string) (accounts.Account, error) {
	code, state, issuer, err := ParseRedirect(pasted)
	if err != nil {
		return f.acct, err
	}
	if state != "" && !f.stateMatches(state) {
		return f.acct, stateError()
	}
	a, err := f.exchange(ctx, code, issuer)
	if err == nil {
		_ = f.Close()
	}
	return a, err
}

// stateMatches compares in constant time, so the state cannot be guessed
// byte by byte from response times.
func (f *CodeFlow) stateMatches(state string) bool {
	return subtle.ConstantTimeCompare([]byte(state), []byte(f.state)) == 1
}

func stateError() error {
	return fmt.Errorf("%w: it was not started by this keyfob login, so its code was not used; start the login again", ErrStateMismatch)
}

// exchange trades the code for tokens, once.
func (f *CodeFlow) exchange(ctx context.Context, code, issuer string) (accounts.Account, error) {
	f.exchangeMu.Lock()
	defer f.exchangeMu.Unlock()
	f.mu.Lock()
	done := f.finished
	f.mu.Unlock()
	if done {
		return f.acct, errors.New("this login has already finished; start a new one")
	}
	conf := *f.conf
	if f.acct.Kind == accounts.KindOwner {
		conf.Endpoint.TokenURL = ownerTokenURL(conf.Endpoint.TokenURL, issuer)
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(f.verifier)}
	if f.acct.Audience != "" && f.acct.Kind != accounts.KindOwner {
		opts = append(opts, oauth2.SetAuthURLParam("audience", f.acct.Audience))
	}
	rc := &call{allowHTTP: f.allow}
	rctx, _ := f.e.recording(ctx, rc, nil)
	tok, err := conf.Exchange(rctx, code, opts...)
	if err != nil {
		return f.acct, f.e.classify(ctx, rc, opExchange, err)
	}
	g, err := f.e.grantFrom(f.acct, rc, fieldsOf(tok), "")
	if err != nil {
		return f.acct, err
	}
	a := f.acct
	a.Apply(g, f.e.now())
	f.e.learnEmail(ctx, &a, f.allow)
	f.mu.Lock()
	f.finished = true
	f.mu.Unlock()
	return a, nil
}

// Close stops the listener. It is safe to call more than once.
func (f *CodeFlow) Close() error {
	f.closeOnce.Do(func() {
		close(f.closed)
		if f.srv != nil {
			// Let a page being written finish, then cut everything.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if f.srv.Shutdown(ctx) != nil {
				_ = f.srv.Close()
			}
		}
	})
	return nil
}

// handle serves the redirect URI on the loopback listener.
func (f *CodeFlow) handle(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "keyfob could not read this sign-in answer", "Return to the terminal and try again.")
		return
	}
	q := r.Form
	code, state, errCode := q.Get("code"), q.Get("state"), q.Get("error")
	var cb callback
	switch {
	case code == "" && errCode == "":
		// Not an answer from the authorization server; keep waiting.
		page(w, http.StatusBadRequest, "This address waits for a sign-in answer", "It carries no code. Return to the terminal.")
		return
	case !f.stateMatches(state) && (code != "" || state != ""):
		cb.err = stateError()
	case errCode != "":
		cb.err = &CallbackError{Code: errorCode(errCode), Description: cleanText(q.Get("error_description"), 200)}
	default:
		cb.code, cb.issuer = code, q.Get("issuer")
	}

	f.mu.Lock()
	already := f.delivered
	f.delivered = true
	f.mu.Unlock()
	if already {
		page(w, http.StatusConflict, "This sign-in has already been handled", "Return to the terminal.")
		return
	}
	cb.reply = make(chan result, 1)
	select {
	case f.callbacks <- cb:
	case <-f.closed:
		page(w, http.StatusGone, "keyfob stopped waiting for this sign-in", "Return to the terminal and start the login again.")
		return
	}
	var r2 result
	select {
	case r2 = <-cb.reply:
	case <-f.closed:
		select {
		case r2 = <-cb.reply:
		default:
			page(w, http.StatusGone, "keyfob stopped waiting for this sign-in", "Return to the terminal and start the login again.")
			return
		}
	case <-r.Context().Done():
		return
	}
	if r2.err != nil {
		page(w, http.StatusOK, "Sign-in failed", r2.err.Error()+" Return to the terminal for details.")
		return
	}
	who := ""
	if r2.acct.Email != "" {
		who = " as " + r2.acct.Email
	}
	page(w, http.StatusOK, "Signed in to keyfob"+who, "You can close this tab and return to the terminal.")
}

// page writes the small HTML page the browser shows after the callback.
func page(w http.ResponseWriter, status int, title, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>keyfob</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style>
</head><body><h1>%s</h1><p>%s</p></body></html>
`, html.EscapeString(title), html.EscapeString(body))
}

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
