package sandbox

import (
	"slices"
	"time"
)

// TokenSet is what Mint returns.
type TokenSet struct {
	AccessToken, RefreshToken, IDToken, TokenType string
	Expiry                                        time.Time
	Scopes                                        []string
}

// MintRequest describes tokens to issue without a login (to seed demos and
// tests).
type MintRequest struct {
	ClientID string   // "" = FleetClientID (LegacyClientID when Legacy)
	Scopes   []string // requested; DropScopes still applies
	// Audience is recorded with the grant. The access token's aud names
	// the user's region instead, FleetAPIBase first, as Tesla's do.
	Audience  string
	Legacy    bool          // issue legacy owner-api style opaque tokens instead of JWTs
	AccessTTL time.Duration // 0 = server default; negative = already expired
	NoRefresh bool          // no refresh token (partner-like)
	// ClientCredentials issues what the client-credentials grant does (a
	// partner token): acting for no user, with no refresh token; its aud
	// names the Audience asked.
	ClientCredentials bool
	// Email picks the user the tokens are for; "" = the default user. A
	// user of region "CN" gets tokens of the China host, which refresh only
	// there. An email no user has panics.
	Email string
}

// Mint issues tokens for a sandbox user as if they had logged in, and
// records them like any other: they refresh, revoke and expire normally.
// Stats do not count it.
func (s *Server) Mint(r MintRequest) TokenSet {
	who := s.users[0]
	if r.Email != "" {
		u, ok := s.userByEmail(r.Email)
		if !ok {
			panic("sandbox: Mint for " + r.Email + ", who is not a sandbox user; add them to Options.Users")
		}
		who = u
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ClientID == "" {
		r.ClientID = FleetClientID
		if r.Legacy {
			r.ClientID = LegacyClientID
		}
	}
	g := &grant{clientID: r.ClientID, scopes: s.grantable(r.Scopes), audience: r.Audience,
		legacy: r.Legacy, user: !r.ClientCredentials, who: who, china: who.Region == "CN", authTime: s.now()}
	t := s.issueLocked(g, issueOptions{refresh: !r.NoRefresh && !r.ClientCredentials, ttl: r.AccessTTL})
	return TokenSet{AccessToken: t.access, RefreshToken: t.refresh, IDToken: t.id, TokenType: t.tokenType,
		Expiry: t.expiry, Scopes: slices.Clone(g.scopes)}
}

// RefreshTokenLive reports whether rt would be accepted by a refresh right
// now (at the host that issued it).
func (s *Server) RefreshTokenLive(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.refresh[rt]
	return ok && s.liveLocked(rec, s.now())
}

// LiveRefreshTokens counts refresh tokens that would be accepted now,
// rotated-out ones still within RefreshGrace included.
func (s *Server) LiveRefreshTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for _, rec := range s.refresh {
		if s.liveLocked(rec, now) {
			n++
		}
	}
	return n
}

// KillRefreshToken makes rt dead (a reuse or password reset), so
// refreshing it gives login_required. Access tokens already issued stay
// valid, as Tesla's JWTs do.
func (s *Server) KillRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.refresh[rt]; ok {
		rec.killed = true
	}
}

// AccessTokenInfo reports what the server knows of an access token it
// issued.
type AccessTokenInfo struct {
	IssuedAt, Expiry time.Time
	Revoked          bool // revoked alone or with its whole grant
	ClientID         string
	Scopes           []string
	Email            string // the user's; for client credentials the default user's
	China            bool   // issued by the China host
	Audience         string // the audience the grant asked for ("" when none)
}

// AccessToken reports what the server knows of tok, and false when it did
// not issue it.
func (s *Server) AccessToken(tok string) (AccessTokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.access[tok]
	if !ok {
		return AccessTokenInfo{}, false
	}
	return AccessTokenInfo{
		IssuedAt: rec.issuedAt,
		Expiry:   rec.expiry,
		Revoked:  rec.revoked || rec.grant.revoked,
		ClientID: rec.grant.clientID,
		Scopes:   slices.Clone(rec.grant.scopes),
		Email:    rec.grant.who.Email,
		China:    rec.grant.china,
		Audience: rec.grant.audience,
	}, true
}
