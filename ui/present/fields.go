package present

import (
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// fieldLabels are the labels of the form fields whose names read better
// shortened or capitalised otherwise than the first letter.
var fieldLabels = map[oauth.Field]string{
	oauth.FieldClientID:     "Client ID",
	oauth.FieldClientSecret: "Secret",
	oauth.FieldRedirectURI:  "Redirect URI",
	oauth.FieldAuthURL:      "Auth URL",
	oauth.FieldTokenURL:     "Token URL",
	oauth.FieldRevokeURL:    "Revoke URL",
	oauth.FieldUserInfoURL:  "User info",
	oauth.FieldBaseURL:      "Owner API",
	oauth.FieldAPIBaseURL:   "API base",
	oauth.FieldAuthCode:     "Auth code",
}

// FieldLabel is the label of a field in the TUI's forms (the login
// wizard, the edit form): "Token URL". Sentences use oauth.Field.Label.
func FieldLabel(f oauth.Field) string {
	if l, ok := fieldLabels[f]; ok {
		return l
	}
	l := f.Label()
	if l == "" {
		return l
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// FieldHint is how a form words one field: the placeholder of an empty
// input and the help under it. The TUI's login wizard and the command
// line's questions (keyfob login in a terminal) both show it.
type FieldHint struct{ Placeholder, Help string }

// fieldHints word every field the requirements table can show.
var fieldHints = map[oauth.Field]FieldHint{
	oauth.FieldName:         {"optional — the email's name by default", "What keyfob calls the account; keyfob token NAME uses it."},
	oauth.FieldEmail:        {"the Tesla account's email", "The email of the account."},
	oauth.FieldPassword:     {"", "Sent once to the token endpoint and never stored."},
	oauth.FieldClientID:     {"your app's client id", "The client id of your app (developer.tesla.com for Fleet API apps)."},
	oauth.FieldClientSecret: {"none", "The client secret; open-source (PKCE) apps have none. Stored in the account file (0600)."},
	oauth.FieldScopes:       {"space separated", "Scopes to ask for; the server may grant fewer — the detail view shows what it granted."},
	oauth.FieldRedirectURI:  {"empty: 127.0.0.1, any free port", "Must match a redirect URI registered for the app. A loopback http URI (or empty) lets keyfob catch the answer itself."},
	oauth.FieldAudience:     {"Fleet API base URL", "The Fleet API base URL of the account's region."},
	oauth.FieldAuthURL:      {"authorize endpoint", "Where the browser signs in."},
	oauth.FieldTokenURL:     {"token endpoint", "Where codes and refresh tokens are exchanged."},
	oauth.FieldRevokeURL:    {"none", "An RFC 7009 revocation endpoint, if the server has one."},
	oauth.FieldUserInfoURL:  {"userinfo endpoint", "Where keyfob learns the account's email after signing in."},
	oauth.FieldBaseURL:      {"base URL", "The owner-api host; /oauth/token and /oauth/revoke hang off it."},
	oauth.FieldAPIBaseURL: {"empty: the audience's", "Where keyfob calls the API (check, partner) when it is not the audience: " +
		"the sandbox's Fleet API, or a proxy such as Tesla's vehicle-command http proxy."},
	oauth.FieldIssuer: {"optional — fills the URLs", "An OpenID issuer URL: keyfob reads its discovery document to fill the empty endpoints."},
	oauth.FieldAuthCode: {"none — the app's own partner token", "A business's consent code from Tesla for Business (consent management): " +
		"with it keyfob gets a third-party business token for that business. Stored in the account file (0600)."},
	oauth.FieldDomain: {"app.example.com", "The domain that will serve the app's public key (Tesla's allowed origin is https://DOMAIN); " +
		"keyfob serve can serve it behind a tunnel."},
	oauth.FieldRefreshToken: {"paste it here", "The refresh token to import. keyfob refreshes it at once, which proves it works and rotates it."},
}

// fleetRedirectHint words the fleet form's redirect URI, which Tesla
// requires and matches exactly.
var fleetRedirectHint = FieldHint{"the app's registered redirect URI",
	"Required: a redirect URI registered for the app on developer.tesla.com, exactly as registered. A loopback one (http://localhost:PORT/…) lets keyfob catch the answer itself; any other means pasting the address the browser lands on."}

// HintOf is the wording of field f in a form of kind k.
func HintOf(k accounts.Kind, f oauth.Field) FieldHint {
	if k == accounts.KindFleet && f == oauth.FieldRedirectURI {
		return fleetRedirectHint
	}
	return fieldHints[f]
}

// The questions of the choices before a login or import form, which the
// wizard and the command line ask alike.
const (
	AskKind       = "What kind of account?"
	AskImportKind = "What kind of account is the refresh token from?"
	AskRegion     = "Which region is the account in?"
	AskGrant      = "How does the server sign you in?"
)
