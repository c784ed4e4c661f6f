package oauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/keyfob/keyfob/accounts"
)

// Sentinel errors of the browser flows.
var (
	// ErrStateMismatch means the callback's state differs from the one
	// keyfob sent: the redirect did not come from this login (possible
	// cross-site request forgery), so its code is not used.
	ErrStateMismatch = errors.New("the sign-in answer does not belong to this login (state mismatch)")
	// ErrLoginCancelled means the user or the server ended the sign-in
	// before it produced a code.
	ErrLoginCancelled = errors.New("login cancelled")
)

// The kinds of ServerError.
const (
	KindOAuth         = "oauth"          // the server answered with an OAuth error or an error status
	KindTimeout       = "timeout"        // no answer in time
	KindNetwork       = "network"        // the server could not be reached
	KindMalformed     = "malformed"      // the answer is not readable JSON
	KindHTML          = "html"           // the answer is a web page
	KindMissingFields = "missing_fields" // the answer lacks the access token
	KindTokenType     = "token_type"     // the token is not a bearer token
)

// ServerError is an OAuth error answer (or an unusable answer) from a
// server. Its Error is one sentence naming the endpoint and status with what
// to do next; it never echoes the response body, which may hold secrets.
type ServerError struct {
	// Endpoint is host + path, e.g. "fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token".
	Endpoint string
	// StatusCode is the HTTP status, 0 when the transport failed.
	StatusCode int
	// Code is the OAuth error code, e.g. "login_required".
	Code string
	// Description is the server's error_description, trimmed to 200
	// characters, without control characters and with anything token-like
	// redacted.
	Description string
	// RetryAfter is the delay a 429 or 503 answer asked for.
	RetryAfter time.Duration
	// Kind classifies the failure: one of the Kind… constants.
	Kind string
	// TokenType is the unusable token type of a KindTokenType error.
	TokenType string
	// Err is the transport error behind a timeout or network failure.
	Err error

	op      operation     // what keyfob was doing, for the advice
	timeout time.Duration // the client's timeout, for the message
	redact  *redactor     // the secrets of the request, kept out of the cause
	sent    bool          // the whole request was written to the server
}

// RetryDelay is the delay the server asked for with Retry-After (0 when
// none): the account manager waits that long before the account's next
// refresh.
func (e *ServerError) RetryDelay() time.Duration { return e.RetryAfter }

// NotSent reports a request that never reached the server whole: it could
// not be connected or written, so nothing it carried (a refresh token, a
// code) was spent.
func (e *ServerError) NotSent() bool {
	return (e.Kind == KindNetwork || e.Kind == KindTimeout) && e.StatusCode == 0 && !e.sent
}

// netCause says why a transport failed, without the request's secrets.
func (e *ServerError) netCause() string { return netCause(e.Err, e.redact) }

// operation names what a request was for; it picks the advice in errors.
type operation int

const (
	opOther operation = iota
	opExchange
	opRefresh
	opPassword
	opClientCredentials
	// opBusiness is the client-credentials grant with a business's
	// auth_code: a refused code is a dead grant, as a refused refresh
	// token is.
	opBusiness
	opRevoke
	opDiscovery
	opUserInfo
)

