// Package oauthtest is the sandbox: a real HTTP authorization server on
// loopback that behaves like Tesla's auth servers. It speaks the OpenID
// discovery document, the authorization-code flow with PKCE S256, the
// refresh_token grant with single-use rotation, client credentials, RFC 7009
// revocation, the legacy owner-api /oauth/token and /oauth/revoke, userinfo
// and /api/1/users/me.
//
// Tests, benchmarks, `keyfob sandbox` and `keyfob demo` use it. Knobs set
// token lifetimes, latency and failure injection, and Stats counts the grants
// served, so a test can assert that exactly one refresh happened.
//
// It imports nothing but the standard library, logs nothing, and listens
// only on loopback addresses.
package oauthtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// User is the account the sandbox signs in.
type User struct {
	Email, Password, Subject, FullName string
	Region                             string // ou_code claim, e.g. "NA" (default), "EU", "CN"
}

// DefaultUser returns the sandbox's test user: email "driver@example.com",
// password "sandbox-password", a fixed uuid-like subject, full name
// "Sandbox Driver", region "NA".
func DefaultUser() User {
	return User{
		Email:    "driver@example.com",
		Password: "sandbox-password",
		Subject:  "5f0c3a2e-7d41-4b8e-9a6c-1e2f3d4c5b6a",
		FullName: "Sandbox Driver",
		Region:   "NA",
	}
}

// Well-known clients the sandbox accepts. Any other client_id is accepted as
// a public (PKCE) client.
const (
	// FleetClientID is a public Fleet API app: PKCE, no secret.
	FleetClientID = "sandbox-fleet-app"
	// PartnerClientID is a confidential client, the one to use for the
	// client_credentials (partner token) grant.
	PartnerClientID = "sandbox-partner"
	// PartnerSecret is PartnerClientID's secret.
	PartnerSecret = "sandbox-partner-secret"
	// LegacyClientID is the Tesla app's public client of the legacy
	// owner-api; /oauth/token requires it.
	LegacyClientID = "81527cff06843c8634fdc09e8ac0abefb46ac849f38fe1e431c2ef2106796384"
	// LegacyClientSecret is LegacyClientID's secret.
	LegacyClientSecret = "c7257eb71a564034f9419ee651c7d0e5f7aa6bfbd18bafb5c5c033b093bb2fa3"
)

// ownerClientID is the Owner API's client, whose refresh tokens are JWTs.
const ownerClientID = "ownerapi"

// Default lifetimes.
const (
	defaultAccessTTL = 8 * time.Hour
	defaultLegacyTTL = 45 * 24 * time.Hour
	refreshTTL       = 90 * 24 * time.Hour
	codeTTL          = 10 * time.Minute
	dripInterval     = 200 * time.Millisecond
)

// Options configure a Server. The zero value is a sandbox with Tesla's
// lifetimes, no latency and no failures.
type Options struct {
	AccessTTL    time.Duration     // lifetime of access tokens from /oauth2/v3/token; 0 = 8h; negative = issued already expired
	LegacyTTL    time.Duration     // lifetime of legacy /oauth/token access tokens; 0 = 45 days
	RefreshGrace time.Duration     // how long a rotated-out refresh token keeps working; 0 = dies at once
	Latency      time.Duration     // added before answering every request
	FailRate     float64           // probability in [0,1] that a token request answers 503 server_error
	User         User              // zero = DefaultUser(); empty fields take DefaultUser's values
	LoginForm    bool              // authorize shows a minimal HTML login form instead of auto-approving
	DropScopes   []string          // scopes silently not granted even when requested (Tesla does this)
	Secrets      map[string]string // extra confidential clients: client_id → secret
	Now          func() time.Time  // clock; nil = time.Now
}

