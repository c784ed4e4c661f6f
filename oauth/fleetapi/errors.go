package fleetapi

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/keyfob/keyfob/oauth"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrUnauthorized: the server answered 401, the token is expired,
	// revoked or unknown to it.
	ErrUnauthorized = errors.New("the token was refused")
	// ErrMisdirected: the server answered 421, the user's data lives in
	// another region.
	ErrMisdirected = errors.New("wrong region")
	// ErrNotRegistered: the server answered 412, the app's domain is not
	// registered in the region asked (POST partner_accounts).
	ErrNotRegistered = errors.New("the app is not registered in this region")
	// ErrRateLimited: the server answered 429; the error's RetryAfter says
	// when to ask again.
	ErrRateLimited = errors.New("rate limited")
	// ErrNotFound: the server answered 404.
	ErrNotFound = errors.New("not found")
	// ErrUnreachable: no answer came (name lookup, connection, TLS,
	// timeout).
	ErrUnreachable = errors.New("no answer from the server")
)

// APIError is an answer that is not 2xx, or a 2xx answer that is not the
// JSON expected (Malformed).
type APIError struct {
	Method   string
	Endpoint string // host + path
	Status   int
	// Message is the server's own text (its "error" and
	// "error_description"), made safe: one line, no control characters, no
	// token, at most 200 characters. Web addresses that carry no secret
	// stay: Tesla's region errors name the Fleet API base to use.
	Message   string
	Malformed bool
	// Region and Base are, for a region error (412, 421), the Tesla region
	// and Fleet API base URL the server's message names: the region the
	// app must be registered in (412), or the user's (421). Empty when the
	// message names none.
	Region, Base string
	// RetryAfter is the wait a 429 (or 503) asked for with Retry-After; 0
	// when none. RateLimit holds the answer's RateLimit-* headers.
	RetryAfter time.Duration
	RateLimit  map[string]string
}

// newAPIError is the error of an answer with status and the server's
// cleaned message, reading the region a 412 or 421 names.
func newAPIError(method, rawURL string, status int, message string) *APIError {
	e := &APIError{Method: method, Endpoint: endpointOf(rawURL), Status: status, Message: message}
	if status == http.StatusPreconditionFailed || status == http.StatusMisdirectedRequest {
		e.Base = namedBase(message)
		e.Region = oauth.RegionOfBase(e.Base)
	}
	return e
}

// namedBase is the first Fleet API base URL in a server's message: a web
// address on a fleet-api host, or one of the sandbox's loopback bases.
func namedBase(message string) string {
	for _, m := range addressRe.FindAllString(message, -1) {
		m = strings.TrimRight(m, ".,;:")
		if strings.Contains(m, "fleet-api") {
			return strings.TrimRight(m, "/")
		}
	}
	return ""
}

// addressRe finds web addresses in cleaned server text.
var addressRe = regexp.MustCompile(`https?://[^\s"'<>()]+`)

func (e *APIError) Error() string {
	if e.Malformed {
		return fmt.Sprintf("%s %s answered %d with something that is not the JSON keyfob expects", e.Method, e.Endpoint, e.Status)
	}
	s := fmt.Sprintf("%s %s answered %d %s", e.Method, e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += " (" + e.Message + ")"
	}
	switch e.Status {
	case http.StatusPreconditionFailed:
		s += ": Tesla serves an app in a region only once its domain is registered there; " + e.registerAdvice()
	case http.StatusMisdirectedRequest:
		if e.Region != "" {
			s += ": the user's data is served in region " + e.Region
		}
	case http.StatusTooManyRequests:
		s += ": " + e.rateAdvice()
	}
	return s
}

// registerAdvice is the command that registers the app in the region a
// 412 names.
func (e *APIError) registerAdvice() string {
	if e.Region == "" {
		return "register it with keyfob partner register"
	}
	return "register it there with keyfob partner register --region " + e.Region
}

// rateAdvice says when to try again after a 429, with the rate-limit
// window the server described.
func (e *APIError) rateAdvice() string {
	s := "Tesla's rate limit was reached"
	if len(e.RateLimit) > 0 {
		s += " (" + RateLimitText(e.RateLimit) + ")"
	}
	if e.RetryAfter > 0 {
		return s + "; try again in " + e.RetryAfter.String()
	}
	return s + "; try again later"
}

// RateLimitText shows RateLimit-* headers in one line, in name order:
// "ratelimit-limit 60, ratelimit-remaining 0, ratelimit-reset 2".
func RateLimitText(h map[string]string) string {
	names := slices.Sorted(maps.Keys(h))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " " + h[n]
	}
	return strings.Join(parts, ", ")
}

