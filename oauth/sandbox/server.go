// Package sandbox is the sandbox: a real HTTP authorization server on
// loopback that behaves, and fails, like Tesla's auth servers. It speaks
// the OpenID discovery document, the authorization-code flow with PKCE
// S256, the refresh_token grant with single-use rotation and expiry,
// client credentials, RFC 7009 revocation, the legacy owner-api
// /oauth/token and /oauth/revoke, userinfo, /api/1/users/me, and a few
// Fleet API endpoints per region (users/region, users/me, partner_accounts).
//
// Like Tesla it has:
//   - exact redirect URIs for registered clients ("ownerapi" accepts only
//     tesla://auth/callback; see Options.RedirectURIs);
//   - several users in several regions, whose region drives the ou_code and
//     aud claims (Options.Users, FleetAPIBase);
//   - a second host standing for auth.tesla.cn (CNURL): a China user's login
//     is redirected there, and its codes and refresh tokens work only there;
//   - a legacy /oauth/revoke that answers 200 and revokes nothing;
//   - optionally HTTPS with HTTP/2 (Options.TLS) and a token endpoint that
//     refuses HTTP/1.1 (Options.RequireHTTP2).
//
// Tests, benchmarks, `keyfob sandbox` and `keyfob demo` use it. Knobs set
// token lifetimes, latency and failure injection (FailNext, FailRate), and
// Stats counts the grants served on both hosts, so a test can assert that
// exactly one refresh happened.
//
// It imports nothing but the standard library, logs nothing, and listens
// only on loopback addresses.
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Well-known clients the sandbox accepts. Any other client_id is accepted as
// a public (PKCE) client.
const (
	// FleetClientID is a public Fleet API app: PKCE, no secret. It has no
	// registered redirect URI unless Options.StrictFleet is set.
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
	// OwnerRedirectURI is the only redirect URI registered by default for
	// the Owner API client "ownerapi", as Tesla accepts since April 2026.
	OwnerRedirectURI = "tesla://auth/callback"
)

// ownerClientID is the Owner API's client, whose refresh tokens are JWTs.
const ownerClientID = "ownerapi"

// Default lifetimes.
const (
	defaultAccessTTL  = 8 * time.Hour
	defaultLegacyTTL  = 45 * 24 * time.Hour
	defaultRefreshTTL = 90 * 24 * time.Hour
	codeTTL           = 10 * time.Minute
	dripInterval      = 200 * time.Millisecond
)

// Options configure a Server. The zero value is a sandbox with Tesla's
// lifetimes, no latency and no failures.
//
// Redirect URIs: a client with registered URIs (RedirectURIs,
// RegisterRedirectURI, "ownerapi" by default, FleetClientID with
// StrictFleet) must send one of them exactly — string equality, no port
// wildcard — at authorize and at the code exchange; anything else gets a
// 400 page saying "We don't recognize this redirect_uri". A client with no
// registration may use any absolute URI, in particular any loopback http
// URI on any port (RFC 8252 §7.3), which keyfob's custom kind relies on.
type Options struct {
	AccessTTL    time.Duration // lifetime of access tokens from /oauth2/v3/token; 0 = 8h; negative = issued already expired
	LegacyTTL    time.Duration // lifetime of legacy /oauth/token access tokens; 0 = 45 days
	RefreshTTL   time.Duration // lifetime of refresh tokens; 0 = 90 days; an older one answers 401 login_required
	RefreshGrace time.Duration // how long a rotated-out refresh token keeps working; 0 = dies at once
	Latency      time.Duration // added before answering every request
	FailRate     float64       // probability in [0,1] that a token request answers 503 server_error
	// User is the default user: the one auto-approve signs in when no
	// login_hint names another, and Mint's. Zero = DefaultUser(); empty
	// fields take DefaultUser's values.
	User User
	// Users are more users. Each needs its own Email; other empty fields
	// take DefaultUser's values, except Subject, derived from the email.
	// The login form and login_hint pick a user by email.
	Users      []User
	LoginForm  bool              // authorize shows a minimal HTML login form instead of auto-approving
	DropScopes []string          // scopes silently not granted even when requested (Tesla does this)
	Secrets    map[string]string // extra confidential clients: client_id → secret
	// RedirectURIs registers exact redirect URIs: client_id → URIs. An
	// "ownerapi" entry replaces its default, OwnerRedirectURI.
	RedirectURIs map[string][]string
	// StrictFleet registers FleetClientID with only the URIs RedirectURIs
	// and RegisterRedirectURI give it: with none, every redirect is refused.
	StrictFleet bool
	// LegacyRevokeWorks makes /oauth/revoke really revoke. By default it
	// answers 200 with an empty body and revokes nothing, as Tesla's does.
	LegacyRevokeWorks bool
	// TLS serves both hosts over HTTPS with a fresh self-signed certificate
	// for 127.0.0.1, ::1 and localhost, TLS 1.2 or later, HTTP/2 through
	// ALPN. Trust it with CertPool or use Client.
	TLS bool
	// RequireHTTP2 makes the token endpoints answer 403 http2_required to
	// requests not made over HTTP/2, as Tesla's owner API does since mid
	// 2026. Without TLS no request is HTTP/2, so every token request fails.
	RequireHTTP2 bool
	// PartnerHTTPClient fetches the public key of a domain registered at
	// partner_accounts. nil = a client that trusts no certificate and
	// dials only loopback, so every fetch fails; tests pass the client of
	// an httptest TLS server.
	PartnerHTTPClient *http.Client
	// RequireRegistration makes the Fleet API answer 412 to the tokens of
	// an app not registered in the region (see SetRequireRegistration).
	RequireRegistration bool
	// OwnerAPIOpen makes the Owner API answer owner tokens (see
	// SetOwnerAPIOpen); by default it refuses them, as Tesla does since
	// 2026-06-12.
	OwnerAPIOpen bool
	Now          func() time.Time // clock; nil = time.Now
}

