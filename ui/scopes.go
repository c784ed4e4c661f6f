package ui

import "sort"

// scopeInfo describes one OAuth scope.
type scopeInfo struct {
	Title string // what Tesla's consent page calls it
	Desc  string // what it allows
	Short string // the badge in the account list
	rank  int    // badge order: what matters most to a user first
}

// knownScopes are the Tesla scopes and the OIDC identity scopes.
var knownScopes = map[string]scopeInfo{
	"vehicle_device_data":   {"Vehicle information", "live data, eligible upgrades, nearby superchargers, ownership, service scheduling", "data", 0},
	"vehicle_location":      {"Vehicle location", "location fields of vehicle data", "loc", 1},
	"vehicle_cmds":          {"Vehicle commands", "add/remove driver, live camera, unlock, wake up, remote start, software updates", "cmds", 2},
	"vehicle_charging_cmds": {"Vehicle charging management", "charging history, billed amount, location; schedule, start and stop charging", "charge", 3},
	"energy_device_data":    {"Energy product information", "live status, site info, backup, energy and charge history", "energy", 4},
	"energy_cmds":           {"Energy product settings", "backup reserve percent, operation mode, storm mode", "e-cmds", 5},
	"vehicle_specs":         {"Vehicle specs", "vehicle specifications (partner tokens only)", "specs", 6},
	"vehicle_pricing_info":  {"Vehicle pricing", "vehicle pricing (partner tokens only)", "price", 7},
	"enterprise_management": {"Enterprise management", "business accounts", "ent", 8},
	"user_data":             {"Profile information", "contact information, home address, profile picture, referral information", "user", 9},
	"email":                 {"Email", "the account's email address (OIDC identity claim)", "email", 10},
	"profile":               {"Profile", "the account's name and profile (OIDC identity claim)", "profile", 11},
	"offline_access":        {"Refresh tokens", "get a refresh token without the user logging in again", "offline", 12},
	"openid":                {"Sign in with Tesla", "sign in to the application with Tesla credentials", "id", 13},
}

// describeScope returns what is known about scope; unknown scopes get
// their own name as badge.
func describeScope(scope string) scopeInfo {
	if s, ok := knownScopes[scope]; ok {
		return s
	}
	return scopeInfo{Title: scope, Desc: "not a Tesla scope keyfob knows", Short: scope, rank: 100}
}

// badgeOrder returns the scopes in badge order (most useful first),
// without changing the input.
func badgeOrder(scopes []string) []string {
	out := append([]string(nil), scopes...)
	sort.SliceStable(out, func(i, j int) bool { return describeScope(out[i]).rank < describeScope(out[j]).rank })
	return out
}
