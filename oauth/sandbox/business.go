package sandbox

import (
	"net/http"
	"strings"
)

// BusinessAuthCode is the auth code of the sandbox's standing business
// consent to PartnerClientID: what a developer copies from Tesla for
// Business's consent management page once a business approved the app.
// GrantBusinessConsent makes more.
const BusinessAuthCode = "sandbox-business-consent"

// consent is a business's approval of an app, known by its auth code.
type consent struct {
	clientID  string
	withdrawn bool
	grants    []*grant // the tokens issued under it, revoked with it
}

// consentsLocked is the table of consents, with the standing one.
func (s *Server) consentsLocked() map[string]*consent {
	if s.consents == nil {
		s.consents = map[string]*consent{BusinessAuthCode: {clientID: PartnerClientID}}
	}
	return s.consents
}

// GrantBusinessConsent records a business's approval of clientID (a
// confidential client) and returns its auth code.
func (s *Server) GrantBusinessConsent(clientID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := "biz_" + randomHex(16)
	s.consentsLocked()[code] = &consent{clientID: clientID}
	return code
}

// WithdrawBusinessConsent ends the consent of code, as a business admin
// would in Tesla for Business: the code stops working, and so do the
// refresh tokens issued under it.
func (s *Server) WithdrawBusinessConsent(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.consentsLocked()[code]; ok {
		c.withdrawn = true
		for _, g := range c.grants {
			g.revoked = true
		}
	}
}

// SetBusinessRefreshTokens makes business tokens come with a refresh
// token (rotating like any other) from now on. Tesla's documentation
// shows none, so the default is without.
func (s *Server) SetBusinessRefreshTokens(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.businessRefresh = on
}

// businessGrant is the client_credentials grant with an auth_code: a
// third-party business token, acting for the business that approved the
// app (no user context), with the scopes asked for.
func (s *Server) businessGrant(req tokenRequest, code string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.consentsLocked()[strings.TrimSpace(code)]
	switch {
	case !ok || c.withdrawn:
		return errorReply(http.StatusBadRequest, "invalid_grant", "The auth_code is not valid: the business has not approved this application, or withdrew its consent.")
	case c.clientID != req.clientID:
		return errorReply(http.StatusBadRequest, "invalid_grant", "The auth_code was issued to another application.")
	}
	g := s.formGrantLocked(req, s.users[0], false)
	c.grants = append(c.grants, g)
	t := s.issueLocked(g, issueOptions{refresh: s.businessRefresh, hostile: req.hostile})
	s.stats.ClientCredentials++
	return jsonReply(http.StatusOK, responseOf(t))
}