// Stats are counters of requests served (successful grants only, except
// Failures).
type Stats struct {
	Authorize         int // authorizations that redirected back with a code
	CodeExchanges     int // authorization_code grants
	Refreshes         int // refresh_token grants at /oauth2/v3/token
	ClientCredentials int // client_credentials grants
	PasswordGrants    int // password grants (legacy /oauth/token, and /oauth2/v3/token)
	LegacyRefreshes   int // refresh_token grants at /oauth/token
	Revocations       int // RFC 7009 requests answered 200 (unknown tokens included, as RFC 7009 answers them alike)
	LegacyRevocations int // /oauth/revoke requests answered 200
	UserInfo          int // userinfo and users/me answers carrying the user
	Failures          int // injected failures: FailNext faults and FailRate hits
}

// Server is a running sandbox. All methods are safe for concurrent use.
type Server struct {
	url       string
	key       []byte // HS256 key of every JWT; nobody verifies it
	now       func() time.Time
	user      User
	form      bool
	accessTTL time.Duration
	legacyTTL time.Duration
	grace     time.Duration
	failRate  float64
	drop      map[string]bool
	secrets   map[string]string
	http      *http.Server
	done      chan struct{} // closed by Close: releases every waiting handler
	inflight  sync.WaitGroup
	once      sync.Once
	closeErr  error

	mu      sync.Mutex
	closed  bool
	latency time.Duration
	drip    time.Duration // pause between the bytes of FaultSlowDrip
	faults  []Fault       // FailNext's queue for token endpoints
	denials int           // FailNext's FaultDenied count for the authorize endpoint
	stats   Stats
	codes   map[string]*authCode
	refresh map[string]*refreshRecord
	access  map[string]*accessRecord
}

// Start listens on 127.0.0.1:0 and serves until Close.
func Start(opts Options) (*Server, error) {
	return StartAt("127.0.0.1:0", opts)
}

// StartAt listens on addr, which must be a loopback address such as
// "127.0.0.1:8765", "[::1]:0" or "localhost:0"; anything else is refused
// so the sandbox is never reachable from the network.
func StartAt(addr string, opts Options) (*Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("the sandbox address %q is not host:port; use e.g. 127.0.0.1:8765: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		// "localhost" may resolve to several addresses; pin the IPv4 one so
		// URL() names exactly what is listening.
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("the sandbox listens only on loopback, not on %q; use 127.0.0.1 or [::1]", addr)
	}
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s; pick another port: %w", addr, err)
	}
	s.url = "http://" + ln.Addr().String()
	s.http = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 30 * time.Second,
		// The sandbox logs nothing: a client hanging up on a fault is
		// expected, and no line may ever carry a token.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// TB is the part of testing.TB that NewTest uses. Taking it instead of
