package oauth

import (
	"fmt"

	"github.com/keyfob/keyfob/accounts"
)

// Purpose says what an account's inputs are for: a login, or the import of
// a refresh token (which needs only what a refresh needs).
type Purpose int

// The purposes.
const (
	PurposeLogin Purpose = iota
	PurposeImport
)

// Field names one input of a login or import. The command line has a flag
// for each (or reads it from stdin or the environment when it is a
// secret); the TUI's wizard has a form field for each it shows.
type Field string

// The fields.
const (
	FieldName         Field = "name"
	FieldEmail        Field = "email"
	FieldPassword     Field = "password"
	FieldClientID     Field = "client_id"
	FieldClientSecret Field = "client_secret"
	FieldScopes       Field = "scopes"
	FieldRedirectURI  Field = "redirect_uri"
	FieldAudience     Field = "audience"
	FieldAuthURL      Field = "auth_url"
	FieldTokenURL     Field = "token_url"
	FieldRevokeURL    Field = "revoke_url"
	FieldUserInfoURL  Field = "userinfo_url"
	FieldBaseURL      Field = "base_url"
	FieldAPIBaseURL   Field = "api_base_url"
	FieldIssuer       Field = "issuer"
	FieldRefreshToken Field = "refresh_token"
	// FieldAuthCode is a business's consent (partner accounts): with it
	// the login gets a third-party business token.
	FieldAuthCode Field = "auth_code"
	// FieldKind, FieldRegion and FieldGrant are not inputs of the table
	// but can be at fault in a FieldError.
	FieldKind   Field = "kind"
	FieldRegion Field = "region"
	FieldGrant  Field = "grant"
	// FieldLocale is LoginOptions.Locale; FieldEndpoint is a URL the
	// account does not name (a redirect, or an issuer's document).
	FieldLocale   Field = "locale"
	FieldEndpoint Field = "endpoint"
	// FieldDomain is the domain of a Fleet API app of the user's own,
	// which the guided set-up asks for (not an account's field).
	FieldDomain Field = "domain"
)

// Secret reports whether the field holds a secret: it never comes from the
// command line's arguments and is masked on screen.
func (f Field) Secret() bool {
	return f == FieldPassword || f == FieldClientSecret || f == FieldRefreshToken || f == FieldAuthCode
}

// Need says whether a field must have a value.
type Need int

// The needs.
const (
	// NeedOptional fields may stay empty.
	NeedOptional Need = iota
	// NeedRequired fields must be given by the user: no preset fills them.
	NeedRequired
	// NeedPreset fields must not be empty, and the kind's preset fills them.
	NeedPreset
	// NeedDiscovered fields must not be empty; an issuer's discovery document
	// fills them when the user gives an issuer instead.
	NeedDiscovered
)

// Requirement is one field of a login or import form.
type Requirement struct {
	Field Field
	Need  Need
	// Hidden fields are not in the TUI's form (the preset's value is what
	// almost everyone wants); the command line still takes them.
	Hidden bool
}

// GrantOf says how a logs in: accounts.GrantCode, GrantPassword,
// GrantClientCredentials, or "legacy" (the owner-api JSON password grant).
func GrantOf(a accounts.Account) string {
	return kindGrant(a.Kind, a.Grant)
}

func kindGrant(k accounts.Kind, grant string) string {
	switch k {
	case accounts.KindFleet, accounts.KindOwner:
		return accounts.GrantCode
	case accounts.KindPartner:
		return accounts.GrantClientCredentials
	case accounts.KindLegacy:
		return grantLegacy
	}
	if grant == "" {
		return accounts.GrantCode
	}
	return grant
}

// req builds table rows tersely.
func req(f Field, n Need) Requirement  { return Requirement{Field: f, Need: n} }
func hide(f Field, n Need) Requirement { return Requirement{Field: f, Need: n, Hidden: true} }

