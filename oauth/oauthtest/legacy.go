package oauthtest

import (
	"crypto/subtle"
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
	var req legacyRequest
	var bad *reply
	parsed := false
	parse := func() {
		if !parsed {
			bad = decodeJSON(w, r, &req)
			parsed = true
		}
	}
	s.tokenEndpoint(w, r, func() reply {
		parse()
		if bad != nil {
			return *bad
		}
		return s.legacyGrant(req)
	}, func() reply {
		parse()
		if bad != nil {
			return *bad
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		g := &grant{clientID: req.ClientID, scopes: []string{}, legacy: true, user: true, authTime: s.now()}
		resp := legacyResponseOf(s.issueLocked(g, true, s.legacy))
		resp.TokenType = "mac"
		return jsonReply(http.StatusOK, resp)
	})
}

// legacyGrant runs the grant of a decoded /oauth/token request.
func (s *Server) legacyGrant(req legacyRequest) reply {
	switch req.GrantType {
	case "password":
		okClient := req.ClientID == LegacyClientID &&
			subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(LegacyClientSecret)) == 1
		if !okClient || !s.checkUser(req.Email, req.Password) {
			return errorReply(http.StatusUnauthorized, "invalid_grant", "The email, password or client credentials are wrong.")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		g := &grant{clientID: req.ClientID, scopes: []string{}, legacy: true, user: true, authTime: s.now()}
		t := s.issueLocked(g, true, s.legacy)
		s.stats.PasswordGrants++
		return jsonReply(http.StatusOK, legacyResponseOf(t))
	case "refresh_token":
		if req.RefreshToken == "" {
			return errorReply(http.StatusBadRequest, "invalid_request", "The refresh_token field is required.")
		}
		if rep := s.authenticate(tokenRequest{clientID: req.ClientID, secret: req.ClientSecret}); rep != nil {
			return *rep
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		rec, ok := s.refresh[req.RefreshToken]
		now := s.now()
		if !ok || !rec.grant.legacy || rec.grant.clientID != req.ClientID || !s.liveLocked(rec, now) {
			return loginRequired()
		}
		if rec.retired.IsZero() {
			rec.retired = now
		}
		t := s.issueLocked(rec.grant, true, s.legacy)
		s.stats.LegacyRefreshes++
		return jsonReply(http.StatusOK, legacyResponseOf(t))
	case "":
		return errorReply(http.StatusBadRequest, "invalid_request", "The grant_type field is required.")
	default:
		return errorReply(http.StatusBadRequest, "unsupported_grant_type", "The grant_type is not supported; use password or refresh_token.")
	}
}

// serveLegacyRevoke is the owner-api /oauth/revoke: the access token in
// the JSON body ends together with its refresh token.
func (s *Server) serveLegacyRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeReply(w, methodNotAllowed(http.MethodPost))
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
	if rec, ok := s.access[req.Token]; ok {
		rec.grant.revoked = true
	} else if rec, ok := s.refresh[req.Token]; ok {
		rec.grant.revoked = true
	}
	s.stats.LegacyRevocations++
	s.mu.Unlock()
	writeReply(w, emptyReply())
}
