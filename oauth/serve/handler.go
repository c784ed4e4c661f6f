package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// Paths the server answers.
const (
	TokenPath      = "/oauth2/v3/token" // Tesla's path, which TeslaMate's default TESLA_AUTH_PATH leads to
	ShortTokenPath = "/token"           // TeslaMate with TESLA_AUTH_HOST set and TESLA_AUTH_PATH unset
	TokenByName    = "/v1/token/"       // GET /v1/token/NAME with Authorization: Bearer CREDENTIAL
	DiscoveryPath  = "/.well-known/openid-configuration"
)

// ServeHTTP implements http.Handler. It routes by hand rather than with
// a ServeMux, whose own answers (redirects, 404 and 405 pages) are not
// JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := s.log.begin(r)
	rw := &recorder{ResponseWriter: w, rec: rec}
	h := rw.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	// The body, if any, has a few seconds to arrive (readParams); the
	// deadline is lifted once a request is being answered (serving).
	_ = http.NewResponseController(rw).SetReadDeadline(time.Now().Add(s.bodyWait))
	switch {
	case r.URL.Path == HealthPath:
		rec.route = "GET " + HealthPath
		s.serveHealth(rw, r)
	case r.URL.Path == MetricsPath:
		rec.route = "GET " + MetricsPath
		s.serveMetrics(rw, r)
	case r.URL.Path == PublicKeyPath:
		// Public, and fetched under the app's own domain through a tunnel
		// or proxy: no Host rule protects anything here.
		rec.route = "GET " + PublicKeyPath
		s.servePublicKey(rw, r)
	case !s.hosts.allows(r.Host):
		rec.route = "any"
		rec.outcome = "wrong_host"
		rw.fail(http.StatusMisdirectedRequest, "invalid_request", "keyfob serve answers only requests for "+s.hosts.String()+
			"; start it with --allow-host NAME to answer another name")
	case r.URL.Path == DiscoveryPath:
		rec.route = "GET " + DiscoveryPath
		s.serveDiscovery(rw, r)
	case r.URL.Path == TokenPath || r.URL.Path == ShortTokenPath:
		rec.route = "POST " + r.URL.Path
		s.serveToken(rw, r)
	case strings.HasPrefix(r.URL.Path, TokenByName):
		rec.route = "GET " + TokenByName + "{name}"
		s.serveTokenByName(rw, r, strings.TrimPrefix(r.URL.Path, TokenByName))
	default:
		rec.route = "other"
		rw.fail(http.StatusNotFound, "not_found", "keyfob serve answers POST "+TokenPath+", GET "+TokenByName+"NAME and GET "+DiscoveryPath)
	}
	s.log.done(rec)
	s.metrics.request(rec.status)
}

// tokenResponse is the answer of the token endpoint, shaped like Tesla's
// (and RFC 6749's): what TeslaMate, golang.org/x/oauth2 and oauthlib read.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	CreatedAt    int64  `json:"created_at"`
}

// serveToken is the refresh_token grant with a consumer credential as the
// refresh token. client_id and scope are accepted and ignored: the
// consumer's account decides both.
func (s *Server) serveToken(w *recorder, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.fail(http.StatusMethodNotAllowed, "invalid_request", "the token endpoint takes POST")
		return
	}
	p, status, msg := readParams(w, r, s.bodyWait)
	if status != 0 {
		w.fail(status, "invalid_request", msg)
		return
	}
	switch gt := p["grant_type"]; {
	case gt == "":
		w.fail(http.StatusBadRequest, "invalid_request", "grant_type is missing; send grant_type=refresh_token")
		return
	case gt != "refresh_token":
		w.fail(http.StatusBadRequest, "unsupported_grant_type", "keyfob serve takes only grant_type=refresh_token")
		return
	case p["refresh_token"] == "":
		w.fail(http.StatusBadRequest, "invalid_request", "refresh_token is missing; send the consumer credential that keyfob serve add printed")
		return
	}
	cred := p["refresh_token"]
	a, ok := s.serveConsumer(w, r, cred, "")
	if !ok {
		return
	}
	now := s.now()
	w.send(http.StatusOK, tokenResponse{
		AccessToken: a.AccessToken, TokenType: tokenType(a), ExpiresIn: expiresIn(a, now),
		RefreshToken: cred, CreatedAt: now.Unix(),
	})
}

// NamedToken is the answer of GET /v1/token/NAME and what `keyfob token
// --json` prints. The field names are a documented, stable schema
// (README); add fields, never rename them.
type NamedToken struct {
	Name        string     `json:"name"`
	ID          string     `json:"id"`
	TokenType   string     `json:"token_type"`
	AccessToken string     `json:"access_token"`
	ExpiresAt   *time.Time `json:"expires_at"` // null when the server did not say
	ExpiresIn   *int64     `json:"expires_in"` // whole seconds from now; null when unknown
	Scopes      []string   `json:"scopes"`
	// APIBaseURL is where to call the API the token is for (oauth.APIBase):
	// the Fleet API base of the account's region, or the account's own (the
	// sandbox's, a proxy's); null for a custom account.
	APIBaseURL *string `json:"api_base_url"`
}

// stringPtr is s, or nil when it is empty (null in JSON).
func stringPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// NewNamedToken is a's access token as NamedToken at now.
func NewNamedToken(a accounts.Account, now time.Time) NamedToken {
	out := NamedToken{Name: a.Name, ID: a.ID, TokenType: tokenType(a), AccessToken: a.AccessToken, Scopes: a.Scopes(),
		APIBaseURL: stringPtr(oauth.APIBase(a))}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if !a.Expiry.IsZero() {
		at, in := a.Expiry.UTC(), expiresIn(a, now)
		out.ExpiresAt, out.ExpiresIn = &at, &in
	}
	return out
}

