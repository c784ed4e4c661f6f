package oauth

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Claims are the decoded claims of a JWT. They are NOT verified: keyfob
// shows them and reads hints from them (scopes, expiry, email), it never
// trusts them for a security decision.
type Claims struct {
	Issuer   string
	Subject  string
	Email    string
	ClientID string // azp (or client_id)
	OUCode   string // Tesla's region claim, e.g. "NA"
	Locale   string
	// Audience holds "aud", which may be a string or an array.
	Audience []string
	// Scopes holds "scp" (an array or a space-separated string), else
	// "scope".
	Scopes    []string
	ExpiresAt time.Time
	IssuedAt  time.Time
	AuthTime  time.Time
	// Raw holds every claim, for the detail view.
	Raw map[string]any
}

// maxTokenLen bounds what Inspect decodes; real tokens are a few KB.
const maxTokenLen = 64 << 10

// Inspect decodes a JWT's payload without verifying its signature. ok is
// false for opaque tokens (such as Fleet refresh tokens), encrypted tokens
// and garbage. It never panics.
func Inspect(token string) (c Claims, ok bool) {
	token = strings.TrimSpace(token)
	if len(token) > maxTokenLen {
		return Claims{}, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || !isSegment(parts[0]) || !isSegment(parts[1]) || !isSegment(parts[2]) {
		return Claims{}, false
	}
	payload, err := decodeSegment(parts[1])
	if err != nil {
		return Claims{}, false
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return Claims{}, false
	}
	c.Raw = raw
	c.Issuer = str(raw["iss"])
	c.Subject = str(raw["sub"])
	c.Email = str(raw["email"])
	c.ClientID = str(raw["azp"])
	if c.ClientID == "" {
		c.ClientID = str(raw["client_id"])
	}
	c.OUCode = str(raw["ou_code"])
	c.Locale = str(raw["locale"])
	c.Audience = strs(raw["aud"])
	c.Scopes = strs(raw["scp"])
	if len(c.Scopes) == 0 {
		c.Scopes = strs(raw["scope"])
	}
	c.ExpiresAt = unixTime(raw["exp"])
	c.IssuedAt = unixTime(raw["iat"])
	c.AuthTime = unixTime(raw["auth_time"])
	return c, true
}

// isSegment reports whether s could be a base64url JWT segment, in the
// tolerant sense of decodeSegment: an opaque token that merely has two dots
// (or a header that is not base64 at all) is not a JWT.
func isSegment(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// decodeSegment decodes base64url, tolerating padding and the standard
// alphabet that some servers wrongly use.
func decodeSegment(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// strs reads a claim that may be a string (space separated) or an array
// of strings.
func strs(v any) []string {
	switch t := v.(type) {
	case string:
		return strings.Fields(t)
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil
}

// unixTime reads a NumericDate; nonsense (not a number, negative, past the
// year 9999) gives the zero time.
func unixTime(v any) time.Time {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || f <= 0 || f > 253402300799 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// Mask shows a token as its first 10 and last 3 characters joined by "…",
// enough to tell tokens apart and useless to an onlooker. Tokens shorter
// than 20 characters show only "…" and their last 2; an empty token shows
// nothing.
func Mask(token string) string {
	if token == "" {
		return ""
	}
	if !utf8.ValidString(token) {
		token = strings.ToValidUTF8(token, "?")
	}
	r := []rune(token)
	switch {
	case len(r) >= 20:
		return string(r[:10]) + "…" + string(r[len(r)-3:])
	case len(r) > 4:
		return "…" + string(r[len(r)-2:])
	}
	return "…"
}
