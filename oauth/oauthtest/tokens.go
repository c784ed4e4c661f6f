package oauthtest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
)

// grant is one login. Every token issued from it, through any number of
// refreshes, belongs to it, so revoking the grant ends them all.
type grant struct {
	clientID string
	scopes   []string // never nil, so the scp claim is a list
	audience string
	legacy   bool // opaque owner-api tokens, refreshed at /oauth/token
	user     bool // false for client credentials, which act for no user
	nonce    string
	authTime time.Time
	revoked  bool
}

// refreshRecord is a refresh token the server issued.
type refreshRecord struct {
	grant   *grant
	expiry  time.Time
	retired time.Time // when a refresh replaced it; zero while current
	killed  bool
}

// accessRecord is an access token the server issued.
type accessRecord struct {
	grant    *grant
	issuedAt time.Time
	expiry   time.Time
	revoked  bool
}

// authCode is an authorization code waiting for its exchange.
type authCode struct {
	clientID, redirectURI, challenge, nonce string
	scopes                                  []string
	expiry                                  time.Time
}

// issued is a token set just created.
type issued struct {
	access, refresh, id string
	tokenType           string
	issuedAt, expiry    time.Time
	ttl                 time.Duration
}

// liveLocked reports whether a refresh would accept rec at now.
func (s *Server) liveLocked(rec *refreshRecord, now time.Time) bool {
	if rec.killed || rec.grant.revoked || !now.Before(rec.expiry) {
		return false
	}
	return rec.retired.IsZero() || now.Before(rec.retired.Add(s.grace))
}

// validLocked reports whether rec is usable as a bearer token at now.
func validLocked(rec *accessRecord, now time.Time) bool {
	return !rec.revoked && !rec.grant.revoked && now.Before(rec.expiry)
}

// issueLocked creates an access token (and a refresh token when
// withRefresh, an id token when the grant has openid) for g, living ttl;
// 0 is the server's lifetime for g's kind of token (AccessTTL or LegacyTTL).
func (s *Server) issueLocked(g *grant, withRefresh bool, ttl time.Duration) issued {
	if ttl == 0 {
		ttl = s.accessTTL
		if g.legacy {
			ttl = s.legacyTTL
		}
	}
	now := s.now()
	out := issued{tokenType: "Bearer", issuedAt: now, ttl: ttl}
	out.expiry = time.Unix(now.Add(ttl).Unix(), 0)
	if g.legacy {
		out.tokenType = "bearer"
		out.access = "qts-" + randomHex(32)
		if withRefresh {
			out.refresh = "qts-" + randomHex(32)
		}
	} else {
		out.access = s.accessJWT(g, now, out.expiry)
		if withRefresh {
			if g.clientID == ownerClientID {
				out.refresh = s.ownerRefreshJWT(g, now)
			} else {
				out.refresh = s.user.Region + "_" + randomHex(32)
			}
		}
		if g.user && slices.Contains(g.scopes, "openid") {
			out.id = s.idJWT(g, now, out.expiry)
		}
	}
	s.access[out.access] = &accessRecord{grant: g, issuedAt: now, expiry: out.expiry}
	if out.refresh != "" {
		s.refresh[out.refresh] = &refreshRecord{grant: g, expiry: now.Add(refreshTTL)}
	}
	return out
}

// rotateLocked retires the refresh token rt, which then dies now or after
// RefreshGrace, and issues a new token set for its grant. It reports false
// and issues nothing when rt is unknown, dead, not clientID's, or not of
// the kind asked for (legacy owner-api or not).
func (s *Server) rotateLocked(rt, clientID string, legacy bool) (issued, bool) {
	rec, ok := s.refresh[rt]
	now := s.now()
	if !ok || rec.grant.legacy != legacy || rec.grant.clientID != clientID || !s.liveLocked(rec, now) {
		return issued{}, false
	}
	if rec.retired.IsZero() {
		rec.retired = now
	}
	return s.issueLocked(rec.grant, true, 0), true
}

