package oauth

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"

	"github.com/keyfob/keyfob/accounts"
)

// Tesla's public clients and defaults (from Tesla's documentation and the tools people use). They are defaults only:
// every value ends up in the account record, where flags override it.
const (
	// OwnerClientID is the client id of the Owner API through Tesla SSO.
	OwnerClientID = "ownerapi"
	// OwnerRedirectURI is the only redirect the Owner API client accepts.
	OwnerRedirectURI = "tesla://auth/callback"
	// LegacyClientID and LegacyClientSecret are the public client of the
	// Tesla app for the retired owner-api password grant.
	LegacyClientID     = "81527cff06843c8634fdc09e8ac0abefb46ac849f38fe1e431c2ef2106796384"
	LegacyClientSecret = "c7257eb71a564034f9419ee651c7d0e5f7aa6bfbd18bafb5c5c033b093bb2fa3"
)

// Regions lists the Tesla regions a preset knows.
var Regions = []string{"na", "eu", "cn"}

// teslaRegion holds one region's hosts.
type teslaRegion struct {
	auth       string // SSO host: authorize, userinfo, Owner API token
	fleetToken string // Fleet API token endpoint
	fleetAPI   string // Fleet API base URL, the audience
	ownerAPI   string // legacy owner-api base URL
}

var teslaRegions = map[string]teslaRegion{
	"na": {
		auth:       "https://auth.tesla.com",
		fleetToken: "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token",
		fleetAPI:   "https://fleet-api.prd.na.vn.cloud.tesla.com",
		ownerAPI:   "https://owner-api.teslamotors.com",
	},
	"eu": {
		auth:       "https://auth.tesla.com",
		fleetToken: "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token",
		fleetAPI:   "https://fleet-api.prd.eu.vn.cloud.tesla.com",
		ownerAPI:   "https://owner-api.teslamotors.com",
	},
	"cn": {
		auth:       "https://auth.tesla.cn",
		fleetToken: "https://auth.tesla.cn/oauth2/v3/token",
		fleetAPI:   "https://fleet-api.prd.cn.vn.cloud.tesla.cn",
		ownerAPI:   "https://owner-api.vn.cloud.tesla.cn",
	},
}

// Default scopes per kind.
var (
	// FleetScopes asks for everything a personal Fleet API app usually
	// needs, energy products included (as Home Assistant asks); Tesla
	// grants only what the app is registered for.
	FleetScopes = []string{"openid", "offline_access", "user_data", "vehicle_device_data", "vehicle_location",
		"vehicle_cmds", "vehicle_charging_cmds", "energy_device_data", "energy_cmds"}
	// OwnerScopes are the scopes of the Owner API client.
	OwnerScopes = []string{"openid", "email", "offline_access"}
	// PartnerScopes are the usual scopes of a partner token.
	PartnerScopes = []string{"openid", "vehicle_device_data", "vehicle_cmds", "vehicle_charging_cmds"}
)

// unconfirmedScopes are the scopes Tesla lists whose grant to third-party
// tokens nobody has confirmed (TESLA.md §6, §7): the first two are
// documented as "partner tokens only", the last for business accounts.
var unconfirmedScopes = map[string]string{
	"vehicle_specs":         "partner tokens only; unconfirmed for third-party tokens",
	"vehicle_pricing_info":  "partner tokens only; unconfirmed for third-party tokens",
	"enterprise_management": "business accounts; unconfirmed for third-party tokens",
}

// ScopeUnconfirmed reports whether Tesla is not known to grant scope to
// third-party (fleet and owner) tokens, with a short note saying why, in
// TESLA.md's words: vehicle_specs and vehicle_pricing_info ("partner
// tokens only") and enterprise_management ("business accounts") are
// unconfirmed for third-party tokens. The faces mark them in the scope
// list.
func ScopeUnconfirmed(scope string) (note string, unconfirmed bool) {
	note, unconfirmed = unconfirmedScopes[scope]
	return note, unconfirmed
}

