package sandbox

import (
	"net/http"
	"slices"
	"strings"
)

// fleetRegions are the regions of Tesla's Fleet API, as in FleetAPIBase.
var fleetRegions = []string{"na", "eu", "cn"}

// TeslaFleetAPIBase is Tesla's own Fleet API base URL of a region, e.g.
// https://fleet-api.prd.eu.vn.cloud.tesla.com: what the aud claim of the
// sandbox's user tokens lists, and what users/region, 412 and 421 answers
// name for clients that asked for it as their audience. The sandbox never
// calls it; it serves the region at FleetAPIBase.
func TeslaFleetAPIBase(region string) string {
	r := strings.ToLower(region)
	if r == "cn" {
		return "https://fleet-api.prd.cn.vn.cloud.tesla.cn"
	}
	return "https://fleet-api.prd." + r + ".vn.cloud.tesla.com"
}

// userAudience is the Fleet API part of the aud claim of a user token in
// region: like a real token (vehicle-command#250), every .com region's base
// — North America's and Europe's — whatever the user's region, whose base
// the ou_code picks out; China's alone for a China user.
func userAudience(region string) []string {
	r := strings.ToLower(region)
	if r == "cn" {
		return []string{TeslaFleetAPIBase("cn")}
	}
	out := []string{TeslaFleetAPIBase("na"), TeslaFleetAPIBase("eu")}
	if r != "na" && r != "eu" {
		out = append(out, TeslaFleetAPIBase(r))
	}
	return out
}

// regionBase is how the sandbox names region's Fleet API base to the
// holder of b: Tesla's address when its grant asked for a Tesla audience,
// else the sandbox's own loopback base (a client pointed straight at the
// sandbox keeps talking to it).
func (s *Server) regionBase(b bearerInfo, region string) string {
	if strings.HasPrefix(b.audience, "https://fleet-api.") {
		return TeslaFleetAPIBase(region)
	}
	return s.FleetAPIBase(region)
}

// fleetRoutes adds the Fleet API endpoints under every FleetAPIBase.
func (s *Server) fleetRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/fleet-api/{region}/api/1/users/region", s.serveFleetRegion)
	mux.HandleFunc("/fleet-api/{region}/api/1/users/me", s.serveFleetMe)
	mux.HandleFunc("/fleet-api/{region}/api/1/partner_accounts", s.servePartnerRegister)
	mux.HandleFunc("/fleet-api/{region}/api/1/partner_accounts/public_key", s.servePartnerKey)
	mux.HandleFunc("/fleet-api/{region}/api/1/partner_accounts/fleet_telemetry_errors", s.serveTelemetryErrors)
	mux.HandleFunc("/api/1/vehicles", s.serveOwnerVehicles)
}

// fleetError is the Fleet API's error body, {"error": message}.
func fleetError(status int, message string) reply {
	return jsonReply(status, map[string]string{"error": message})
}

// tokenNeed is who a Fleet API endpoint serves.
type tokenNeed int

const (
	forUser    tokenNeed = iota // Tesla's user endpoints: a token acting for a user
	forPartner                  // the partner endpoints: a token acting for no user
)

// fleetRequest checks a Fleet API request: its region, its method, its
// bearer token, which must be a valid access token of the kind need says
// (403 "user context required" or "partner token required" otherwise),
// the rate limit (SetAPIRateLimit) and, with RequireRegistration, the
// registration of the token's app in the region. It answers the request
// itself and returns false when it goes no further.
func (s *Server) fleetRequest(w http.ResponseWriter, r *http.Request, method string, need tokenNeed) (string, bearerInfo, bool) {
	region := r.PathValue("region")
	if !s.knownRegion(region) {
		writeReply(w, errorReply(http.StatusNotFound, "not_found", "The sandbox has no Fleet API for this region; use na, eu or cn."))
		return "", bearerInfo{}, false
	}
	if r.Method != method {
		writeReply(w, methodNotAllowed(method))
		return "", bearerInfo{}, false
	}
	tok, ok := bearer(r)
	var b bearerInfo
	if ok {
		b, ok = s.lookupBearer(tok)
	}
	if !ok {
		rep := fleetError(http.StatusUnauthorized, "invalid_token")
		rep.header = http.Header{"WWW-Authenticate": {`Bearer error="invalid_token"`}}
		writeReply(w, rep)
		return "", bearerInfo{}, false
	}
	switch {
	case need == forUser && !b.user:
		// Tesla's user endpoints need a user context: a partner token has none.
		writeReply(w, fleetError(http.StatusForbidden, "user context required"))
		return "", bearerInfo{}, false
	case need == forPartner && b.user:
		writeReply(w, fleetError(http.StatusForbidden, "partner token required"))
		return "", bearerInfo{}, false
	}
	if rep, limited := s.takeRateLimit(); limited {
		writeReply(w, rep)
		return "", bearerInfo{}, false
	}
	if rep, refused := s.unregistered(r, region, b); refused {
		writeReply(w, rep)
		return "", bearerInfo{}, false
	}
	return region, b, true
}

// knownRegion reports whether region, in lower case, is a Fleet API
// region or that of a sandbox user.
func (s *Server) knownRegion(region string) bool {
	return slices.Contains(fleetRegions, region) ||
		slices.ContainsFunc(s.users, func(u User) bool { return strings.ToLower(u.Region) == region })
}

// serveFleetRegion is GET {FleetAPIBase}/api/1/users/region: the region of
// the token's user and its base URL (regionBase). It answers at every
// region's base, as it is how clients find theirs; a partner token, which
// acts for no user, is refused as at Tesla (user context required).
func (s *Server) serveFleetRegion(w http.ResponseWriter, r *http.Request) {
	_, b, ok := s.fleetRequest(w, r, http.MethodGet, forUser)
	if !ok {
		return
	}
	region := strings.ToLower(b.who.Region)
	s.count(func(st *Stats) { st.FleetAPI++ })
	writeReply(w, jsonReply(http.StatusOK, map[string]any{"response": map[string]any{
		"region": region, "fleet_api_base_url": s.regionBase(b, region),
	}}))
}

// serveFleetMe is GET {FleetAPIBase}/api/1/users/me: the token's user,
// only at the base of the user's region (421 elsewhere, naming the user's
// base as Tesla does) and only with the user_data scope (403 without, in
// Tesla's words).
func (s *Server) serveFleetMe(w http.ResponseWriter, r *http.Request) {
	region, b, ok := s.fleetRequest(w, r, http.MethodGet, forUser)
	if !ok {
		return
	}
	switch {
	case strings.ToLower(b.who.Region) != region:
		writeReply(w, fleetError(http.StatusMisdirectedRequest, "user out of region, use base URL: "+
			s.regionBase(b, b.who.Region)+", see https://developer.tesla.com/docs/fleet-api/getting-started/regions-countries"))
	case !slices.Contains(b.scopes, "user_data"):
		writeReply(w, fleetError(http.StatusForbidden, "Unauthorized missing scopes"))
	default:
		s.count(func(st *Stats) { st.UserInfo++; st.FleetAPI++ })
		writeReply(w, jsonReply(http.StatusOK, usersMeBody(b.who)))
	}
}

// usersMeBody is the answer of users/me for u.
func usersMeBody(u User) any {
	return map[string]any{"response": map[string]any{
		"email": u.Email, "full_name": u.FullName, "profile_image_url": "",
	}}
}
