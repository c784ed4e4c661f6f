package sandbox

import (
	"encoding/json"
	"net/http"
)

// legacyRequest is the JSON body of the legacy owner-api /oauth/token.
type legacyRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Email        string `json:"email"`
	Password     string `json:"password"`
	RefreshToken string `json:"refresh_token"`
}

// legacyResponse is a successful /oauth/token answer.
type legacyResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	CreatedAt    int64  `json:"created_at"`
}

func legacyResponseOf(t issued) legacyResponse {
	return legacyResponse{AccessToken: t.access, TokenType: t.tokenType, ExpiresIn: int64(t.ttl.Seconds()),
		RefreshToken: t.refresh, CreatedAt: t.issuedAt.Unix()}
}

// decodeJSON reads r's body into v, answering 400 when it is not JSON.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) *reply {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		rep := errorReply(http.StatusBadRequest, "invalid_request", "The request body must be a JSON object of strings.")
		return &rep
	}
	return nil
}

// serveLegacyToken is the retired owner-api /oauth/token: the password and
// refresh_token grants with JSON bodies and opaque "qts-" tokens.
func (s *Server) serveLegacyToken(w http.ResponseWriter, r *http.Request) {
	s.tokenEndpoint(w, r, func(m grantMode) reply {
		var req legacyRequest
		if bad := decodeJSON(w, r, &req); bad != nil {
			return *bad
		}
		return s.legacyGrant(req, m == grantWrongType, isChina(r))
	})
}

// legacyGrant runs the grant of a decoded /oauth/token request at the
// China host when cn, or with wrongType issues the token set of
// FaultWrongTokenType instead.
func (s *Server) legacyGrant(req legacyRequest, wrongType, cn bool) reply {
	client := tokenRequest{clientID: req.ClientID, secret: req.ClientSecret}
	withRefresh := issueOptions{refresh: true}
	switch {
	case wrongType:
		s.mu.Lock()
		defer s.mu.Unlock()
		resp := legacyResponseOf(s.issueLocked(s.legacyLoginLocked(req.ClientID, s.users[0], cn), withRefresh))
		resp.TokenType = "mac"
		return jsonReply(http.StatusOK, resp)
	case req.GrantType == "password":
		okClient := req.ClientID == LegacyClientID && s.authenticate(client) == nil
		who, okUser := s.checkUser(req.Email, req.Password)
		if !okClient || !okUser {
			return errorReply(http.StatusUnauthorized, "invalid_grant", "The email, password or client credentials are wrong.")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.issueLocked(s.legacyLoginLocked(req.ClientID, who, cn), withRefresh)
		s.stats.PasswordGrants++
		return jsonReply(http.StatusOK, legacyResponseOf(t))
	case req.GrantType == "refresh_token":
		if req.RefreshToken == "" {
			return errorReply(http.StatusBadRequest, "invalid_request", "The refresh_token field is required.")
		}
		if rep := s.authenticate(client); rep != nil {
			return *rep
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t, ok := s.rotateLocked(req.RefreshToken, rotation{clientID: req.ClientID, legacy: true, china: cn})
		if !ok {
			return loginRequired()
		}
		s.stats.LegacyRefreshes++
		return jsonReply(http.StatusOK, legacyResponseOf(t))
	case req.GrantType == "":
		return errorReply(http.StatusBadRequest, "invalid_request", "The grant_type field is required.")
	default:
		return errorReply(http.StatusBadRequest, "unsupported_grant_type", "The grant_type is not supported; use password or refresh_token.")
	}
}

// legacyLoginLocked is a new owner-api grant of who for clientID, at the
// China host when cn.
func (s *Server) legacyLoginLocked(clientID string, who User, cn bool) *grant {
	return &grant{clientID: clientID, scopes: []string{}, legacy: true, user: true, who: who, china: cn, authTime: s.now()}
}

// serveLegacyRevoke is the owner-api /oauth/revoke. Like Tesla's, it
// answers 200 with an empty body whether or not the token exists, and
// revokes nothing (TESLA.md §7: tesla-net#75, TeslaJS#250). With
// LegacyRevokeWorks the token in the JSON body, access or refresh, ends
// with its whole grant.
func (s *Server) serveLegacyRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeReply(w, methodNotAllowed(http.MethodPost))
		return
	}
	if s.revokeFault(w, r) {
		return
	}
	var req struct {
		Token string `json:"token"`
	}
	if bad := decodeJSON(w, r, &req); bad != nil {
		writeReply(w, *bad)
		return
	}
	if req.Token == "" {
		writeReply(w, errorReply(http.StatusBadRequest, "invalid_request", "The token field is required."))
		return
	}
	s.mu.Lock()
	var g *grant
	if rec, ok := s.access[req.Token]; ok {
		g = rec.grant
	} else if rec, ok := s.refresh[req.Token]; ok {
		g = rec.grant
	}
	if g != nil && s.legacyRevoke && g.china == isChina(r) {
		g.revoked = true
	}
	s.stats.LegacyRevocations++
	s.mu.Unlock()
	writeReply(w, emptyReply())
}