// loginTable lists, per grant of a kind, the fields of a login in the
// order the wizard shows them.
var loginTable = map[accounts.Kind]map[string][]Requirement{
	accounts.KindFleet: {accounts.GrantCode: {
		req(FieldName, NeedOptional), req(FieldClientID, NeedRequired), req(FieldClientSecret, NeedOptional),
		req(FieldRedirectURI, NeedRequired), req(FieldScopes, NeedOptional), req(FieldAudience, NeedPreset),
		req(FieldAuthURL, NeedPreset), req(FieldTokenURL, NeedPreset),
		hide(FieldRevokeURL, NeedOptional), hide(FieldUserInfoURL, NeedOptional), hide(FieldIssuer, NeedOptional),
		hide(FieldAPIBaseURL, NeedOptional),
	}},
	accounts.KindOwner: {accounts.GrantCode: {
		req(FieldName, NeedOptional), req(FieldEmail, NeedOptional), req(FieldScopes, NeedOptional),
		req(FieldRedirectURI, NeedPreset), req(FieldAuthURL, NeedPreset), req(FieldTokenURL, NeedPreset),
		hide(FieldClientID, NeedPreset), hide(FieldRevokeURL, NeedOptional), hide(FieldUserInfoURL, NeedOptional),
		hide(FieldIssuer, NeedOptional), hide(FieldAPIBaseURL, NeedOptional),
	}},
	accounts.KindPartner: {accounts.GrantClientCredentials: {
		req(FieldName, NeedOptional), req(FieldClientID, NeedRequired), req(FieldClientSecret, NeedRequired),
		req(FieldAuthCode, NeedOptional), req(FieldScopes, NeedOptional), req(FieldAudience, NeedPreset),
		req(FieldTokenURL, NeedPreset), hide(FieldIssuer, NeedOptional), hide(FieldAPIBaseURL, NeedOptional),
	}},
	accounts.KindLegacy: {grantLegacy: {
		req(FieldName, NeedOptional), req(FieldEmail, NeedRequired), req(FieldPassword, NeedRequired),
		req(FieldClientID, NeedPreset), req(FieldClientSecret, NeedPreset), req(FieldBaseURL, NeedPreset),
	}},
	accounts.KindCustom: {
		accounts.GrantCode: {
			req(FieldName, NeedOptional), req(FieldIssuer, NeedOptional), req(FieldAuthURL, NeedDiscovered),
			req(FieldTokenURL, NeedDiscovered), req(FieldRevokeURL, NeedOptional), req(FieldClientID, NeedRequired),
			req(FieldClientSecret, NeedOptional), req(FieldScopes, NeedOptional), req(FieldRedirectURI, NeedOptional),
			req(FieldAudience, NeedOptional), hide(FieldUserInfoURL, NeedOptional),
		},
		accounts.GrantPassword: {
			req(FieldName, NeedOptional), req(FieldEmail, NeedRequired), req(FieldPassword, NeedRequired),
			req(FieldIssuer, NeedOptional), req(FieldTokenURL, NeedDiscovered), req(FieldRevokeURL, NeedOptional),
			req(FieldClientID, NeedRequired), req(FieldClientSecret, NeedOptional), req(FieldScopes, NeedOptional),
			hide(FieldUserInfoURL, NeedOptional),
		},
		accounts.GrantClientCredentials: {
			req(FieldName, NeedOptional), req(FieldIssuer, NeedOptional), req(FieldTokenURL, NeedDiscovered),
			req(FieldRevokeURL, NeedOptional), req(FieldClientID, NeedRequired), req(FieldClientSecret, NeedRequired),
			req(FieldScopes, NeedOptional), req(FieldAudience, NeedOptional),
		},
	},
}

// importTable lists the fields of an import per kind: what a refresh needs,
// and nothing a refresh does not use.
var importTable = map[accounts.Kind][]Requirement{
	accounts.KindFleet: {
		req(FieldName, NeedOptional), req(FieldRefreshToken, NeedRequired), req(FieldClientID, NeedRequired),
		req(FieldTokenURL, NeedPreset), hide(FieldClientSecret, NeedOptional), hide(FieldScopes, NeedOptional),
		hide(FieldAudience, NeedOptional), hide(FieldRevokeURL, NeedOptional), hide(FieldUserInfoURL, NeedOptional),
		hide(FieldIssuer, NeedOptional), hide(FieldAPIBaseURL, NeedOptional),
	},
	accounts.KindOwner: {
		req(FieldName, NeedOptional), req(FieldRefreshToken, NeedRequired), req(FieldClientID, NeedPreset),
		req(FieldTokenURL, NeedPreset), hide(FieldScopes, NeedOptional), hide(FieldRevokeURL, NeedOptional),
		hide(FieldUserInfoURL, NeedOptional), hide(FieldIssuer, NeedOptional), hide(FieldAPIBaseURL, NeedOptional),
	},
	accounts.KindLegacy: {
		req(FieldName, NeedOptional), req(FieldRefreshToken, NeedRequired), req(FieldClientID, NeedPreset),
		req(FieldClientSecret, NeedPreset), req(FieldBaseURL, NeedPreset),
	},
	accounts.KindCustom: {
		req(FieldName, NeedOptional), req(FieldRefreshToken, NeedRequired), req(FieldIssuer, NeedOptional),
		req(FieldTokenURL, NeedDiscovered), req(FieldRevokeURL, NeedOptional), req(FieldClientID, NeedRequired),
		req(FieldClientSecret, NeedOptional), hide(FieldScopes, NeedOptional), hide(FieldUserInfoURL, NeedOptional),
	},
}

// Requirements lists the fields of a login or import of kind k (with
// grant, for custom accounts; "" is code) in form order. It is nil when the
// kind, or the grant, has no such form: partner tokens cannot be imported,
// since they come with no refresh token.
func Requirements(p Purpose, k accounts.Kind, grant string) []Requirement {
	if p == PurposeImport {
		return importTable[k]
	}
	return loginTable[k][kindGrant(k, grant)]
}

// FieldError is a problem with one field of an account. Problem says what
// is wrong without the remedy, since the remedy depends on the face: the
// command line names the flag, the TUI focuses the form field. A plain
// http endpoint off loopback also matches ErrInsecureHTTP (errors.Is), for
// the faces to offer their opt-in.
type FieldError struct {
	Field   Field
	Problem string
	cause   error
}

// Error implements error.
func (e *FieldError) Error() string { return e.Problem }

// Unwrap returns the sentinel the problem matches, if any.
func (e *FieldError) Unwrap() error { return e.cause }

func fieldErr(f Field, format string, args ...any) *FieldError {
	return &FieldError{Field: f, Problem: fmt.Sprintf(format, args...)}
}
