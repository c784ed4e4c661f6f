package fleetapi

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
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
	// token, at most 200 characters.
	Message   string
	Malformed bool
}

func (e *APIError) Error() string {
	if e.Malformed {
		return fmt.Sprintf("%s %s answered %d with something that is not the JSON keyfob expects", e.Method, e.Endpoint, e.Status)
	}
	s := fmt.Sprintf("%s %s answered %d %s", e.Method, e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += " (" + e.Message + ")"
	}
	return s
}

// Is matches ErrUnauthorized (401), ErrMisdirected (421) and ErrNotFound
// (404).
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
