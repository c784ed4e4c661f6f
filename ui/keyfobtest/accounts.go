package keyfobtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// Now is the fixed instant of the fixtures and of screens under test.
var Now = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// FleetScopes are the scopes of a Fleet API account that asked for all.
var FleetScopes = []string{"openid", "offline_access", "user_data", "vehicle_device_data", "vehicle_location", "vehicle_cmds", "vehicle_charging_cmds"}

// FakeJWT builds an unsigned, obviously fake JWT with the given claims.
func FakeJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	return head + "." + enc.EncodeToString(body) + ".fake-signature-for-tests"
}

// Account makes an account of a fake server whose access token (a fake
// JWT with the scopes) expires at exp and was issued 8 hours before; its
// refresh token was obtained 12 days before Now. id must be keyfob's form
// (8 hex digits).
func Account(id, name, email string, kind accounts.Kind, region string, exp time.Time, scopes []string) accounts.Account {
	iat := exp.Add(-8 * time.Hour)
	// The subject keeps a short form of the id ("a0000001" → "user-a1").
	short := id[:1] + strings.TrimLeft(id[1:], "0")
	claims := map[string]any{
		"iss": "https://auth.example.test/oauth2/v3", "azp": "test-client", "sub": "user-" + short,
		"aud": []string{"https://fleet-api.example.test"}, "scp": scopes,
		"exp": exp.Unix(), "iat": iat.Unix(), "ou_code": strings.ToUpper(region), "locale": "en-US",
	}
	if email != "" {
		claims["email"] = email
	}
	return accounts.Account{
		ID: id, Name: name, Email: email, Subject: "user-" + short, Kind: kind, Region: region,
		ClientID: "test-client", Audience: "https://fleet-api.example.test",
		Endpoints: accounts.Endpoints{
			AuthURL:     "https://auth.example.test/oauth2/v3/authorize",
			TokenURL:    "https://auth.example.test/oauth2/v3/token",
			UserInfoURL: "https://auth.example.test/oauth2/v3/userinfo",
		},
		RequestedScopes: scopes, GrantedScopes: scopes,
		TokenType: "Bearer", AccessToken: FakeJWT(claims), RefreshToken: "NA_0000test" + id + "0000000000000000",
		Expiry: exp, AccessObtainedAt: iat, RefreshObtainedAt: Now.Add(-12 * 24 * time.Hour),
		CreatedAt:   Now.Add(-40 * 24 * time.Hour),
		LastRefresh: &accounts.RefreshResult{At: iat, OK: true},
		State:       accounts.StateActive,
	}
}

// Fixtures is a store with one account in every state the list shows, at
// Now: home (valid), work (expiring), garage (an owner account, expiring
// soon), partner-na (a partner token, expired), old-car (legacy, login
// required), selfhost (custom, refresh failed) and sold (revoked).
func Fixtures() []accounts.Account {
	home := Account("a0000001", "home", "driver@example.com", accounts.KindFleet, "na",
		Now.Add(7*time.Hour+41*time.Minute+9*time.Second), FleetScopes)
	work := Account("a0000002", "work", "fleet.manager@example.com", accounts.KindFleet, "eu",
		Now.Add(42*time.Minute+5*time.Second), []string{"openid", "offline_access", "vehicle_device_data"})
	garage := Account("a0000003", "garage", "garage@example.com", accounts.KindOwner, "na",
		Now.Add(4*time.Minute+30*time.Second), []string{"openid", "email", "offline_access"})
	garage.ClientID = "ownerapi"
	garage.Endpoints.RedirectURI = "tesla://auth/callback"
	partner := Account("a0000004", "partner-na", "", accounts.KindPartner, "na",
		Now.Add(-3*time.Minute), []string{"openid", "vehicle_device_data", "vehicle_cmds", "vehicle_charging_cmds"})
	partner.RefreshToken, partner.RefreshObtainedAt = "", time.Time{}
	partner.ClientSecret = "not-a-real-secret"
	old := Account("a0000005", "old-car", "old@example.com", accounts.KindLegacy, "na",
		Now.Add(20*24*time.Hour), nil)
	old.AccessToken = "qts-000000000000000000000000000000test"
	old.Endpoints = accounts.Endpoints{BaseURL: "https://owner-api.example.test"}
	old.State, old.StateDetail = accounts.StateLoginRequired, "the server rejected the refresh token (login_required)"
	custom := Account("a0000006", "selfhost", "me@selfhost.example", accounts.KindCustom, "",
		Now.Add(3*time.Hour), []string{"openid", "profile"})
	custom.Grant = accounts.GrantCode
	custom.Endpoints.RevokeURL = "https://auth.example.test/oauth2/v3/revoke"
	custom.State, custom.StateDetail = accounts.StateError, "no answer from auth.example.test within 30s"
	custom.LastRefresh = &accounts.RefreshResult{At: Now.Add(-time.Minute), Error: custom.StateDetail}
	sold := Account("a0000007", "sold", "sold@example.com", accounts.KindFleet, "eu",
		Now.Add(5*time.Hour), FleetScopes)
	sold.State, sold.AccessToken, sold.RefreshToken = accounts.StateRevoked, "", ""
	return []accounts.Account{home, work, garage, partner, old, custom, sold}
}

// Named is the account of accts named name; it panics when there is none.
func Named(accts []accounts.Account, name string) accounts.Account {
	for _, a := range accts {
		if a.Name == name {
			return a
		}
	}
	panic("keyfobtest: no account " + name)
}

// Cars makes n valid Fleet accounts like Fixtures' home with distinct
// names (car-000, …) and expiries spread over minutes to days.
func Cars(n int) []accounts.Account {
	base := Fixtures()[0]
	out := make([]accounts.Account, n)
	for i := range out {
		a := base
		a.ID = fmt.Sprintf("e%07d", i)
		a.Name = fmt.Sprintf("car-%03d", i)
		a.Email = fmt.Sprintf("driver%03d@example.com", i)
		a.Subject = a.ID
		a.Expiry = Now.Add(time.Duration(i%17)*37*time.Minute + time.Duration(i%5)*3*time.Hour + time.Minute)
		out[i] = a
	}
	return out
}

// Fleet is a store of n accounts with realistic tokens, spread over kinds,
// regions and expiries (2 to 10 hours from Now): what the speed bars run
// on.
func Fleet(n int) []accounts.Account {
	kinds := []accounts.Kind{accounts.KindFleet, accounts.KindOwner, accounts.KindPartner, accounts.KindLegacy}
	regions := []string{"na", "eu", "cn"}
	out := make([]accounts.Account, n)
	for i := range out {
		exp := Now.Add(time.Duration(i%480)*time.Minute + 2*time.Hour)
		out[i] = Account(fmt.Sprintf("b%07d", i), fmt.Sprintf("vehicle-%04d", i), fmt.Sprintf("owner%04d@example.com", i),
			kinds[i%len(kinds)], regions[i%len(regions)], exp, FleetScopes)
	}
	return out
}

// Consumer is a consumer of keyfob serve named name that gets the tokens
// of the account id, added two days before Now and last used used before
// Now from addr (never, when used is 0).
func Consumer(name, id string, used time.Duration, addr string) accounts.Consumer {
	c := accounts.Consumer{Name: name, AccountID: id, Hash: accounts.HashCredential("credential of " + name),
		CreatedAt: Now.Add(-48 * time.Hour)}
	if used > 0 {
		c.LastUsedAt, c.LastAddress = Now.Add(-used), addr
	}
	return c
}