// rateLimitHeaders are the RateLimit-* headers of an answer, by lower-case
// name, cleaned of anything a terminal or a token could abuse; nil when
// there are none.
func rateLimitHeaders(h http.Header, secret string) map[string]string {
	var out map[string]string
	for name, vs := range h {
		if !strings.HasPrefix(strings.ToLower(name), "ratelimit") || len(vs) == 0 {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[clean(strings.ToLower(name), 60, secret)] = clean(strings.Join(vs, ", "), 80, secret)
	}
	return out
}

// Is matches ErrUnauthorized (401), ErrNotFound (404), ErrNotRegistered
// (412), ErrMisdirected (421) and ErrRateLimited (429).
func (e *APIError) Is(target error) bool {
	if e.Malformed {
		return false
	}
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrMisdirected:
		return e.Status == http.StatusMisdirectedRequest
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrNotRegistered:
		return e.Status == http.StatusPreconditionFailed
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// MissingScopes reports Tesla's answer to a call the token lacks a scope
// for (403 "Unauthorized missing scopes").
func (e *APIError) MissingScopes() bool {
	return e.Status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Message), "missing scopes")
}

// NetError is a request that got no answer.
type NetError struct {
	Endpoint string // host + path
	// Cause says why, briefly: "no such host", "connection refused",
	// "timed out", "certificate not trusted".
	Cause string
	// NoSuchHost is set when the host name does not resolve.
	NoSuchHost bool
	// Proxy is set when the proxy (HTTPS_PROXY) did not answer.
	Proxy bool
}

func (e *NetError) Error() string {
	return fmt.Sprintf("no answer from %s: %s", e.Endpoint, e.Cause)
}

// Is matches ErrUnreachable.
func (e *NetError) Is(target error) bool { return target == ErrUnreachable }

// netError classifies a transport failure.
func netError(ctx context.Context, raw string, err error, secret string) *NetError {
	ne := &NetError{Endpoint: endpointOf(raw)}
	var dns *net.DNSError
	var op *net.OpError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case ctx.Err() == context.Canceled:
		ne.Cause = "cancelled"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		ne.Cause = "timed out"
	case errors.As(err, &dns):
		ne.Cause, ne.NoSuchHost = "name lookup failed", dns.IsNotFound
		if dns.IsNotFound {
			ne.Cause = "no such host"
		}
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		ne.Cause = "its TLS certificate is not trusted (" + clean(firstLine(err), 120, secret) + ")"
	case errors.As(err, &op) && op.Op == "proxyconnect":
		ne.Cause, ne.Proxy = "the proxy did not answer ("+clean(op.Error(), 120, secret)+")", true
	case errors.As(err, &op) && op.Err != nil:
		ne.Cause = clean(op.Err.Error(), 120, secret)
	default:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		ne.Cause = clean(err.Error(), 120, secret)
	}
	return ne
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// serverMessage is the text of an error answer: the "error",
// "error_description" and "message" fields of a JSON body, else nothing
// (an HTML page or garbage says nothing useful).
func serverMessage(body []byte, secret string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"error", "error_description", "message"} {
		if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return clean(strings.Join(parts, ": "), 200, secret)
}

// clean makes server text safe for a message (see oauth.CleanServerText).
func clean(s string, n int, secret string) string { return oauth.CleanServerText(s, n, secret) }

// MismatchError says that the account's region or Fleet API base URL is
// not the one Tesla names for its user.
type MismatchError struct {
	// AccountRegion and AccountBase are what the account has (its region
	// and audience).
	AccountRegion, AccountBase string
	// Region and Base are what Tesla answered at users/region.
	Region, Base string
	// Misdirected is set when users/me answered 421 at the account's base.
	Misdirected bool
}

func (e *MismatchError) Error() string {
	what := "Tesla says this user is in region " + quoted(e.Region) + ", served at " + quoted(e.Base) +
		", but the account has region " + quoted(e.AccountRegion) + " and Fleet API base " + quoted(e.AccountBase)
	if e.Misdirected {
		what += " (users/me answered 421 Misdirected Request there)"
	}
	return what
}

// Is matches ErrMisdirected.
func (e *MismatchError) Is(target error) bool { return target == ErrMisdirected }

// quoted shows a region or a base URL in a message.
func quoted(s string) string {
	if s == "" {
		return "(none)"
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return clean(s, 120, "")
	}
	// A URL is shown whole: the token heuristic of clean would hide every
	// Fleet API host, which is what the user has to compare here.
	shown := u.Scheme + "://" + strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, u.Host) + u.EscapedPath()
	if r := []rune(shown); len(r) > 120 {
		shown = string(r[:119]) + "…"
	}
	return shown
}

// withheld is s, a URL from a server's answer, or "[redacted]" when it
// holds the token in any form.
func withheld(s, token string) string {
	if token != "" && clean(s, len(s)+1, token) != clean(s, len(s)+1, "") {
		return "[redacted]"
	}
	return s
}
