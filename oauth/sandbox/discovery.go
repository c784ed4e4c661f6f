package sandbox

import (
	"net/http"
	"strings"
)

// scopesSupported is Tesla's scope list.
var scopesSupported = []string{
	"openid", "offline_access", "user_data", "vehicle_device_data", "vehicle_location", "vehicle_cmds",
	"vehicle_charging_cmds", "vehicle_specs", "vehicle_pricing_info", "energy_device_data", "energy_cmds",
	"enterprise_management", "email", "profile",
}

// serveDiscovery answers the OpenID Connect discovery document of the
// host asked, whose endpoints it names. Unlike Tesla's captured copies it
// names a revocation endpoint, which the sandbox has.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeReply(w, methodNotAllowed(http.MethodGet))
		return
	}
	iss := s.issuerOf(isChina(r))
	writeReply(w, jsonReply(http.StatusOK, map[string]any{
		"issuer":                                     iss,
		"authorization_endpoint":                     iss + "/authorize",
		"token_endpoint":                             iss + "/token",
		"userinfo_endpoint":                          iss + "/userinfo",
		"revocation_endpoint":                        iss + "/revoke",
		"jwks_uri":                                   iss + "/discovery/keys",
		"end_session_endpoint":                       iss + "/logout",
		"response_types_supported":                   []string{"code"},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token", "client_credentials", "password"},
		"code_challenge_methods_supported":           []string{"S256"},
		"scopes_supported":                           scopesSupported,
		"subject_types_supported":                    []string{"public"},
		"id_token_signing_alg_values_supported":      []string{"HS256"},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_post", "client_secret_basic", "none"},
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_post", "none"},
		"claims_supported": []string{"iss", "sub", "aud", "azp", "scp", "exp", "iat", "auth_time", "amr",
			"ou_code", "locale", "email", "email_verified"},
	}))
}

// serveKeys answers the jwks_uri with no keys: tokens are signed with a
// private HMAC key that nobody is meant to verify.
func (s *Server) serveKeys(w http.ResponseWriter, r *http.Request) {
	writeReply(w, jsonReply(http.StatusOK, map[string]any{"keys": []any{}}))
}

// serveLogout is the end_session_endpoint: the sandbox keeps no browser
// session, so there is nothing to end.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	writeReply(w, reply{status: http.StatusOK, contentType: "text/html; charset=utf-8",
		body: []byte("<!DOCTYPE html><title>Signed out</title><p>You are signed out of the keyfob sandbox.</p>\n")})
}

// serveUserInfo is the OIDC userinfo endpoint.
func (s *Server) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	s.serveUser(w, r, func(u User) any {
		return map[string]any{"sub": u.Subject, "email": u.Email, "email_verified": true}
	})
}

// serveUsersMe is the Owner/Fleet API's /api/1/users/me at the root of
// either host: any user token, any scope, any region.
func (s *Server) serveUsersMe(w http.ResponseWriter, r *http.Request) {
	s.serveUser(w, r, usersMeBody)
}

// serveUser checks the request's bearer token and answers body with the
// token's user.
func (s *Server) serveUser(w http.ResponseWriter, r *http.Request, body func(User) any) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeReply(w, methodNotAllowed(http.MethodGet))
		return
	}
	tok, ok := bearer(r)
	if !ok {
		writeReply(w, invalidToken("The request carries no bearer token."))
		return
	}
	b, valid := s.lookupBearer(tok)
	switch {
	case !valid:
		writeReply(w, invalidToken("The access token is unknown, expired or revoked."))
	case !b.user:
		rep := errorReply(http.StatusForbidden, "insufficient_scope", "The token acts for a client, not for a user.")
		rep.header = http.Header{"WWW-Authenticate": {`Bearer error="insufficient_scope"`}}
		writeReply(w, rep)
	default:
		s.count(func(st *Stats) { st.UserInfo++ })
		writeReply(w, jsonReply(http.StatusOK, body(b.who)))
	}
}

// bearerInfo is what the server knows of a valid access token.
type bearerInfo struct {
	clientID string
	user     bool // acts for a user, not for a client
	who      User // the user, as the token shows it (hostile when minted so)
	scopes   []string
	audience string // the audience its grant asked for
}

// lookupBearer returns what the server knows of the access token tok, and
// whether it is valid now.
func (s *Server) lookupBearer(tok string) (bearerInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.access[tok]
	if !ok || !validLocked(rec, s.now()) {
		return bearerInfo{}, false
	}
	b := bearerInfo{clientID: rec.grant.clientID, user: rec.grant.user, who: rec.grant.who, scopes: rec.grant.scopes,
		audience: rec.grant.audience}
	if rec.hostile {
		b.who = hostileUser(b.who)
	}
	return b, true
}

// count updates the counters with f.
func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// invalidToken is RFC 6750's answer to a bad bearer token.
func invalidToken(description string) reply {
	rep := errorReply(http.StatusUnauthorized, "invalid_token", description)
	rep.header = http.Header{"WWW-Authenticate": {`Bearer error="invalid_token"`}}
	return rep
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}
