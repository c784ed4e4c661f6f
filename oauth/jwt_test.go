package oauth

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// makeJWT builds an unsigned-looking JWT with the given claims.
func makeJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + ".c2lnbmF0dXJl"
}

func TestInspectTeslaAccessToken(t *testing.T) {
	tok := makeJWT(t, map[string]any{
		"iss": "https://auth.tesla.com/oauth2/v3/nts", "azp": "my-app", "sub": "user-1",
		"aud": []string{"https://fleet-api.prd.na.vn.cloud.tesla.com", "https://auth.tesla.com/oauth2/v3/userinfo"},
		"scp": []string{"openid", "offline_access", "vehicle_device_data"},
		"exp": 1795000000, "iat": 1794971200, "auth_time": 1794971100.5,
		"ou_code": "EU", "locale": "en-US", "amr": []string{"pwd", "mfa"},
		"email": "driver@example.com",
	})
	c, ok := Inspect(tok)
	if !ok {
		t.Fatal("a JWT was not decoded")
	}
	if c.Issuer != "https://auth.tesla.com/oauth2/v3/nts" || c.ClientID != "my-app" || c.Subject != "user-1" ||
		c.OUCode != "EU" || c.Locale != "en-US" || c.Email != "driver@example.com" {
		t.Errorf("claims %+v", c)
	}
	if !slices.Equal(c.Scopes, []string{"openid", "offline_access", "vehicle_device_data"}) {
		t.Errorf("scopes %q", c.Scopes)
	}
	if len(c.Audience) != 2 || c.Audience[0] != "https://fleet-api.prd.na.vn.cloud.tesla.com" {
		t.Errorf("audience %q", c.Audience)
	}
	if !c.ExpiresAt.Equal(time.Unix(1795000000, 0)) || !c.IssuedAt.Equal(time.Unix(1794971200, 0)) ||
		!c.AuthTime.Equal(time.Unix(1794971100, 5e8)) {
		t.Errorf("times %v %v %v", c.ExpiresAt, c.IssuedAt, c.AuthTime)
	}
	if _, ok := c.Raw["amr"]; !ok {
		t.Error("Raw lacks a claim")
	}
}

func TestInspectClaimShapes(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		aud    []string
		scopes []string
	}{
		{"string aud, space-separated scp", map[string]any{"aud": "ownerapi", "scp": "openid email"},
			[]string{"ownerapi"}, []string{"openid", "email"}},
		{"scope fallback", map[string]any{"scope": "a b  c"}, nil, []string{"a", "b", "c"}},
		{"scope array fallback", map[string]any{"scope": []string{"x"}}, nil, []string{"x"}},
		{"wrong types", map[string]any{"aud": 3, "scp": map[string]any{"a": 1}, "exp": "soon", "sub": 7}, nil, nil},
		{"mixed array", map[string]any{"aud": []any{"a", 1, nil, ""}}, []string{"a"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := Inspect(makeJWT(t, tc.claims))
			if !ok {
				t.Fatal("not decoded")
			}
			if !slices.Equal(c.Audience, tc.aud) || !slices.Equal(c.Scopes, tc.scopes) {
				t.Errorf("aud %q scopes %q", c.Audience, c.Scopes)
			}
			if tc.name == "wrong types" && (!c.ExpiresAt.IsZero() || c.Subject != "") {
				t.Errorf("nonsense claims were used: %+v", c)
			}
		})
	}
}

