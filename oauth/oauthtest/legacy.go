package oauthtest

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
	s.tokenEndpoint(w, r, func(wrongType bool) reply {
		var req legacyRequest
		if bad := decodeJSON(w, r, &req); bad != nil {
			return *bad
		}
		return s.legacyGrant(req, wrongType)
	})
}

// legacyGrant runs the grant of a decoded /oauth/token request, or with
// wrongType issues the token set of FaultWrongTokenType instead.
func (s *Server) legacyGrant(req legacyRequest, wrongType bool) reply {
	client := tokenRequest{clientID: req.ClientID, secret: req.ClientSecret}
	switch {
	case wrongType:
		s.mu.Lock()
		defer s.mu.Unlock()
		resp := legacyResponseOf(s.issueLocked(s.legacyLoginLocked(req.ClientID), true, 0))
		resp.TokenType = "mac"
		return jsonReply(http.StatusOK, resp)
	case req.GrantType == "password":
		okClient := req.ClientID == LegacyClientID && s.authenticate(client) == nil
		if !okClient || !s.checkUser(req.Email, req.Password) {
			return errorReply(http.StatusUnauthorized, "invalid_grant", "The email, password or client credentials are wrong.")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.issueLocked(s.legacyLoginLocked(req.ClientID), true, 0)
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
		t, ok := s.rotateLocked(req.RefreshToken, req.ClientID, true)
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

// legacyLoginLocked is a new owner-api grant for clientID's user.
func (s *Server) legacyLoginLocked(clientID string) *grant {
	return &grant{clientID: clientID, scopes: []string{}, legacy: true, user: true, authTime: s.now()}
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
