package present

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// KindTitle says what an account kind is: "Fleet API third-party token".
func KindTitle(k accounts.Kind) string {
	switch k {
	case accounts.KindFleet:
		return "Fleet API third-party token"
	case accounts.KindOwner:
		return "Owner API token via Tesla SSO"
	case accounts.KindPartner:
		return "Fleet API partner token"
	case accounts.KindLegacy:
		return "retired owner-api password grant"
	case accounts.KindCustom:
		return "custom OAuth 2 server"
	}
	return Clean(string(k))
}

// KindSummary is a kind with how it signs in, for a chooser.
func KindSummary(k accounts.Kind) string {
	switch k {
	case accounts.KindFleet:
		return "Fleet API token — official; you sign in in the browser"
	case accounts.KindOwner:
		return "Owner API token (Tesla is closing it) — you paste the address"
	case accounts.KindPartner:
		return "Fleet API partner token — your app's client id and secret"
	case accounts.KindLegacy:
		return "retired owner-api password grant (email and password)"
	case accounts.KindCustom:
		return "any OAuth 2 server, with your own endpoints"
	}
	return KindTitle(k)
}

// OwnerAPIClosing is what an owner account's user must know: Tesla is
// closing the Owner API, and a Fleet API app of the user's own is the
// durable path. The wizard shows it under the owner kind, the detail view
// on owner accounts.
const OwnerAPIClosing = "Tesla is closing the Owner API: since 2026-06-12 it answers many owner tokens " +
	"403 forbidden. A Fleet API app of your own is the durable path (new app in the login wizard sets one up)."

// RegionSummary names the part of the world a Tesla region serves.
func RegionSummary(r string) string {
	switch r {
	case "na":
		return "North America and Asia-Pacific"
	case "eu":
		return "Europe, Middle East and Africa"
	case "cn":
		return "China — auth.tesla.cn"
	}
	return Clean(r)
}

// RegionTitle is a region with its name: "eu — Europe, Middle East, Africa".
func RegionTitle(r string) string {
	switch r {
	case "na":
		return "na — North America, Asia-Pacific"
	case "eu":
		return "eu — Europe, Middle East, Africa"
	case "cn":
		return "cn — China"
	}
	return Clean(r)
}

// GrantSummary says how a custom account's grant signs in.
func GrantSummary(g string) string {
	switch g {
	case accounts.GrantCode:
		return "browser sign-in with PKCE"
	case accounts.GrantPassword:
		return "email and password (resource owner grant)"
	case accounts.GrantClientCredentials:
		return "client id and secret, no user"
	}
	return Clean(g)
}

// KindRegion is the short kind of an account as the list shows it:
// "fleet/na", "custom".
func KindRegion(a *accounts.Account) string {
	k := Clean(string(a.Kind))
	if a.Region != "" {
		return k + "/" + Clean(a.Region)
	}
	return k
}

// Who names an account with its email when that says more: "home
// (driver@example.com)".
func Who(a *accounts.Account) string {
	name := Clean(a.Name)
	if a.Email != "" && !strings.EqualFold(a.Email, a.Name) {
		return fmt.Sprintf("%s (%s)", name, Clean(a.Email))
	}
	return name
}

// Summary sums an account up in one line: name, email, kind, access-token
// expiry and scopes.
func Summary(a *accounts.Account, now time.Time) string {
	who := Clean(a.Name)
	if a.Email != "" {
		who += " <" + Clean(a.Email) + ">"
	}
	kind := KindRegion(a)
	if a.AuthCode != "" {
		kind += ", business token"
	}
	s := fmt.Sprintf("%s (%s): access token %s", who, kind, ExpiresIn(a, now))
	if sc := a.Scopes(); len(sc) > 0 {
		s += "; scopes " + Clean(strings.Join(sc, " "))
	}
	return s
}

// Count is n and a noun, plural when n is not 1: "1 account", "3 consumers".
func Count(n int, noun string) string { return plural(n, noun) }

// RefreshCause is the text of err, a failed refresh of the account named
// name, without the "refreshing "name": " the accounts package puts in
// front: a face that names the account already does not say it twice.
// The text is exact (for JSON); RefreshFailure cleans it for a terminal.
func RefreshCause(name string, err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, fmt.Sprintf("refreshing %q: ", name)); ok && rest != "" {
		return rest
	}
	return msg
}

// RefreshFailure is RefreshCause in one line, cleaned for a terminal.
func RefreshFailure(name string, err error) string { return OneLine(RefreshCause(name, err)) }