func (s *Server) accessJWT(g *grant, now, expiry time.Time) string {
	aud := []string{s.Issuer() + "/userinfo"}
	if g.audience != "" {
		aud = []string{g.audience, aud[0]}
	}
	sub := s.user.Subject
	if !g.user {
		sub = g.clientID
	}
	claims := map[string]any{
		"iss":     s.Issuer(),
		"azp":     g.clientID,
		"sub":     sub,
		"aud":     aud,
		"scp":     g.scopes,
		"exp":     expiry.Unix(),
		"iat":     now.Unix(),
		"ou_code": s.user.Region,
		"locale":  "en-US",
		"jti":     randomHex(16),
	}
	if g.user {
		claims["auth_time"] = g.authTime.Unix()
		claims["amr"] = []string{"pwd", "mfa"}
	}
	return s.signJWT(claims)
}

func (s *Server) idJWT(g *grant, now, expiry time.Time) string {
	claims := map[string]any{
		"iss":            s.Issuer(),
		"aud":            g.clientID,
		"sub":            s.user.Subject,
		"email":          s.user.Email,
		"email_verified": true,
		"exp":            expiry.Unix(),
		"iat":            now.Unix(),
		"auth_time":      g.authTime.Unix(),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	return s.signJWT(claims)
}

// ownerRefreshJWT is a refresh token of the Owner API client, which Tesla
// issues as a JWT.
func (s *Server) ownerRefreshJWT(g *grant, now time.Time) string {
	return s.signJWT(map[string]any{
		"iss":     s.Issuer(),
		"aud":     s.Issuer() + "/token",
		"azp":     g.clientID,
		"sub":     s.user.Subject,
		"scp":     g.scopes,
		"iat":     now.Unix(),
		"exp":     now.Add(refreshTTL).Unix(),
		"ou_code": s.user.Region,
		"jti":     randomHex(16),
	})
}

// jwtHeader is the encoded {"alg":"HS256","typ":"JWT"}.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// signJWT encodes claims as an HS256 JWT with the server's key.
func (s *Server) signJWT(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("oauthtest: cannot encode JWT claims: " + err.Error())
	}
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// grantable returns the requested scopes the server grants: all but
// DropScopes, in order, without repeats; never nil.
func (s *Server) grantable(requested []string) []string {
	out := []string{}
	for _, sc := range requested {
		if sc != "" && !s.drop[sc] && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// TokenSet is what Mint returns.
type TokenSet struct {
	AccessToken, RefreshToken, IDToken, TokenType string
	Expiry                                        time.Time
	Scopes                                        []string
}

// MintRequest describes tokens to issue without a login (to seed demos and
// tests).
type MintRequest struct {
	ClientID  string        // "" = FleetClientID (LegacyClientID when Legacy)
	Scopes    []string      // requested; DropScopes still applies
	Audience  string        // first entry of the access token's aud
	Legacy    bool          // issue legacy owner-api style opaque tokens instead of JWTs
	AccessTTL time.Duration // 0 = server default; negative = already expired
	NoRefresh bool          // no refresh token (partner-like)
}

// Mint issues tokens for the sandbox's user as if they had logged in, and
// records them like any other: they refresh, revoke and expire normally.
// Stats do not count it.
func (s *Server) Mint(r MintRequest) TokenSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ClientID == "" {
		r.ClientID = FleetClientID
		if r.Legacy {
			r.ClientID = LegacyClientID
		}
	}
	g := &grant{clientID: r.ClientID, scopes: s.grantable(r.Scopes), audience: r.Audience,
		legacy: r.Legacy, user: true, authTime: s.now()}
	t := s.issueLocked(g, !r.NoRefresh, r.AccessTTL)
	return TokenSet{AccessToken: t.access, RefreshToken: t.refresh, IDToken: t.id, TokenType: t.tokenType,
		Expiry: t.expiry, Scopes: slices.Clone(g.scopes)}
}

// RefreshTokenLive reports whether rt would be accepted by a refresh right
// now.
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
	}, true
}
