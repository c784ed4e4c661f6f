package sandbox

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"
)

// Fault is a failure the sandbox can inject into its next answers.
type Fault string

// The faults FailNext knows.
const (
	// FaultServerError answers 503 {"error":"server_error"}.
	FaultServerError Fault = "5xx"
	// FaultTimeout never answers until the client gives up or Close.
	FaultTimeout Fault = "timeout"
	// FaultSlowDrip sends 200 headers at once, then a valid body one byte
	// per 200ms. The grant is really performed, so a refresh token
	// presented is rotated as usual even if the client gives up before the
	// end of the body (RefreshGrace models Tesla's overlap).
	FaultSlowDrip Fault = "slow_drip"
	// FaultMalformedJSON answers 200, Content-Type application/json, body
	// `{"access_token": "ab`.
	FaultMalformedJSON Fault = "malformed_json"
	// FaultHTML answers 502 with a text/html error page.
	FaultHTML Fault = "html"
	// FaultRateLimit answers 429 with Retry-After: 7 and
	// {"error":"rate_limited"}.
	FaultRateLimit Fault = "429"
	// FaultLoginRequired answers 401 {"error":"login_required",...}; the
	// refresh token presented stays live at the server.
	FaultLoginRequired Fault = "login_required"
	// FaultInvalidGrant answers 400 {"error":"invalid_grant"}.
	FaultInvalidGrant Fault = "invalid_grant"
	// FaultMissingFields answers 200 {"token_type":"Bearer","expires_in":28800}
	// with no access_token.
	FaultMissingFields Fault = "missing_fields"
	// FaultWrongTokenType answers 200 with a full token set whose
	// token_type is "mac". The tokens are new and valid; the credentials
	// presented are not consumed.
	FaultWrongTokenType Fault = "wrong_token_type"
	// FaultDenied applies to the authorize endpoint only: it redirects back
	// with error=login_cancelled, as when the user cancels Tesla's login.
	FaultDenied Fault = "denied"
	// FaultEcho answers 400 {"error":"invalid_request",
	// "error_description":D,"message":B} like a careless server that
	// echoes what it was sent: B is the raw request body; D holds B, then
	// every form (or JSON) field's value raw, URL-encoded
	// (url.QueryEscape), JSON-escaped (as inside a JSON string, e.g.
	// \u003c), base64 (StdEncoding) and base64url (RawURLEncoding), then
	// the Authorization header and, for Basic, its decoded user and
	// password in the same five forms. The grant is not performed:
	// nothing presented is consumed.
	FaultEcho Fault = "echo"
	// FaultHostileClaims performs the grant normally but mints tokens
	// whose claims are hostile to terminals: HostileEmail, HostileName,
	// HostileOUCode, and scp (and the answer's scope field, sent even on
	// a refresh) ending in HostileScopeNewline and HostileScopeClear.
	// userinfo and users/me answer HostileEmail and HostileName for them.
	// Legacy /oauth/token tokens are opaque, so there it is a plain grant.
	FaultHostileClaims Fault = "hostile_claims"
)

// grantMode is how a token endpoint performs the grant it is asked for.
type grantMode int

const (
	grantNormal    grantMode = iota
	grantWrongType           // FaultWrongTokenType: a new token set of type "mac"; nothing consumed
	grantHostile             // FaultHostileClaims: the grant, with hostile claims
)

// FailNext makes the next n requests to token endpoints (/oauth2/v3/token,
// /oauth/token, and for FaultDenied the authorize endpoint) of either host
// fail with f. Faults queue in order: each token request takes the oldest
// queued fault other than FaultDenied, each authorize request the oldest
// FaultDenied. A request refused by RequireHTTP2 takes none. Every fault
// counts in Stats.Failures, those that still grant (FaultSlowDrip,
// FaultWrongTokenType, FaultHostileClaims) included.
func (s *Server) FailNext(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == FaultDenied {
		s.denials += max(n, 0)
		return
	}
	for range n {
		s.faults = append(s.faults, f)
	}
}

// FailNextRevoke makes the next n requests to the revocation endpoints
// (/oauth2/v3/revoke, /oauth/revoke) of either host fail with f, from a
// queue of their own. FaultEcho, FaultServerError, FaultHTML,
// FaultRateLimit and FaultTimeout answer as at a token endpoint; any other
// fault answers 503. A failed revocation revokes nothing and counts in
// Stats.Failures, not in Revocations or LegacyRevocations.
func (s *Server) FailNextRevoke(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.revokeFaults = append(s.revokeFaults, f)
	}
}

