package sandbox

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// wantHostile fails unless the access token at carries FaultHostileClaims'
// claims after the granted scopes.
func wantHostile(t *testing.T, at string, granted ...string) {
	t.Helper()
	c := claims(t, at)
	if c["email"] != HostileEmail || c["name"] != HostileName || c["full_name"] != HostileName || c["ou_code"] != HostileOUCode {
		t.Errorf("claims %q", c)
	}
	if got := strs(c["scp"]); !slices.Equal(got, append(granted, HostileScopeNewline, HostileScopeClear)) {
		t.Errorf("scp %q", got)
	}
}

func TestFaultHostileClaimsOnCodeExchange(t *testing.T) {
	s := NewTest(t, Options{})
	s.FailNext(FaultHostileClaims, 1)
	r := login(t, s, FleetClientID, "openid offline_access user_data", nil)
	at := r.str(t, "access_token")
	wantHostile(t, at, "openid", "offline_access", "user_data")
	if want := "openid offline_access user_data " + HostileScopeNewline + " " + HostileScopeClear; r.str(t, "scope") != want {
		t.Errorf("scope %q", r.str(t, "scope"))
	}
	if id := claims(t, r.str(t, "id_token")); id["email"] != HostileEmail || id["name"] != HostileName {
		t.Errorf("id claims %q", id)
	}
	// Endpoints answering with the user show what the token claims.
	me := get(t, s.FleetAPIBase("na")+"/api/1/users/me", "Authorization", "Bearer "+at)
	if resp, _ := me.json(t)["response"].(map[string]any); me.status != 200 || resp["email"] != HostileEmail || resp["full_name"] != HostileName {
		t.Errorf("users/me %d %q", me.status, me.body)
	}
	if info := get(t, s.Issuer()+"/userinfo", "Authorization", "Bearer "+at); info.str(t, "email") != HostileEmail {
		t.Errorf("userinfo %q", info.body)
	}
	// The grant was real, and the fault is spent.
	if st := s.Stats(); st.CodeExchanges != 1 || st.Failures != 1 {
		t.Errorf("stats %+v", st)
	}
	next := refresh(t, s, FleetClientID, r.str(t, "refresh_token"))
	if c := claims(t, next.str(t, "access_token")); c["ou_code"] != "NA" || c["email"] != nil || len(strs(c["scp"])) != 3 {
		t.Errorf("the next token is still hostile: %q", c)
	}
}

func TestFaultHostileClaimsOnOtherGrants(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Scopes: []string{"openid", "offline_access"}})
	s.FailNext(FaultHostileClaims, 1)
	r := refresh(t, s, FleetClientID, ts.RefreshToken)
	wantHostile(t, r.str(t, "access_token"), "openid", "offline_access")
	if !strings.Contains(r.str(t, "scope"), HostileScopeClear) || s.RefreshTokenLive(ts.RefreshToken) {
		t.Errorf("refresh: scope %q, old token live %v", r.str(t, "scope"), s.RefreshTokenLive(ts.RefreshToken))
	}

	s.FailNext(FaultHostileClaims, 1)
	cc := postForm(t, s.Issuer()+"/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {PartnerClientID},
		"client_secret": {PartnerSecret}, "scope": {"openid vehicle_cmds"}})
	wantHostile(t, cc.str(t, "access_token"), "openid", "vehicle_cmds")

	// Legacy tokens are opaque: the grant is plain.
	s.FailNext(FaultHostileClaims, 1)
	u := s.User()
	lg := postJSON(t, s.URL()+"/oauth/token", map[string]string{"grant_type": "password", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "email": u.Email, "password": u.Password})
	if lg.status != 200 || !strings.HasPrefix(lg.str(t, "access_token"), "qts-") || strings.Contains(string(lg.body), "\\u001b") {
		t.Errorf("legacy: %d %s", lg.status, lg.body)
	}
	if st := s.Stats(); st.Refreshes != 1 || st.ClientCredentials != 1 || st.PasswordGrants != 1 || st.Failures != 3 {
		t.Errorf("stats %+v", st)
	}
}