// Stats are counters of requests served on both hosts (successful grants
// only, except Failures).
type Stats struct {
	Authorize         int // authorizations that redirected back with a code
	CodeExchanges     int // authorization_code grants
	Refreshes         int // refresh_token grants at /oauth2/v3/token
	ClientCredentials int // client_credentials grants
	PasswordGrants    int // password grants (legacy /oauth/token, and /oauth2/v3/token)
	LegacyRefreshes   int // refresh_token grants at /oauth/token
	Revocations       int // RFC 7009 requests answered 200 (unknown tokens included, as RFC 7009 answers them alike)
	LegacyRevocations int // /oauth/revoke requests answered 200, whether or not they revoked anything
	UserInfo          int // userinfo and users/me (root and Fleet API) answers carrying the user
	FleetAPI          int // Fleet API answers 200 under a FleetAPIBase (users/region, users/me, partner_accounts)
	Failures          int // injected failures: FailNext and FailNextRevoke faults, FailRate hits
}

// Server is a running sandbox. All methods are safe for concurrent use.
type Server struct {
	url, cnURL    string
	key           []byte // HS256 key of every JWT; nobody verifies it
	now           func() time.Time
	users         []User // users[0] is the default user
	form          bool
	accessTTL     time.Duration
	legacyTTL     time.Duration
	refreshTTL    time.Duration
	grace         time.Duration
	failRate      float64
	drop          map[string]bool
	secrets       map[string]string
	legacyRevoke  bool
	requireH2     bool
	partnerClient *http.Client
	tlsConfig     *tls.Config    // nil without Options.TLS
	pool          *x509.CertPool // trusts tlsConfig's certificate
	transport     *http.Transport
	servers       []*http.Server // the main host, then the China host
	done          chan struct{}  // closed by Close: releases every waiting handler
	inflight      sync.WaitGroup
	waiting       atomic.Int64 // requests waiting out the latency
	once          sync.Once
	closeErr      error

	mu           sync.Mutex
	closed       bool
	latency      time.Duration
	drip         time.Duration // pause between the bytes of FaultSlowDrip
	faults       []Fault       // FailNext's queue for token endpoints
	revokeFaults []Fault       // FailNextRevoke's queue for revocation endpoints
	denials      int           // FailNext's FaultDenied count for the authorize endpoint
	stats        Stats
	codes        map[string]*authCode
	sessions     map[string]User // signed-in browsers, by session cookie
	refresh      map[string]*refreshRecord
	access       map[string]*accessRecord
	redirects    map[string][]string // registered clients → exact redirect URIs
	partners     map[partnerKey]partnerAccount
	consents     map[string]*consent // business consents by auth code (business.go)
	// businessRefresh gives business tokens a refresh token.
	businessRefresh bool
	lastToken       TransportInfo
	// API knobs (apilimits.go).
	rateLimited         int           // API requests still to answer 429
	retryAfter          time.Duration // their Retry-After
	requireRegistration bool
	ownerAPIOpen        bool
}

