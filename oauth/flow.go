package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

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
	nonce    string
	authURL  string
	redirect string
	opts     LoginOptions

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
// grant code): a PKCE S256 verifier, a random state and nonce, and the
// authorize URL. A loopback http redirect URI (127.0.0.1, [::1], localhost)
// gets a listener on its port: on both 127.0.0.1 and ::1 for localhost. A
// fleet account's redirect URI is used exactly as registered (Tesla
// matches it exactly): one without a port means port 80. A custom
// account's may leave the port out, or be empty, for an ephemeral port
// (RFC 8252 §7.3; an empty one becomes http://127.0.0.1:PORT/callback).
// Any other redirect URI (the Owner API's tesla://auth/callback, a remote
// https page) makes a paste flow. ctx only bounds the setup; Close ends
// the flow.
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
	o.AllowInsecureHTTP = o.AllowInsecureHTTP || a.AllowInsecureHTTP
	if err := ValidateWith(PurposeLogin, a, o); err != nil {
		return nil, err
	}
	f, err := newCodeFlow(e, a, o)
	if err != nil {
		return nil, err
	}
	plan, err := redirectPlan(a.Endpoints.RedirectURI, a.Kind == accounts.KindFleet)
	if err != nil {
		return nil, err
	}
	if plan.loopback {
		if err := f.startListener(plan); err != nil {
			return nil, err
		}
	}
	f.conf = oauthConfig(a, f.redirect)
	f.authURL = f.conf.AuthCodeURL(f.state, f.authParams()...)
	return f, nil
}

// newCodeFlow is a flow for a with fresh secrets.
func newCodeFlow(e *Engine, a accounts.Account, o LoginOptions) (*CodeFlow, error) {
	state, err := randomString(24)
	if err != nil {
		return nil, err
	}
	nonce, err := randomString(24)
	if err != nil {
		return nil, err
	}
	return &CodeFlow{
		e:         e,
		acct:      a,
		verifier:  oauth2.GenerateVerifier(),
		state:     state,
		nonce:     nonce,
		redirect:  a.Endpoints.RedirectURI,
		opts:      o,
		callbacks: make(chan callback, 1),
		closed:    make(chan struct{}),
	}, nil
}

// startListener listens where plan says and serves the redirect URI's
// path; an ephemeral port is written into the redirect URI.
func (f *CodeFlow) startListener(plan listenPlan) error {
	lns, err := listen(plan)
	if err != nil {
		return listenError(f.redirect, plan, err)
	}
	port := strconv.Itoa(lns[0].Addr().(*net.TCPAddr).Port)
	path := "/callback"
	if f.redirect == "" {
		f.redirect = "http://" + net.JoinHostPort(plan.hosts[0], port) + path
	} else {
		u, _ := url.Parse(f.redirect)
		if path = u.Path; path == "" {
			path = "/"
		}
		if plan.port == "0" {
			u.Host = net.JoinHostPort(u.Hostname(), port)
			f.redirect = u.String()
		}
	}
	f.serve(lns, path)
	return nil
}

// authParams are the authorize request's parameters besides the client,
// redirect URI, scopes and state: PKCE S256, the nonce, a login hint, and
// Tesla's options, prompt=login among them (as Tesla's own example and
// Home Assistant send it).
func (f *CodeFlow) authParams() []oauth2.AuthCodeOption {
	a, o := f.acct, f.opts
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", f.nonce)}
	if a.Email != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", a.Email))
	}
	if userKind(a) {
		// A browser signed in to one Tesla account would otherwise hand
		// back that account's code when the user adds another.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	if a.Kind == accounts.KindFleet {
		opts = append(opts, oauth2.SetAuthURLParam("prompt_missing_scopes", "true"))
		if o.RequireRequestedScopes {
			opts = append(opts, oauth2.SetAuthURLParam("require_requested_scopes", "true"))
		}
	}
	switch {
	case o.Locale == "":
	case userKind(a):
		opts = append(opts, oauth2.SetAuthURLParam("locale", o.Locale))
	default:
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", o.Locale))
	}
	return opts
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

// Wait blocks until the browser comes back to the loopback listener with
// this login's state, then exchanges the code and returns the logged-in
// account. It also ends when ctx ends or the flow is closed. An error that
// carries the state (a *CallbackError; ErrLoginCancelled when the user
// cancelled) ends the flow without an exchange; a callback without the
// state ends nothing (see handle). The browser gets a small page saying
// what happened. The listener closes when Wait returns.
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

// exchange trades the code for tokens, once: at the host the callback's
// issuer names when the sign-in moved there (see switchIssuer), checking
// the id token's nonce and the region the tokens name.
func (f *CodeFlow) exchange(ctx context.Context, code, issuer string) (accounts.Account, error) {
	f.exchangeMu.Lock()
	defer f.exchangeMu.Unlock()
	f.mu.Lock()
	done := f.finished
	f.mu.Unlock()
	if done {
		return f.acct, errors.New("this login has already finished; start a new one")
	}
	acct, switched, err := switchIssuer(f.acct, issuer)
	if err != nil {
		return f.acct, err
	}
	allow := f.opts.AllowInsecureHTTP
	if err := secureEndpoints(acct, allow, FieldTokenURL); err != nil {
		return f.acct, err
	}
	conf := *f.conf
	conf.Endpoint.TokenURL = acct.Endpoints.TokenURL
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(f.verifier)}
	if acct.Audience != "" && acct.Kind != accounts.KindOwner {
		opts = append(opts, oauth2.SetAuthURLParam("audience", acct.Audience))
	}
	rc := &call{allowHTTP: allow}
	rctx, _ := f.e.recording(ctx, rc, nil)
	tok, err := conf.Exchange(rctx, code, opts...)
	if err != nil {
		return f.acct, f.e.classify(ctx, rc, opExchange, err)
	}
	g, err := f.e.grantFrom(acct, rc, fieldsOf(tok), "")
	if err != nil {
		return f.acct, err
	}
	if err := f.checkNonce(g.IDToken); err != nil {
		return f.acct, err
	}
	a, err := f.settle(acct, g, switched)
	if err != nil {
		return f.acct, err
	}
	f.e.learnEmail(ctx, &a, allow)
	f.mu.Lock()
	f.finished = true
	f.mu.Unlock()
	return a, nil
}

// settle applies g to a with the region (audience, API base) its tokens
// say (RegionCheck); a correction that would move the account between
// Tesla's .com and .cn hosts fails, unless the sign-in's issuer moved it.
func (f *CodeFlow) settle(a accounts.Account, g accounts.Grant, switched bool) (accounts.Account, error) {
	loopbackSwitch := switched && LoopbackHost(hostOf(a.Endpoints.TokenURL))
	g, c := regionOf(a, g, loopbackSwitch)
	if c.Refused != nil {
		return f.acct, c.Refused
	}
	a.Apply(g, f.e.now())
	return a, nil
}

// checkNonce refuses an id token whose nonce is not this login's: it was
// issued for another sign-in. An id token without a nonce passes (Tesla is
// not known to echo it).
func (f *CodeFlow) checkNonce(idToken string) error {
	claims, ok := Inspect(idToken)
	if !ok {
		return nil
	}
	nonce, present := claims.Raw["nonce"]
	if !present {
		return nil
	}
	if s, _ := nonce.(string); subtle.ConstantTimeCompare([]byte(s), []byte(f.nonce)) != 1 {
		return errors.New("the id token the server returned was issued for another sign-in (its nonce is not this login's), so no account was saved; start the login again")
	}
	return nil
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
