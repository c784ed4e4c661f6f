package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// tokenResponse is the JSON of a successful /oauth2/v3/token answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
}

func responseOf(t issued) tokenResponse {
	return tokenResponse{AccessToken: t.access, RefreshToken: t.refresh, IDToken: t.id,
		TokenType: t.tokenType, ExpiresIn: int64(t.ttl.Seconds()), Scope: t.scope}
}

// tokenRequest is a parsed form POST to /oauth2/v3/token.
type tokenRequest struct {
	form     url.Values
	clientID string
	secret   string
	basic    bool // credentials came in an Authorization: Basic header
	china    bool // sent to the China host
	hostile  bool // FaultHostileClaims: mint claims hostile to terminals
}

// serveToken is /oauth2/v3/token, on both hosts.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.tokenEndpoint(w, r, func(m grantMode) reply {
		req, bad := parseTokenRequest(w, r)
		switch {
		case bad != nil:
			return *bad
		case m == grantWrongType:
			return s.mintWrongType(req)
		}
		req.hostile = m == grantHostile
		return s.grant(req)
	})
}

// parseTokenRequest reads the form body and the client's credentials, from
// the body (client_secret_post) or an HTTP Basic header.
func parseTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, *reply) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		rep := errorReply(http.StatusBadRequest, "invalid_request", "Send the token request as application/x-www-form-urlencoded.")
		return tokenRequest{}, &rep
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		rep := errorReply(http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
		return tokenRequest{}, &rep
	}
	req := tokenRequest{form: r.PostForm, clientID: r.PostForm.Get("client_id"), secret: r.PostForm.Get("client_secret"),
		china: isChina(r)}
	if user, pass, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: both parts are form-encoded inside the header.
		if u, err := url.QueryUnescape(user); err == nil {
			user = u
		}
		if p, err := url.QueryUnescape(pass); err == nil {
			pass = p
		}
		if req.clientID != "" && req.clientID != user {
			rep := errorReply(http.StatusBadRequest, "invalid_request", "The client_id in the body and in the Authorization header differ.")
			return tokenRequest{}, &rep
		}
		req.clientID, req.secret, req.basic = user, pass, true
	}
	if req.clientID == "" {
		rep := errorReply(http.StatusBadRequest, "invalid_request", "The client_id parameter is required.")
		return tokenRequest{}, &rep
	}
	return req, nil
}

// authenticate checks a confidential client's secret; a public client
// needs none, and one it sends anyway is ignored.
func (s *Server) authenticate(req tokenRequest) *reply {
	want, confidential := s.secrets[req.clientID]
	if !confidential {
		return nil
	}
	if req.secret == "" || subtle.ConstantTimeCompare([]byte(req.secret), []byte(want)) != 1 {
		rep := errorReply(http.StatusUnauthorized, "invalid_client", "The client authentication failed: check the client id and secret.")
		if req.basic {
			rep.header = http.Header{"WWW-Authenticate": {`Basic realm="sandbox"`}}
		}
		return &rep
	}
	return nil
}

// grant runs the grant named by grant_type.
func (s *Server) grant(req tokenRequest) reply {
	switch gt := req.form.Get("grant_type"); gt {
	case "authorization_code":
		return s.exchangeCode(req)
	case "refresh_token":
		return s.refreshGrant(req)
	case "client_credentials":
		return s.clientCredentials(req)
	case "password":
		return s.passwordGrant(req)
	case "":
		return errorReply(http.StatusBadRequest, "invalid_request", "The grant_type parameter is required.")
	default:
		return errorReply(http.StatusBadRequest, "unsupported_grant_type", "The grant_type is not supported.")
	}
}

// exchangeCode is the authorization_code grant with PKCE S256. A code
// works only at the host that issued it: the other one does not know it.
func (s *Server) exchangeCode(req tokenRequest) reply {
	if rep := s.authenticate(req); rep != nil {
		return *rep
	}
	code := req.form.Get("code")
	if code == "" {
		return errorReply(http.StatusBadRequest, "invalid_request", "The code parameter is required.")
	}
	unknown := errorReply(http.StatusBadRequest, "invalid_grant", "The authorization code is invalid, expired or already used.")
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, ok := s.codes[code]
	now := s.now()
	switch {
	case ok && ac.china != req.china:
		// Left for the host that issued it.
		return unknown
	case !ok || !now.Before(ac.expiry):
		delete(s.codes, code)
		return unknown
	case ac.clientID != req.clientID:
		// A code presented by another client is kept for its owner.
		return errorReply(http.StatusBadRequest, "invalid_grant", "The authorization code was issued to another client.")
	}
	// Single use: any attempt by its client consumes it, so a guessed
	// verifier gets one try.
	delete(s.codes, code)
	if rep := s.checkExchangeLocked(ac, req); rep != nil {
		return *rep
	}
	g := &grant{clientID: ac.clientID, scopes: ac.scopes, audience: req.form.Get("audience"),
		user: true, who: ac.who, china: ac.china, nonce: ac.nonce, authTime: now}
	t := s.issueLocked(g, issueOptions{refresh: slices.Contains(g.scopes, "offline_access"), hostile: req.hostile})
	s.stats.CodeExchanges++
	resp := responseOf(t)
	if resp.Scope == "" {
		resp.Scope = joinScopes(g.scopes)
	}
	return jsonReply(http.StatusOK, resp)
}

