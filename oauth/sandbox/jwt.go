package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// accessJWT is the access token of g. A user's token is shaped like
// Tesla's: ou_code names the user's region, and aud lists Tesla's Fleet
// API bases (userAudience) then the issuer's userinfo, so that a client
// such as vehicle-command derives the region's host from it. A
// client-credentials token has the requested audience first instead.
// hostile spoils the claims a terminal would show (FaultHostileClaims).
func (s *Server) accessJWT(g *grant, now, expiry time.Time, hostile bool) string {
	iss := s.issuerOf(g.china)
	aud := []string{iss + "/userinfo"}
	sub := g.who.Subject
	switch {
	case g.user:
		aud = append(userAudience(g.who.Region), aud[0])
	case g.audience != "":
		aud = []string{g.audience, aud[0]}
	}
	if !g.user {
		sub = g.clientID
	}
	claims := map[string]any{
		"iss":     iss,
		"azp":     g.clientID,
		"sub":     sub,
		"aud":     aud,
		"scp":     g.scopes,
		"exp":     expiry.Unix(),
		"iat":     now.Unix(),
		"ou_code": g.who.Region,
		"locale":  "en-US",
		"jti":     randomHex(16),
	}
	if g.user {
		claims["auth_time"] = g.authTime.Unix()
		claims["amr"] = []string{"pwd", "mfa"}
	}
	if hostile {
		claims["scp"] = withHostileScopes(g.scopes)
		claims["ou_code"] = HostileOUCode
		claims["email"] = HostileEmail
		claims["name"] = HostileName
		claims["full_name"] = HostileName
	}
	return s.signJWT(claims)
}

// idJWT is the OIDC id token of g.
func (s *Server) idJWT(g *grant, now, expiry time.Time, hostile bool) string {
	claims := map[string]any{
		"iss":            s.issuerOf(g.china),
		"aud":            g.clientID,
		"sub":            g.who.Subject,
		"email":          g.who.Email,
		"email_verified": true,
		"exp":            expiry.Unix(),
		"iat":            now.Unix(),
		"auth_time":      g.authTime.Unix(),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if hostile {
		claims["email"] = HostileEmail
		claims["name"] = HostileName
	}
	return s.signJWT(claims)
}

// ownerRefreshJWT is a refresh token of the Owner API client, which Tesla
// issues as a JWT.
func (s *Server) ownerRefreshJWT(g *grant, now time.Time) string {
	iss := s.issuerOf(g.china)
	return s.signJWT(map[string]any{
		"iss":     iss,
		"aud":     iss + "/token",
		"azp":     g.clientID,
		"sub":     g.who.Subject,
		"scp":     g.scopes,
		"iat":     now.Unix(),
		"exp":     now.Add(s.refreshTTL).Unix(),
		"ou_code": g.who.Region,
		"jti":     randomHex(16),
	})
}

// jwtHeader is the encoded {"alg":"HS256","typ":"JWT"}.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// signJWT encodes claims as an HS256 JWT with the server's key.
func (s *Server) signJWT(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("sandbox: cannot encode JWT claims: " + err.Error())
	}
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// joinScopes is the space-separated form of scopes (RFC 6749 §3.3).
func joinScopes(scopes []string) string { return strings.Join(scopes, " ") }