// takeRevokeFault returns the failure the next request to a revocation
// endpoint answers with, and counts it.
func (s *Server) takeRevokeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.revokeFaults) == 0 {
		return "", false
	}
	f := s.revokeFaults[0]
	s.revokeFaults = s.revokeFaults[1:]
	s.stats.Failures++
	return f, true
}

// revokeFault answers a revocation request with a queued fault and
// reports whether it did.
func (s *Server) revokeFault(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.takeRevokeFault()
	if !ok {
		return false
	}
	switch f {
	case FaultEcho:
		writeReply(w, echoReply(w, r))
	case FaultTimeout:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case FaultHTML:
		writeReply(w, reply{status: http.StatusBadGateway, contentType: "text/html; charset=utf-8", body: []byte(htmlBadGateway)})
	case FaultRateLimit:
		rep := errorReply(http.StatusTooManyRequests, "rate_limited", "Too many requests; retry after 7 seconds.")
		rep.header = http.Header{"Retry-After": {"7"}}
		writeReply(w, rep)
	default:
		writeReply(w, errorReply(http.StatusServiceUnavailable, "server_error", "The service is temporarily unavailable."))
	}
	return true
}

// takeFault returns the failure the next request to the authorize endpoint
// (authorize) or to a token endpoint (!authorize) answers with, and counts
// it: a queued FaultDenied for authorize; for a token endpoint the oldest
// queued fault, or else FaultServerError with probability FailRate.
func (s *Server) takeFault(authorize bool) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var f Fault
	switch {
	case authorize && s.denials == 0:
		return "", false
	case authorize:
		s.denials--
		f = FaultDenied
	case len(s.faults) > 0:
		f, s.faults = s.faults[0], s.faults[1:]
	case s.failRate > 0 && rand.Float64() < s.failRate:
		f = FaultServerError
	default:
		return "", false
	}
	s.stats.Failures++
	return f, true
}

// tokenEndpoint runs a token endpoint: it records how the request came
// (LastTokenRequest) and refuses HTTP/1 under RequireHTTP2; then a queued
// fault or a FailRate hit answers instead of run(grantNormal), whose reply
// is sent otherwise. The faults that still grant call run with their mode.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request, run func(grantMode) reply) {
	s.recordTransport(r)
	if r.Method != http.MethodPost {
		writeReply(w, methodNotAllowed(http.MethodPost))
		return
	}
	if s.requireH2 && r.ProtoMajor != 2 {
		writeReply(w, errorReply(http.StatusForbidden, "http2_required", "Token requests must be sent over HTTP/2."))
		return
	}
	f, ok := s.takeFault(false)
	if !ok {
		writeReply(w, run(grantNormal))
		return
	}
	switch f {
	case FaultTimeout:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case FaultSlowDrip:
		s.dripReply(r.Context(), w, run(grantNormal))
	case FaultMalformedJSON:
		writeReply(w, reply{status: http.StatusOK, contentType: "application/json", body: []byte(`{"access_token": "ab`)})
	case FaultHTML:
		writeReply(w, reply{status: http.StatusBadGateway, contentType: "text/html; charset=utf-8", body: []byte(htmlBadGateway)})
	case FaultRateLimit:
		rep := errorReply(http.StatusTooManyRequests, "rate_limited", "Too many requests; retry after 7 seconds.")
		rep.header = http.Header{"Retry-After": {"7"}}
		writeReply(w, rep)
	case FaultLoginRequired:
		writeReply(w, loginRequired())
	case FaultInvalidGrant:
		writeReply(w, errorReply(http.StatusBadRequest, "invalid_grant", ""))
	case FaultMissingFields:
		writeReply(w, jsonReply(http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 28800}))
	case FaultWrongTokenType:
		writeReply(w, run(grantWrongType))
	case FaultHostileClaims:
		writeReply(w, run(grantHostile))
	case FaultEcho:
		writeReply(w, echoReply(w, r))
	default: // FaultServerError and any unknown fault
		writeReply(w, errorReply(http.StatusServiceUnavailable, "server_error", "The service is temporarily unavailable."))
	}
}

// dripReply sends the headers of rep at once and then its body one byte at
// a time, until the body ends, the client gives up or the server closes.
func (s *Server) dripReply(ctx context.Context, w http.ResponseWriter, rep reply) {
	s.mu.Lock()
	every := s.drip
	s.mu.Unlock()
	body := rep.body
	rep.body = nil
	writeReply(w, rep)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range body {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
		if _, err := w.Write(body[i : i+1]); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// htmlBadGateway is the page of FaultHTML, like a proxy's error page.
const htmlBadGateway = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>
`
