// Package presets points keyfob's login presets at a sandbox: Tesla's
// presets (oauth.Preset) with the sandbox's endpoints, apps and users, so
// that every kind of login goes through against it. keyfob demo's wizard
// starts from them, and so do the tests' accounts, so that what the tests
// sign in with is what a newcomer tries.
package presets

import (
	"maps"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// The custom kind's app at the sandbox: a confidential client, so that
// every grant of the custom kind (code, password, client credentials)
// works. Options registers it.
const (
	CustomClientID = "keyfob-demo-custom"
	CustomSecret   = "keyfob-demo-custom-secret"
)

// RegionUsers are the sandbox's users besides the default one (region
// NA): the presets hint the user of the region chosen, so that a login
// there gets tokens that agree with it; the China user's sign-in goes on
// at the sandbox's China host, as Tesla's does at auth.tesla.cn.
var RegionUsers = []sandbox.User{
	{Email: "eu-driver@example.com", FullName: "Sandbox Driver (EU)", Region: "EU"},
	{Email: "cn-driver@example.com", FullName: "Sandbox Driver (CN)", Region: "CN"},
}

// Options completes the options of a sandbox with what the presets need
// of it: the custom kind's app and the region users (unless o names users
// of its own).
func Options(o sandbox.Options) sandbox.Options {
	o.Secrets = maps.Clone(o.Secrets)
	if o.Secrets == nil {
		o.Secrets = map[string]string{}
	}
	if _, ok := o.Secrets[CustomClientID]; !ok {
		o.Secrets[CustomClientID] = CustomSecret
	}
	if o.Users == nil {
		o.Users = RegionUsers
	}
	return o
}

// Sandbox is Tesla's presets pointed at a sandbox started with Options.
type Sandbox struct {
	Server *sandbox.Server
	// RedirectURI is the loopback redirect URI registered at the sandbox
	// for its Fleet API app (which, like Tesla, takes no other); "" when
	// none is, and the user fills one in.
	RedirectURI string
}

// Preset returns the defaults a login of kind in region starts from at the
// sandbox: the Fleet app with its registered redirect URI, Tesla's Fleet
// API base of the region as the audience (what the sandbox's Tesla-shaped
// tokens name) and the sandbox's own as the API base that keyfob check and
// partner call, the sandbox's root as an owner account's Owner API, the
// sandbox's legacy client, the custom kind's app, and the region's user as
// the sign-in's login hint (the China user's sign-in moves to the China
// host, as at Tesla).
func (p Sandbox) Preset(kind accounts.Kind, region string) (accounts.Account, error) {
	a, err := oauth.Preset(kind, region)
	if err != nil {
		return a, err
	}
	s := p.Server
	base, issuer := s.URL(), s.Issuer()
	switch kind {
	case accounts.KindFleet:
		a.ClientID = sandbox.FleetClientID
		a.Endpoints.AuthURL = issuer + "/authorize"
		a.Endpoints.TokenURL = issuer + "/token"
		a.Endpoints.UserInfoURL = issuer + "/userinfo"
		a.Endpoints.RedirectURI = p.RedirectURI
		a.Endpoints.APIBaseURL = s.FleetAPIBase(a.Region)
		a.Email = UserOf(s, a.Region)
	case accounts.KindOwner:
		a.Endpoints.AuthURL = issuer + "/authorize"
		a.Endpoints.TokenURL = issuer + "/token"
		a.Endpoints.UserInfoURL = issuer + "/userinfo"
		a.Endpoints.APIBaseURL = base
		a.Email = UserOf(s, a.Region)
	case accounts.KindPartner:
		a.ClientID = sandbox.PartnerClientID
		a.ClientSecret = sandbox.PartnerSecret
		a.Endpoints.TokenURL = issuer + "/token"
		a.Endpoints.APIBaseURL = s.FleetAPIBase(a.Region)
	case accounts.KindLegacy:
		a.ClientID = sandbox.LegacyClientID
		a.ClientSecret = sandbox.LegacyClientSecret
		a.Endpoints.BaseURL = base
		a.Email = s.User().Email
	case accounts.KindCustom:
		// An app with no registered redirect URI, which the sandbox lets
		// use any loopback port (RFC 8252), as the custom kind does.
		a.ClientID, a.ClientSecret = CustomClientID, CustomSecret
		a.Endpoints = accounts.Endpoints{
			AuthURL:     issuer + "/authorize",
			TokenURL:    issuer + "/token",
			RevokeURL:   issuer + "/revoke",
			UserInfoURL: issuer + "/userinfo",
		}
		a.RequestedScopes = []string{"openid", "email", "offline_access"}
	}
	return a, nil
}

// UserOf is the email of the sandbox's user of a region (its default user
// when it has none there).
func UserOf(s *sandbox.Server, region string) string {
	for _, u := range s.Users() {
		if strings.EqualFold(u.Region, region) {
			return u.Email
		}
	}
	return s.User().Email
}