func (s *Server) serveTokenByName(w *recorder, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		w.fail(http.StatusMethodNotAllowed, "invalid_request", "GET "+TokenByName+"NAME takes GET")
		return
	}
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case scheme == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyfob"`)
		w.fail(http.StatusUnauthorized, "invalid_client", "send the consumer credential as Authorization: Bearer CREDENTIAL")
		return
	case !strings.EqualFold(scheme, "Bearer") || cred == "" || strings.ContainsAny(cred, " \t"):
		w.fail(http.StatusBadRequest, "invalid_request", "the Authorization header must be Bearer CREDENTIAL")
		return
	case name == "" || strings.Contains(name, "/"):
		w.fail(http.StatusNotFound, "not_found", "the path is "+TokenByName+"NAME, NAME an account's name, email or id")
		return
	}
	a, ok := s.serveConsumer(w, r, cred, name)
	if !ok {
		return
	}
	w.send(http.StatusOK, NewNamedToken(a, s.now()))
}

// serveConsumer authenticates cred, checks that name (when given) is the
// consumer's account, and gets the account's token; on failure it has
// answered and returns false.
func (s *Server) serveConsumer(w *recorder, r *http.Request, cred, name string) (accounts.Account, bool) {
	// It may wait for a refresh: its connection must stay open, and its
	// read deadline would end the request's context.
	defer serving(r)()
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	c, ok, err := s.lookup(cred)
	if err != nil {
		w.rec.outcome, w.rec.err = "store_unreadable", err.Error()
		w.Header().Set("Retry-After", "30")
		w.fail(http.StatusServiceUnavailable, "temporarily_unavailable",
			"keyfob cannot read its store just now; try again shortly")
		return accounts.Account{}, false
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyfob"`)
		w.fail(http.StatusUnauthorized, "invalid_client", "unknown or removed consumer credential; keyfob serve add prints a new one")
		return accounts.Account{}, false
	}
	w.rec.consumer = c.Name
	known, _ := s.w.Account(c.AccountID)
	w.rec.account = known.Name
	if name != "" && (known.ID == "" || !s.names(name, known)) {
		w.rec.outcome = "forbidden"
		w.fail(http.StatusForbidden, "access_denied", fmt.Sprintf("consumer %q may get only its own account's token", c.Name))
		return accounts.Account{}, false
	}
	a, outcome, err := s.token(r.Context(), c.AccountID)
	switch {
	case errors.Is(err, errNoAccount):
		w.fail(http.StatusUnauthorized, "invalid_client", "the consumer's account was removed from keyfob")
		return a, false
	case errors.Is(err, accounts.ErrLoginRequired), errors.Is(err, accounts.ErrNotRefreshable):
		w.rec.outcome = "login_required"
		w.fail(http.StatusBadRequest, "invalid_grant", fmt.Sprintf(
			"the account %q needs a new login in keyfob (keyfob login, or n in keyfob's terminal UI); its refresh token was rejected or is missing", a.Name))
		return a, false
	case err != nil && isStoreError(err):
		// Refreshing now would spend the refresh token for one that
		// could not be kept: nothing was sent upstream.
		w.rec.outcome, w.rec.err = "store_unavailable", redact(redact(err.Error(), a), known)
		w.Header().Set("Retry-After", retryAfter(err, s.now()))
		w.fail(http.StatusServiceUnavailable, "temporarily_unavailable",
			"keyfob's store cannot take a refreshed token just now; try again shortly")
		return a, false
	case err != nil:
		w.rec.outcome, w.rec.err = "unavailable", redact(redact(err.Error(), a), known)
		w.Header().Set("Retry-After", retryAfter(err, s.now()))
		w.fail(http.StatusServiceUnavailable, "temporarily_unavailable",
			"keyfob could not refresh the account's token upstream; try again shortly")
		return a, false
	}
	if !s.stillConsumer(c) {
		// Removed (or moved to another account) while the token was
		// being got: the credential no longer entitles it to one.
		w.rec.outcome = "removed_meanwhile"
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyfob"`)
		w.fail(http.StatusUnauthorized, "invalid_client", "the consumer credential was removed from keyfob while this request waited; keyfob serve add prints a new one")
		return accounts.Account{}, false
	}
	w.rec.outcome = outcome
	s.noteUse(c.Hash, s.now(), w.rec.remote)
	return a, true
}

// retryAfter is the Retry-After, in seconds, of a token that could not
// be had: the rest of the account's back-off after a failed refresh (no
// refresh reaches the server before it ends), the delay the server asked
// for, else half a minute.
func retryAfter(err error, now time.Time) string {
	var b *accounts.BackoffError
	var rd interface{ RetryDelay() time.Duration }
	d := 30 * time.Second
	switch {
	case errors.As(err, &b):
		d = b.RetryIn(now)
	case errors.As(err, &rd) && rd.RetryDelay() > 0:
		d = rd.RetryDelay()
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

func tokenType(a accounts.Account) string {
	if a.TokenType == "" || strings.EqualFold(a.TokenType, "bearer") {
		return "Bearer"
	}
	return a.TokenType
}

// recorder is the ResponseWriter with what the log line needs.
type recorder struct {
	http.ResponseWriter
	rec *record
}

// Unwrap gives http.ResponseController the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errorResponse is an OAuth error (RFC 6749 §5.2).
type errorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (w *recorder) fail(status int, code, description string) {
	if w.rec.outcome == "" {
		w.rec.outcome = code
	}
	w.send(status, errorResponse{Error: code, Description: description})
}

func (w *recorder) send(status int, v any) {
	w.rec.status = status
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"server_error"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