// testing.TB keeps the testing package out of programs that embed the
// sandbox (keyfob sandbox, keyfob demo).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewTest starts a server for a test and closes it in t.Cleanup; it fails
// the test on error.
func NewTest(t TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newServer(opts Options) (*Server, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("cannot create the sandbox's signing key: %w", err)
	}
	s := &Server{
		key:       key,
		now:       opts.Now,
		user:      withDefaults(opts.User),
		form:      opts.LoginForm,
		accessTTL: opts.AccessTTL,
		legacyTTL: opts.LegacyTTL,
		grace:     opts.RefreshGrace,
		failRate:  clamp01(opts.FailRate),
		drop:      map[string]bool{},
		secrets:   map[string]string{PartnerClientID: PartnerSecret, LegacyClientID: LegacyClientSecret},
		done:      make(chan struct{}),
		latency:   opts.Latency,
		drip:      dripInterval,
		codes:     map[string]*authCode{},
		refresh:   map[string]*refreshRecord{},
		access:    map[string]*accessRecord{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.legacyTTL == 0 {
		s.legacyTTL = defaultLegacyTTL
	}
	if s.accessTTL == 0 {
		s.accessTTL = defaultAccessTTL
	}
	for _, sc := range opts.DropScopes {
		s.drop[sc] = true
	}
	for id, secret := range opts.Secrets {
		s.secrets[id] = secret
	}
	return s, nil
}

// withDefaults fills the empty fields of u from DefaultUser.
func withDefaults(u User) User {
	d := DefaultUser()
	if u.Email == "" {
		u.Email = d.Email
	}
	if u.Password == "" {
		u.Password = d.Password
	}
	if u.Subject == "" {
		u.Subject = d.Subject
	}
	if u.FullName == "" {
		u.FullName = d.FullName
	}
	if u.Region == "" {
		u.Region = d.Region
	}
	u.Region = strings.ToUpper(u.Region)
	return u
}

func clamp01(p float64) float64 {
	switch {
	case p != p || p < 0: // NaN counts as never
		return 0
	case p > 1:
		return 1
	}
	return p
}

// URL returns the base URL, e.g. "http://127.0.0.1:41234" (no trailing
// slash).
func (s *Server) URL() string { return s.url }

// Issuer returns the OpenID issuer, URL()+"/oauth2/v3".
func (s *Server) Issuer() string { return s.url + "/oauth2/v3" }

// User returns the user the sandbox signs in.
func (s *Server) User() User { return s.user }

// Close stops the server: it closes the listener and every connection,
// releases requests held by latency or faults, and returns once no handler
// is running. Calling it again returns the first result.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		// Connections first: a released handler must find its client gone,
		// not answer it with an empty 200.
		s.closeErr = s.http.Close()
		close(s.done)
		s.inflight.Wait()
	})
	return s.closeErr
}

// Stats returns the counters of requests served so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats sets every counter back to zero.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
}

// SetLatency sets the delay added before answering every request.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// handler routes every request, applying latency first.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{
		"/.well-known/openid-configuration",
		"/oauth2/v3/.well-known/openid-configuration",
		"/oauth2/v3/thirdparty/.well-known/openid-configuration",
	} {
		mux.HandleFunc(p, s.serveDiscovery)
	}
	mux.HandleFunc("/oauth2/v3/discovery/keys", s.serveKeys)
	mux.HandleFunc("/oauth2/v3/authorize", s.serveAuthorize)
	mux.HandleFunc("/oauth2/v3/token", s.serveToken)
	mux.HandleFunc("/oauth2/v3/revoke", s.serveRevoke)
	mux.HandleFunc("/oauth2/v3/userinfo", s.serveUserInfo)
	mux.HandleFunc("/oauth2/v3/logout", s.serveLogout)
	mux.HandleFunc("/api/1/users/me", s.serveUsersMe)
	mux.HandleFunc("/oauth/token", s.serveLegacyToken)
	mux.HandleFunc("/oauth/revoke", s.serveLegacyRevoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeReply(w, errorReply(http.StatusNotFound, "not_found", "The sandbox has no endpoint at this path."))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			writeReply(w, errorReply(http.StatusServiceUnavailable, "server_error", "The sandbox is shutting down."))
			return
		}
		// Added under the lock that Close takes first, so Wait never races
		// with an Add from zero.
		s.inflight.Add(1)
		latency := s.latency
		s.mu.Unlock()
		defer s.inflight.Done()
		if !s.pause(r.Context(), latency) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// pause waits for d and reports whether the request should go on: false
// when the client gave up or the server is closing.
func (s *Server) pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// SignIn plays a user's browser: it opens the sign-in address authURL (the
// sandbox approves at once unless LoginForm is set) and follows redirects
// while they are web addresses. It returns the last address reached: a
// loopback callback, which completes a login by itself, or a tesla://
// address a user would copy and paste.
func (s *Server) SignIn(ctx context.Context, authURL string) (landed string, err error) {
	landed = authURL
	client := &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			landed = req.URL.String()
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("the sign-in redirected too many times")
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", fmt.Errorf("the sign-in address is not valid: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("could not open the sign-in page: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return landed, fmt.Errorf("the sign-in page answered %s", resp.Status)
	}
	return landed, nil
}
