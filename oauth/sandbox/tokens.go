package sandbox

import (
	"crypto/rand"
	"encoding/hex"
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
	who      User // the user signed in; the default user for client credentials
	china    bool // issued by the China host: refreshes and revokes only there
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
	hostile  bool // minted by FaultHostileClaims: users/me answers hostile text too
}

// authCode is an authorization code waiting for its exchange.
type authCode struct {
	clientID, redirectURI, challenge, nonce string
	scopes                                  []string
	expiry                                  time.Time
	who                                     User
	china                                   bool // issued by the China host, exchanged only there
}

// issued is a token set just created.
type issued struct {
	access, refresh, id string
	tokenType           string
	scope               string // the answer's scope field when it must be sent whatever the grant
	issuedAt, expiry    time.Time
	ttl                 time.Duration
}

// issueOptions say how issueLocked mints a token set.
type issueOptions struct {
	refresh bool          // with a refresh token
	ttl     time.Duration // 0 = AccessTTL or LegacyTTL, by the grant's kind
	hostile bool          // FaultHostileClaims: claims hostile to terminals
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
// o.refresh, an id token when the grant has openid) for g.
func (s *Server) issueLocked(g *grant, o issueOptions) issued {
	ttl := o.ttl
	if ttl == 0 {
		ttl = s.accessTTL
		if g.legacy {
			ttl = s.legacyTTL
		}
	}
	now := s.now()
	out := issued{tokenType: "Bearer", issuedAt: now, ttl: ttl}
	out.expiry = time.Unix(now.Add(ttl).Unix(), 0)
	hostile := o.hostile && !g.legacy // legacy tokens are opaque: no claims to spoil
	switch {
	case g.legacy:
		out.tokenType = "bearer"
		out.access = "qts-" + randomHex(32)
		if o.refresh {
			out.refresh = "qts-" + randomHex(32)
		}
	default:
		out.access = s.accessJWT(g, now, out.expiry, hostile)
		if o.refresh && g.clientID == ownerClientID {
			out.refresh = s.ownerRefreshJWT(g, now)
		} else if o.refresh {
			out.refresh = g.who.Region + "_" + randomHex(32)
		}
		if g.user && slices.Contains(g.scopes, "openid") {
			out.id = s.idJWT(g, now, out.expiry, hostile)
		}
	}
	if hostile {
		out.scope = joinScopes(withHostileScopes(g.scopes))
	}
	s.access[out.access] = &accessRecord{grant: g, issuedAt: now, expiry: out.expiry, hostile: hostile}
	if out.refresh != "" {
		s.refresh[out.refresh] = &refreshRecord{grant: g, expiry: now.Add(s.refreshTTL)}
	}
	return out
}

// rotation is what a refresh presents besides its refresh token.
type rotation struct {
	clientID string
	legacy   bool // at /oauth/token
	china    bool // at the China host
	hostile  bool // FaultHostileClaims
}

// rotateLocked retires the refresh token rt, which then dies now or after
// RefreshGrace, and issues a new token set for its grant. It reports false
// and issues nothing when rt is unknown, dead, not the client's, not of
// the kind asked for (legacy owner-api or not), or issued by the other
// host.
func (s *Server) rotateLocked(rt string, by rotation) (issued, bool) {
	rec, ok := s.refresh[rt]
	now := s.now()
	if !ok || rec.grant.legacy != by.legacy || rec.grant.clientID != by.clientID || rec.grant.china != by.china ||
		!s.liveLocked(rec, now) {
		return issued{}, false
	}
	if rec.retired.IsZero() {
		rec.retired = now
	}
	return s.issueLocked(rec.grant, issueOptions{refresh: true, hostile: by.hostile}), true
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
