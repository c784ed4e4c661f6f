package present

import (
	"fmt"
	"sort"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// ScopeInfo describes one OAuth scope.
type ScopeInfo struct {
	Title string // what Tesla's consent page calls it
	Desc  string // what it allows
	Short string // the badge in the account list
	rank  int    // badge order: what matters most to a user first
}

// knownScopes are the Tesla scopes and the OIDC identity scopes.
var knownScopes = map[string]ScopeInfo{
	"vehicle_device_data":   {"Vehicle information", "vehicle live data, service history and communications", "data", 0},
	"vehicle_location":      {"Vehicle location", "precise and coarse vehicle location", "loc", 1},
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

// DescribeScope returns what is known about scope; an unknown scope gets
// its own (cleaned) name as title and badge.
func DescribeScope(scope string) ScopeInfo {
	if s, ok := knownScopes[scope]; ok {
		return s
	}
	name := OneLine(scope)
	return ScopeInfo{Title: name, Desc: "not a Tesla scope keyfob knows", Short: name, rank: 100}
}

// BadgeOrder returns the scopes in badge order (what matters most to a user
// first, openid and offline_access last), without changing the input.
func BadgeOrder(scopes []string) []string {
	out := append([]string(nil), scopes...)
	sort.SliceStable(out, func(i, j int) bool { return DescribeScope(out[i]).rank < DescribeScope(out[j]).rank })
	return out
}

// ShortScopes lists the first n scopes in badge order and counts the rest:
// "vehicle_device_data,vehicle_cmds,user_data +3".
func ShortScopes(scopes []string, n int) string {
	all := BadgeOrder(scopes)
	for i, s := range all {
		all[i] = OneLine(s)
	}
	if len(all) <= n {
		return strings.Join(all, ",")
	}
	return fmt.Sprintf("%s +%d", strings.Join(all[:n], ","), len(all)-n)
}

// ScopeLine is a scope's title and description as the detail view lists
// it for an account of kind k; the scopes Tesla is not known to grant to
// third-party (fleet and owner) tokens say so (oauth.ScopeUnconfirmed).
func ScopeLine(k accounts.Kind, scope string) string {
	info := DescribeScope(scope)
	line := info.Title + " — " + info.Desc
	if _, unconfirmed := oauth.ScopeUnconfirmed(scope); unconfirmed && (k == accounts.KindFleet || k == accounts.KindOwner) {
		line += " (unconfirmed for third-party tokens)"
	}
	return line
}

// KnownScopes are the scopes keyfob knows, most useful first (the badge
// order): what the shell offers to complete --scopes.
func KnownScopes() []string {
	out := make([]string, 0, len(knownScopes))
	for s := range knownScopes {
		out = append(out, s)
	}
	return BadgeOrder(out)
}
