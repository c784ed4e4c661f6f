package sandbox

import (
	"net/http"
	"slices"
	"strings"
)

// fleetRegions are the regions of Tesla's Fleet API, as in FleetAPIBase.
var fleetRegions = []string{"na", "eu", "cn"}

// fleetRoutes adds the Fleet API endpoints under every FleetAPIBase.
func (s *Server) fleetRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/fleet-api/{region}/api/1/users/region", s.serveFleetRegion)
	mux.HandleFunc("/fleet-api/{region}/api/1/users/me", s.serveFleetMe)
	mux.HandleFunc("/fleet-api/{region}/api/1/partner_accounts", s.servePartnerRegister)
	mux.HandleFunc("/fleet-api/{region}/api/1/partner_accounts/public_key", s.servePartnerKey)
}

// fleetError is the Fleet API's error body, {"error": message}.
func fleetError(status int, message string) reply {
	return jsonReply(status, map[string]string{"error": message})
}

// fleetRequest checks a Fleet API request: its region, its method and its
// bearer token, which must be a valid access token. It answers the request
// itself and returns false when it goes no further.
func (s *Server) fleetRequest(w http.ResponseWriter, r *http.Request, method string) (string, bearerInfo, bool) {
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
	return region, b, true
}

// knownRegion reports whether region, in lower case, is a Fleet API
// region or that of a sandbox user.
func (s *Server) knownRegion(region string) bool {
	return slices.Contains(fleetRegions, region) ||
		slices.ContainsFunc(s.users, func(u User) bool { return strings.ToLower(u.Region) == region })
}

// serveFleetRegion is GET {FleetAPIBase}/api/1/users/region: the region of
// the token's user and its base URL. It answers at every region's base, as
// it is how clients find theirs; a partner token gets the region asked.
func (s *Server) serveFleetRegion(w http.ResponseWriter, r *http.Request) {
	region, b, ok := s.fleetRequest(w, r, http.MethodGet)
	if !ok {
		return
	}
	if b.user {
		region = strings.ToLower(b.who.Region)
	}
	s.count(func(st *Stats) { st.FleetAPI++ })
	writeReply(w, jsonReply(http.StatusOK, map[string]any{"response": map[string]any{
		"region": region, "fleet_api_base_url": s.FleetAPIBase(region),
	}}))
}

// serveFleetMe is GET {FleetAPIBase}/api/1/users/me: the token's user,
// only at the base of the user's region (421 elsewhere) and only with the
// user_data scope (403 without, in Tesla's words).
func (s *Server) serveFleetMe(w http.ResponseWriter, r *http.Request) {
	region, b, ok := s.fleetRequest(w, r, http.MethodGet)
	if !ok {
		return
	}
	switch {
	case !b.user:
		writeReply(w, fleetError(http.StatusForbidden, "user token required"))
	case strings.ToLower(b.who.Region) != region:
		writeReply(w, fleetError(http.StatusMisdirectedRequest, "user out of region"))
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