// checkExchangeLocked checks what a code exchange presents besides the
// code: the redirect_uri of the authorization, still registered, and the
// PKCE verifier.
func (s *Server) checkExchangeLocked(ac *authCode, req tokenRequest) *reply {
	redirect := req.form.Get("redirect_uri")
	if redirect != ac.redirectURI {
		rep := errorReply(http.StatusBadRequest, "invalid_grant", "The redirect_uri differs from the one of the authorization request.")
		return &rep
	}
	if s.redirectProblemLocked(req.clientID, redirect) != "" {
		rep := errorReply(http.StatusBadRequest, "invalid_grant", "The redirect_uri is not registered for this client.")
		return &rep
	}
	verifier := req.form.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	if !validPKCE(verifier) || base64.RawURLEncoding.EncodeToString(sum[:]) != ac.challenge {
		rep := errorReply(http.StatusBadRequest, "invalid_grant", "The code_verifier does not match the code_challenge.")
		return &rep
	}
	return nil
}

// refreshGrant is the refresh_token grant, rotating the token presented.
func (s *Server) refreshGrant(req tokenRequest) reply {
	if rep := s.authenticate(req); rep != nil {
		return *rep
	}
	rt := req.form.Get("refresh_token")
	if rt == "" {
		return errorReply(http.StatusBadRequest, "invalid_request", "The refresh_token parameter is required.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.rotateLocked(rt, rotation{clientID: req.clientID, china: req.china, hostile: req.hostile})
	if !ok {
		return loginRequired()
	}
	s.stats.Refreshes++
	return jsonReply(http.StatusOK, responseOf(t))
}

// clientCredentials is the partner-token grant: a confidential client's
// own token, with no refresh token.
func (s *Server) clientCredentials(req tokenRequest) reply {
	if _, confidential := s.secrets[req.clientID]; !confidential {
		return errorReply(http.StatusUnauthorized, "invalid_client", "The client_credentials grant needs a confidential client with a secret.")
	}
	if rep := s.authenticate(req); rep != nil {
		return *rep
	}
	if code := req.form.Get("auth_code"); code != "" {
		return s.businessGrant(req, code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.issueLocked(s.formGrantLocked(req, s.users[0], false), issueOptions{hostile: req.hostile})
	s.stats.ClientCredentials++
	return jsonReply(http.StatusOK, responseOf(t))
}

// passwordGrant is RFC 6749's resource-owner password grant. Tesla's v3
// endpoint has none, but a custom account's password login needs a server
// to talk to.
func (s *Server) passwordGrant(req tokenRequest) reply {
	if rep := s.authenticate(req); rep != nil {
		return *rep
	}
	who, ok := s.checkUser(req.form.Get("username"), req.form.Get("password"))
	if !ok {
		return errorReply(http.StatusBadRequest, "invalid_grant", "The username or password is wrong.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.formGrantLocked(req, who, true)
	t := s.issueLocked(g, issueOptions{refresh: slices.Contains(g.scopes, "offline_access"), hostile: req.hostile})
	s.stats.PasswordGrants++
	return jsonReply(http.StatusOK, responseOf(t))
}

// formGrantLocked is a new grant of who for req's client, at req's host,
// with the scope and audience its form asks for; user is false for a
// grant that acts for no user (client credentials).
func (s *Server) formGrantLocked(req tokenRequest, who User, user bool) *grant {
	return &grant{clientID: req.clientID, scopes: s.grantable(strings.Fields(req.form.Get("scope"))),
		audience: req.form.Get("audience"), user: user, who: who, china: req.china, authTime: s.now()}
}

// mintWrongType answers FaultWrongTokenType: a new, valid token set for the
// requesting client whose token_type is "mac". The credentials presented
// are left untouched.
func (s *Server) mintWrongType(req tokenRequest) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.formGrantLocked(req, s.users[0], true)
	if rec, ok := s.refresh[req.form.Get("refresh_token")]; ok {
		g.scopes, g.audience, g.who = rec.grant.scopes, rec.grant.audience, rec.grant.who
	}
	resp := responseOf(s.issueLocked(g, issueOptions{refresh: true}))
	resp.TokenType = "mac"
	return jsonReply(http.StatusOK, resp)
}