// Error implements error.
func (e *ServerError) Error() string {
	switch e.Kind {
	case KindTimeout:
		if e.timeout > 0 {
			return fmt.Sprintf("no answer from %s within %v; check the network or try again", e.Endpoint, e.timeout)
		}
		return fmt.Sprintf("no answer from %s in time; check the network or try again", e.Endpoint)
	case KindNetwork:
		if e.StatusCode != 0 {
			return fmt.Sprintf("the connection to %s broke while reading its answer (%s); try again", e.Endpoint, e.netCause())
		}
		return fmt.Sprintf("cannot reach %s (%s); check the network and the URL, then try again", e.Endpoint, e.netCause())
	case KindMalformed:
		return fmt.Sprintf("%s sent a reply keyfob cannot read (HTTP %d, not valid JSON); check the URL or try again later",
			e.Endpoint, e.StatusCode)
	case KindHTML:
		if e.StatusCode >= 200 && e.StatusCode < 300 {
			return fmt.Sprintf("%s answered %d with a web page instead of JSON; check that the URL points at the OAuth endpoint",
				e.Endpoint, e.StatusCode)
		}
		return fmt.Sprintf("%s answered %d with a web page instead of JSON — the service may be down; try again later",
			e.Endpoint, e.StatusCode)
	case KindMissingFields:
		return fmt.Sprintf("%s answered without an access token; check the token URL and try again", e.Endpoint)
	case KindTokenType:
		return fmt.Sprintf("%s issued a token of type %q, but keyfob only handles bearer tokens; check the token URL",
			e.Endpoint, e.TokenType)
	}
	msg := fmt.Sprintf("%s answered %d", e.Endpoint, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return msg + "; " + e.advice()
}

// advice says what to do next about an OAuth error answer.
func (e *ServerError) advice() string {
	retry := "try again later"
	if e.RetryAfter > 0 {
		retry = fmt.Sprintf("try again in %v", e.RetryAfter)
	}
	switch {
	case e.op == opPassword && (e.StatusCode == http.StatusUnauthorized || e.Code == "invalid_grant"):
		return "check the email and password and try again"
	case e.op == opRefresh && e.loginRequired():
		return "the refresh token is no longer accepted (used twice, expired, revoked or the password changed); log in again"
	case e.op == opBusiness && e.loginRequired():
		return "the business's auth code is no longer accepted (its consent was withdrawn, or never given to this app); " +
			"get a new one from Tesla for Business's consent management and log in again"
	case e.op == opExchange && (e.loginRequired() || e.Code == "invalid_auth_code"):
		return "the sign-in code expired or was already used; log in again"
	case e.StatusCode >= 300 && e.StatusCode < 400:
		return "the URL redirects elsewhere, and keyfob does not follow redirects with secrets; use the final URL"
	case e.StatusCode == http.StatusTooManyRequests:
		return "too many requests; " + retry
	case e.StatusCode >= 500:
		return "the service may be down; " + retry
	case clientError(e.Code), e.StatusCode == http.StatusUnauthorized && (e.op == opClientCredentials || e.op == opBusiness):
		return "check the client id and client secret"
	case e.Code == "invalid_scope":
		return "check the requested scopes"
	case e.Code == "unsupported_grant_type":
		return "this server does not support the grant; check the account kind and the token URL"
	case e.op == opRevoke:
		return "the tokens may still be valid; try again later or revoke the app's access on the provider's site"
	case e.op == opUserInfo:
		return "the access token was not accepted; refresh it or log in again"
	}
	return "check the account's client id and URLs, or " + retry
}

func clientError(code string) bool {
	switch code {
	case "invalid_client", "unauthorized_client", "invalid_client_id":
		return true
	}
	return false
}

// loginRequired reports whether the answer means the grant is dead and only
// a new login helps. That is a question for refreshes and code exchanges
// only: a refused password or client secret needs other advice.
func (e *ServerError) loginRequired() bool {
	if e.Kind != KindOAuth || (e.op != opRefresh && e.op != opExchange && e.op != opBusiness) {
		return false
	}
	switch e.Code {
	case "login_required", "invalid_grant":
		return true
	case "":
		// A bare 401 to a refresh: the refresh token was refused.
		return e.op == opRefresh && e.StatusCode == http.StatusUnauthorized
	case "invalid_token":
		return e.op == opRefresh
	}
	return false
}

// Is matches accounts.ErrLoginRequired for login_required and invalid_grant
// answers (and a 401 to a refresh), and accounts.ErrOutcomeUnknown for a
// refresh whose answer was lost after the request reached the server.
func (e *ServerError) Is(target error) bool {
	switch target {
	case accounts.ErrLoginRequired:
		return e.loginRequired()
	case accounts.ErrOutcomeUnknown:
		return e.outcomeUnknown()
	}
	return false
}

// outcomeUnknown reports a refresh whose answer was lost after the server
// got the request (a timeout, or a connection that broke after sending):
// the server may have rotated the refresh token.
func (e *ServerError) outcomeUnknown() bool {
	return e.op == opRefresh && (e.Kind == KindTimeout || e.Kind == KindNetwork) && (e.sent || e.StatusCode != 0)
}

// Unwrap returns the transport error behind a timeout or network failure.
func (e *ServerError) Unwrap() error { return e.Err }

// CallbackError is an error the authorization server sent back to the
// redirect URI (error=… on the callback) instead of a code.
type CallbackError struct {
	Code        string
	Description string
}

// Error implements error.
func (e *CallbackError) Error() string {
	desc := ""
	if e.Description != "" {
		desc = ": " + e.Description
	}
	if e.cancelled() {
		return fmt.Sprintf("the sign-in was cancelled in the browser (%s%s); run the login again when ready", e.Code, desc)
	}
	return fmt.Sprintf("the sign-in failed: the server answered %s%s; check the client id, redirect URI and scopes, then log in again",
		e.Code, desc)
}

func (e *CallbackError) cancelled() bool {
	switch e.Code {
	case "login_cancelled", "access_denied", "login_canceled":
		return true
	}
	return false
}

// Is matches ErrLoginCancelled when the user cancelled the sign-in.
func (e *CallbackError) Is(target error) bool {
	return target == ErrLoginCancelled && e.cancelled()
}

// tokenLike matches what could be a token or secret inside server text: a
// long run of token characters. Human sentences have no such words, and a
// server that echoes a request field must not make keyfob print it.
var tokenLike = regexp.MustCompile(`[A-Za-z0-9._~+/=-]{24,}`)

// cleanText trims server-provided text for use in a message: control
// characters and the invisible marks that reorder text dropped, anything
// token-like redacted, at most n runes.
func cleanText(s string, n int) string { return cleanWith(s, n, nil) }

// cleanWith is cleanText with redact applied once the spaces are
// normalised, before the heuristic and the cut.
func cleanWith(s string, n int, redact func(string) string) string {
	s = escapes.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029':
			// Marks that reorder the text on screen, and line breaks.
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if redact != nil {
		s = redact(s)
	}
	s = redactTokenLike(s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

// escapes matches terminal escape sequences (CSI and OSC), which server
// text loses whole: a lone ESC would only become a space.
var escapes = regexp.MustCompile("\x1b\\[[0-?]*[ -/]*[@-~]|\x1b\\][^\x07\x1b]*(\x07|\x1b\\\\)?")

// errorCode is the OAuth error code as keyfob shows it: the usual
// lower-case words only, so a code can never smuggle a token into a message.
var errorCodeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z_.-]{0,47}$`)

func errorCode(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || errorCodeRe.MatchString(s) {
		return s
	}
	return "unreadable_error"
}

// endpointOf names a URL as host + path for messages: no scheme, query or
// credentials, which could carry secrets.
func endpointOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the server"
	}
	return u.Host + u.EscapedPath()
}

func netCause(err error, r *redactor) string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host"
		}
		return "name lookup failed"
	case errors.As(err, &op):
		if op.Err != nil {
			return r.clean(op.Err.Error(), 80)
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return r.clean(ue.Err.Error(), 80)
	}
	return r.clean(err.Error(), 80)
}