// Preset returns an account of kind k in region ("na", "eu", "cn"; "" is
// "na") with every Tesla default filled: client id (owner and legacy),
// client secret (legacy's public one), endpoints, audience (the Fleet API
// URL of the region, for fleet and partner), default scopes and redirect URI
// (owner). A fleet account's redirect URI stays empty: it must be the one
// registered for the user's app (Logins fills a remembered one). A custom
// account gets nothing but its kind.
func Preset(k accounts.Kind, region string) (accounts.Account, error) {
	if !k.Valid() {
		return accounts.Account{}, fmt.Errorf("unknown account kind %q; use one of fleet, owner, partner, legacy, custom", k)
	}
	region = strings.ToLower(strings.TrimSpace(region))
	if region == "" {
		region = "na"
	}
	r, ok := teslaRegions[region]
	if !ok {
		return accounts.Account{}, fmt.Errorf("unknown region %q; use na, eu or cn", region)
	}
	a := accounts.Account{Kind: k}
	if k == accounts.KindCustom {
		return a, nil
	}
	a.Region = region
	switch k {
	case accounts.KindFleet:
		a.Endpoints = accounts.Endpoints{
			AuthURL:     r.auth + "/oauth2/v3/authorize",
			TokenURL:    r.fleetToken,
			UserInfoURL: r.auth + "/oauth2/v3/userinfo",
		}
		a.Audience = r.fleetAPI
		a.RequestedScopes = clone(FleetScopes)
	case accounts.KindOwner:
		a.ClientID = OwnerClientID
		a.Endpoints = accounts.Endpoints{
			AuthURL:     r.auth + "/oauth2/v3/authorize",
			TokenURL:    r.auth + "/oauth2/v3/token",
			UserInfoURL: r.auth + "/oauth2/v3/userinfo",
			RedirectURI: OwnerRedirectURI,
		}
		a.RequestedScopes = clone(OwnerScopes)
	case accounts.KindPartner:
		a.Endpoints = accounts.Endpoints{TokenURL: r.fleetToken}
		a.Audience = r.fleetAPI
		a.RequestedScopes = clone(PartnerScopes)
	case accounts.KindLegacy:
		a.ClientID = LegacyClientID
		a.ClientSecret = LegacyClientSecret
		a.Endpoints = accounts.Endpoints{BaseURL: r.ownerAPI}
	}
	return a, nil
}

func clone(s []string) []string { return append([]string(nil), s...) }

// APIBase is where keyfob calls the API a's tokens are for: the account's
// own API base (Endpoints.APIBaseURL: the sandbox's, a proxy's) when it
// has one, else the audience for fleet and partner accounts (Tesla's Fleet
// API base of the region), the region's Owner API for owner accounts, and
// the owner-api base of a legacy account. A custom account has none.
// `keyfob token --json` and `list --json` show it as api_base_url.
func APIBase(a accounts.Account) string {
	if b := strings.TrimSpace(a.Endpoints.APIBaseURL); b != "" {
		return strings.TrimRight(b, "/")
	}
	switch a.Kind {
	case accounts.KindFleet, accounts.KindPartner:
		return strings.TrimRight(strings.TrimSpace(a.Audience), "/")
	case accounts.KindOwner:
		return teslaRegions[cmp.Or(a.Region, "na")].ownerAPI
	case accounts.KindLegacy:
		return strings.TrimRight(strings.TrimSpace(a.Endpoints.BaseURL), "/")
	}
	return ""
}

// consentURL is Tesla's page where a user withdraws an app's access, for
// the Tesla kinds that act for a user.
func consentURL(a accounts.Account) string {
	if !userKind(a) {
		return ""
	}
	host, back := "https://auth.tesla.com", "https://www.tesla.com/"
	if a.Region == "cn" || teslaHosts[strings.ToLower(hostOf(a.Endpoints.TokenURL))] == "cn" ||
		teslaHosts[strings.ToLower(hostOf(a.Endpoints.AuthURL))] == "cn" {
		host, back = "https://auth.tesla.cn", "https://www.tesla.cn/"
	}
	return host + "/user/revoke/consent?revoke_client_id=" + url.QueryEscape(a.ClientID) + "&back_url=" + url.QueryEscape(back)
}