// Start listens on 127.0.0.1:0 (and another port for the China host) and
// serves until Close.
func Start(opts Options) (*Server, error) {
	return StartAt("127.0.0.1:0", opts)
}

// StartAt listens on addr, which must be a loopback address such as
// "127.0.0.1:8765", "[::1]:0" or "localhost:0"; anything else is refused
// so the sandbox is never reachable from the network. The China host
// listens on another port of the same address, chosen by the system.
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
	cnLn, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("cannot listen on %s for the China host: %w", host, err)
	}
	scheme := "http://"
	if s.tlsConfig != nil {
		scheme = "https://"
	}
	// Both URLs are set before anything is served: handlers read them.
	s.url, s.cnURL = scheme+ln.Addr().String(), scheme+cnLn.Addr().String()
	h := s.handler()
	s.serve(ln, h, false)
	s.serve(cnLn, h, true)
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
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newServer(opts Options) (*Server, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("cannot create the sandbox's signing key: %w", err)
	}
	users, err := buildUsers(opts.User, opts.Users)
	if err != nil {
		return nil, err
	}
	s := &Server{
		key:           key,
		now:           opts.Now,
		users:         users,
		form:          opts.LoginForm,
		accessTTL:     cmpOr(opts.AccessTTL, defaultAccessTTL),
		legacyTTL:     cmpOr(opts.LegacyTTL, defaultLegacyTTL),
		refreshTTL:    cmpOr(opts.RefreshTTL, defaultRefreshTTL),
		grace:         opts.RefreshGrace,
		failRate:      clamp01(opts.FailRate),
		drop:          map[string]bool{},
		secrets:       map[string]string{PartnerClientID: PartnerSecret, LegacyClientID: LegacyClientSecret},
		legacyRevoke:  opts.LegacyRevokeWorks,
		requireH2:     opts.RequireHTTP2,
		partnerClient: opts.PartnerHTTPClient,
		done:          make(chan struct{}),
		latency:       opts.Latency,
		drip:          dripInterval,
		codes:         map[string]*authCode{},
		sessions:      map[string]User{},
		refresh:       map[string]*refreshRecord{},
		access:        map[string]*accessRecord{},
		redirects:     registeredRedirects(opts.RedirectURIs, opts.StrictFleet),
		partners:      map[partnerKey]partnerAccount{},

		requireRegistration: opts.RequireRegistration,
		ownerAPIOpen:        opts.OwnerAPIOpen,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.partnerClient == nil {
		s.partnerClient = defaultPartnerClient()
	}
	for _, sc := range opts.DropScopes {
		s.drop[sc] = true
	}
	for id, secret := range opts.Secrets {
		s.secrets[id] = secret
	}
	if err := s.setupTransport(opts.TLS); err != nil {
		return nil, err
	}
	return s, nil
}

// cmpOr returns d, or def when d is zero.
func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
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

// URL returns the base URL of the main host, e.g. "http://127.0.0.1:41234"
// (https with Options.TLS; no trailing slash).
func (s *Server) URL() string { return s.url }

// Issuer returns the OpenID issuer of the main host, URL()+"/oauth2/v3".
func (s *Server) Issuer() string { return s.url + "/oauth2/v3" }

// Close stops both hosts: it closes the listeners and every connection,
// releases requests held by latency or faults, and returns once no handler
// is running. Calling it again returns the first result.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		// Connections first: a released handler must find its client gone,
		// not answer it with an empty 200.
		var errs []error
		for _, srv := range s.servers {
			errs = append(errs, srv.Close())
		}
		s.closeErr = errors.Join(errs...)
		close(s.done)
		s.inflight.Wait()
		s.transport.CloseIdleConnections()
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

// handler routes every request of both hosts, applying latency first.
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
	s.fleetRoutes(mux)
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

// Waiting is how many requests are waiting out the latency now: a test
// that kills a client while its request is at the server waits for it.
func (s *Server) Waiting() int { return int(s.waiting.Load()) }

// pause waits for d and reports whether the request should go on: false
// when the client gave up or the server is closing.
func (s *Server) pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
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
