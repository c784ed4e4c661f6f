package oauth

import (
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/keyfob/keyfob/accounts"
)

// ErrInsecureHTTP matches (errors.Is) the error of an endpoint that would
// be reached over plain http off this machine without the user's opt-in
// (LoginOptions.AllowInsecureHTTP, accounts.Account.AllowInsecureHTTP). The error
// is a *FieldError naming the endpoint's field.
var ErrInsecureHTTP = errors.New("a plain http endpoint off loopback")

// LoopbackHost reports whether host (a URL's host, with or without port)
// is this machine: "localhost", an address of 127.0.0.0/8, or ::1.
func LoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// insecureURL reports whether raw would travel in clear text off this
// machine: an http URL whose host is not loopback.
func insecureURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.EqualFold(u.Scheme, "http") && !LoopbackHost(u.Host)
}

// insecureError is the error of field's URL raw being plain http off
// loopback.
func insecureError(f Field, raw string) *FieldError {
	fe := fieldErr(f, "%s %s is plain http to another machine, where anyone on the way could read the secrets sent to it; use its https address",
		f.Noun(), endpointOf(raw))
	fe.cause = ErrInsecureHTTP
	return fe
}

// checkSecure fails with insecureError unless raw is https, loopback, or
// allowed in clear text.
func checkSecure(f Field, raw string, allowHTTP bool) error {
	if raw == "" || allowHTTP || !insecureURL(raw) {
		return nil
	}
	return insecureError(f, raw)
}

// NeedsInsecureHTTP reports whether one of a's endpoints is plain http off
// loopback: what only the user's opt-in (--insecure-http) allows.
func NeedsInsecureHTTP(a accounts.Account) bool {
	for _, f := range []Field{FieldAuthURL, FieldTokenURL, FieldRevokeURL, FieldUserInfoURL, FieldBaseURL, FieldAPIBaseURL} {
		if insecureURL(Value(a, f)) {
			return true
		}
	}
	return false
}

// secureEndpoints checks, before a request carrying a secret, the fields
// of a it will use: a stored account edited by hand must not send its
// tokens in clear text.
func secureEndpoints(a accounts.Account, allowHTTP bool, fields ...Field) error {
	for _, f := range fields {
		if err := checkSecure(f, Value(a, f), allowHTTP); err != nil {
			return err
		}
	}
	return nil
}

// refusedRequest is the recorder's refusal of a plain http request off
// loopback (a redirect or an endpoint no check saw); classify returns it
// as it is.
func refusedRequest(u *url.URL) error {
	return insecureError(FieldEndpoint, u.String())
}