func TestInspectRejectsOpaqueAndGarbage(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, tok := range []string{
		"", "NA_3f9c0d2e4b", "qts-deadbeef", "a.b", "a.b.c.d",
		"x." + enc([]byte("not json")) + ".y",
		"x." + enc([]byte(`["an","array"]`)) + ".y",
		"x." + enc([]byte(`null`)) + ".y",
		"x.!!!.y", "x..y",
		"e.y.j.w.e", // five parts: an encrypted JWT, whose payload cannot be read
		// Two dots around a readable payload do not make a JWT.
		"<script>.e30.sig", ".e30.sig", "eA.e30.si g",
	} {
		if c, ok := Inspect(tok); ok {
			t.Errorf("Inspect(%q) = %+v, true", tok, c)
		}
	}
	// Padding and the standard alphabet are tolerated.
	padded := "x." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"s?>"}`)) + ".y"
	if c, ok := Inspect(padded); !ok || c.Subject != "s?>" {
		t.Errorf("padded: %+v %v", c, ok)
	}
	std := "x." + base64.RawStdEncoding.EncodeToString([]byte(`{"sub":"s?>"}`)) + ".y"
	if c, ok := Inspect(std); !ok || c.Subject != "s?>" {
		t.Errorf("std alphabet: %+v %v", c, ok)
	}
}

func TestInspectExtremeTimes(t *testing.T) {
	for _, v := range []any{-1, 0, 1e300, 253402300800.0} {
		c, ok := Inspect(makeJWT(t, map[string]any{"exp": v}))
		if !ok || !c.ExpiresAt.IsZero() {
			t.Errorf("exp %v gave %v", v, c.ExpiresAt)
		}
	}
}

// FuzzInspect checks Inspect and Mask on any string. Properties: neither
// panics; Inspect says ok only for three dot-separated base64url parts (a
// non-empty header, padding and the standard alphabet tolerated) whose
// payload is a JSON object, always says ok for such a token in canonical
// form, returns zero Claims when not ok and claims that match the payload
// when ok; Mask shows at most 14 runes, 13 of them from the token: its
// first 10 and last 3, or only its last 2 when it is shorter than 20. The
// seed corpus is in testdata/fuzz/FuzzInspect.
func FuzzInspect(f *testing.F) {
	f.Add(makeJWT(f, map[string]any{"sub": "x", "scp": []string{"a"}, "exp": 1e9}))
	f.Fuzz(func(t *testing.T, tok string) {
		c, ok := Inspect(tok)
		raw, shaped := jwtShape(tok, false)
		switch {
		case !ok && !reflect.DeepEqual(c, Claims{}):
			t.Fatalf("Inspect(%q) is not ok but returned %+v", tok, c)
		case ok && !shaped:
			t.Fatalf("Inspect(%q) is ok for something that is not a JWT", tok)
		case !ok:
			if _, canonical := jwtShape(tok, true); canonical {
				t.Fatalf("Inspect(%q) is not ok for a well-formed JWT", tok)
			}
		default:
			sub, _ := raw["sub"].(string)
			if len(c.Raw) != len(raw) || c.Subject != sub {
				t.Fatalf("Inspect(%q) claims %+v do not match the payload %v", tok, c, raw)
			}
			for _, at := range []time.Time{c.ExpiresAt, c.IssuedAt, c.AuthTime} {
				if !at.IsZero() && (at.Year() < 1970 || at.Year() > 9999) {
					t.Fatalf("Inspect(%q) gave the time %v", tok, at)
				}
			}
		}
		checkMask(t, tok)
	})
}

// jwtShape reports whether tok, trimmed, is three dot-separated base64url
// parts with a non-empty header and a JSON object payload, and returns that
// payload. Unless canonical, padding and the standard alphabet are allowed.
func jwtShape(tok string, canonical bool) (map[string]any, bool) {
	tok = strings.TrimSpace(tok)
	parts := strings.Split(tok, ".")
	if len(tok) > maxTokenLen || len(parts) != 3 || parts[0] == "" {
		return nil, false
	}
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if !canonical {
		alphabet += "+/="
	}
	for _, p := range parts {
		if strings.Trim(p, alphabet) != "" {
			return nil, false
		}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil && !canonical {
		p := strings.TrimRight(parts[1], "=")
		if payload, err = base64.RawURLEncoding.DecodeString(p); err != nil {
			payload, err = base64.RawStdEncoding.DecodeString(p)
		}
	}
	if err != nil {
		return nil, false
	}
	var raw map[string]any
	if json.Unmarshal(payload, &raw) != nil || raw == nil {
		return nil, false
	}
	return raw, true
}

// checkMask checks Mask(tok) against its documented shape.
func checkMask(t *testing.T, tok string) {
	t.Helper()
	m := Mask(tok)
	if (m == "") != (tok == "") {
		t.Fatalf("Mask(%q) = %q", tok, m)
	}
	if !utf8.ValidString(m) || utf8.RuneCountInString(m) > 14 {
		t.Fatalf("Mask(%q) = %q: invalid or longer than 14 runes", tok, m)
	}
	r := []rune(strings.ToValidUTF8(tok, "?"))
	var want string
	switch n := len(r); {
	case n == 0:
	case n >= 20:
		want = string(r[:10]) + "…" + string(r[n-3:])
	case n > 4:
		want = "…" + string(r[n-2:])
	default:
		want = "…"
	}
	if m != want {
		t.Fatalf("Mask(%q) = %q, want %q", tok, m, want)
	}
}

func TestMask(t *testing.T) {
	cases := map[string]string{
		"": "",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.signature_x9Q": "eyJhbGciOi…x9Q",
		"NA_0123456789abcdef0123":                            "NA_0123456…123",
		"short-token":                                        "…en",
		"abc":                                                "…",
		"ééééééééééééééééééééé€": "éééééééééé…éé€",
	}
	for in, want := range cases {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("s", 100)
	if got := Mask(long); strings.Count(got, "s") != 13 {
		t.Errorf("Mask shows %q", got)
	}
}
