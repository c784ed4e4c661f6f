package sandbox

import (
	"net/http"
	"strconv"
	"time"
)

// SetAPIRateLimit makes the next n requests to the Fleet API (every path
// under a FleetAPIBase) and to the Owner API's vehicles answer 429, as
// Tesla does past its rate limits: Retry-After says retryAfter (in whole
// seconds, at least 1), and RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset describe the window. n = 0 lifts it.
func (s *Server) SetAPIRateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimited, s.retryAfter = max(n, 0), retryAfter
}

// takeRateLimit returns the 429 the next API request answers, if any.
func (s *Server) takeRateLimit() (reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rateLimited == 0 {
		return reply{}, false
	}
	s.rateLimited--
	s.stats.Failures++
	secs := strconv.Itoa(max(int(s.retryAfter.Round(time.Second)/time.Second), 1))
	rep := fleetError(http.StatusTooManyRequests, "Too many requests; see https://developer.tesla.com/docs/fleet-api/billing-and-limits")
	rep.header = http.Header{"Retry-After": {secs}, "Ratelimit-Limit": {"60"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {secs}}
	return rep, true
}

// SetRequireRegistration makes the Fleet API refuse, as Tesla does, the
// tokens of an app whose domain is not registered in the region asked
// (POST partner_accounts): 412 "Account CLIENT_ID must be registered in
// the current region BASE/". Registering (and reading the key Tesla holds)
// stays open. Options.RequireRegistration sets it from the start.
func (s *Server) SetRequireRegistration(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireRegistration = on
}

// unregistered returns the 412 of a request to region's Fleet API by the
// app of b when RequireRegistration is on and the app has no registration
// there. Registration itself and the public key are exempt.
func (s *Server) unregistered(r *http.Request, region string, b bearerInfo) (reply, bool) {
	path := r.URL.Path
	if (r.Method == http.MethodPost && hasSuffix(path, "/api/1/partner_accounts")) || hasSuffix(path, "/partner_accounts/public_key") {
		return reply{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.requireRegistration {
		return reply{}, false
	}
	for k, acct := range s.partners {
		if k.region == region && acct.clientID == b.clientID {
			return reply{}, false
		}
	}
	return fleetError(http.StatusPreconditionFailed, "Account "+b.clientID+" must be registered in the current region "+
		s.regionBase(b, region)+"/, please see https://developer.tesla.com/docs/fleet-api/endpoints/partner-endpoints#register"), true
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// serveTelemetryErrors is GET {FleetAPIBase}/api/1/partner_accounts/
// fleet_telemetry_errors, a partner endpoint: with a partner token, the
// app's recent Fleet Telemetry errors (the sandbox has none); a user token
// is refused.
func (s *Server) serveTelemetryErrors(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.fleetRequest(w, r, http.MethodGet, forPartner); !ok {
		return
	}
	s.count(func(st *Stats) { st.FleetAPI++ })
	writeReply(w, jsonReply(http.StatusOK, map[string]any{"response": map[string]any{"fleet_telemetry_errors": []any{}}}))
}

// ownerAPIClosed is the Owner API's answer to owner tokens since
// 2026-06-12 (teslamate#5384).
const ownerAPIClosed = "forbidden, see https://developer.tesla.com/docs/fleet-api"

// SetOwnerAPIOpen makes the Owner API's GET /api/1/vehicles answer owner
// and legacy tokens with the user's vehicles, as it did before Tesla began
// closing it; by default it answers 403 {"error": "forbidden, see
// https://developer.tesla.com/docs/fleet-api"}, as Tesla does since
// 2026-06-12. Options.OwnerAPIOpen sets it from the start.
func (s *Server) SetOwnerAPIOpen(open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ownerAPIOpen = open
}

// serveOwnerVehicles is the Owner API's GET /api/1/vehicles, at the root
// of both hosts: 403 forbidden for every token (the Owner API closing),
// unless SetOwnerAPIOpen; a token acting for no user is refused.
func (s *Server) serveOwnerVehicles(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeReply(w, methodNotAllowed(http.MethodGet))
		return
	}
	tok, ok := bearer(r)
	b, valid := s.lookupBearer(tok)
	switch {
	case !ok || !valid:
		writeReply(w, invalidToken("The access token is unknown, expired or revoked."))
		return
	case !b.user:
		writeReply(w, fleetError(http.StatusForbidden, "user context required"))
		return
	}
	if rep, limited := s.takeRateLimit(); limited {
		writeReply(w, rep)
		return
	}
	s.mu.Lock()
	open := s.ownerAPIOpen
	s.mu.Unlock()
	if !open {
		writeReply(w, fleetError(http.StatusForbidden, ownerAPIClosed))
		return
	}
	s.count(func(st *Stats) { st.FleetAPI++ })
	writeReply(w, jsonReply(http.StatusOK, map[string]any{"count": 1, "response": []any{map[string]any{
		"id": 1492931337, "vin": "5YJ3E7EB0SANDB0X1", "display_name": "Sandbox Car", "state": "online",
	}}}))
}
