package oauth

import (
	"strings"

	"github.com/keyfob/keyfob/accounts"
)

// Label is how a sentence names the field, without an article: "token
// URL", "client id".
func (f Field) Label() string {
	switch f {
	case FieldClientID:
		return "client id"
	case FieldClientSecret:
		return "client secret"
	case FieldRedirectURI:
		return "redirect URI"
	case FieldAuthURL:
		return "authorization URL"
	case FieldTokenURL:
		return "token URL"
	case FieldRevokeURL:
		return "revocation URL"
	case FieldUserInfoURL:
		return "userinfo URL"
	case FieldBaseURL:
		return "owner-api base URL"
	case FieldAPIBaseURL:
		return "API base URL"
	case FieldRefreshToken:
		return "refresh token"
	case FieldAuthCode:
		return "business auth code"
	}
	return strings.ReplaceAll(string(f), "_", " ")
}

// Noun is how a message names the field: "the client id".
func (f Field) Noun() string {
	switch f {
	case FieldAudience:
		return "the audience (the Fleet API URL of its region)"
	case FieldAPIBaseURL:
		return "the API base URL (where keyfob calls the API)"
	}
	return "the " + f.Label()
}

// Value is the value of field f on a: "" for the fields that are not kept
// on an account (the password, the issuer, the grant) and for those that
// are not strings.
func Value(a accounts.Account, f Field) string {
	if f == FieldScopes {
		return strings.Join(a.RequestedScopes, " ")
	}
	if p := stringField(&a, f); p != nil {
		return *p
	}
	return ""
}

// Set stores v as field f of a; the fields Value does not know are left
// alone. Scopes are parsed (space or comma separated); a refresh token
// pasted over several lines is one token.
func Set(a *accounts.Account, f Field, v string) {
	switch f {
	case FieldScopes:
		a.RequestedScopes = accounts.ParseScopes(v)
		return
	case FieldRefreshToken:
		v = strings.Join(strings.Fields(v), "")
	}
	if p := stringField(a, f); p != nil {
		*p = v
	}
}

// stringField is where a keeps the string field f, or nil.
func stringField(a *accounts.Account, f Field) *string {
	switch f {
	case FieldName:
		return &a.Name
	case FieldEmail:
		return &a.Email
	case FieldClientID:
		return &a.ClientID
	case FieldClientSecret:
		return &a.ClientSecret
	case FieldRegion:
		return &a.Region
	case FieldAudience:
		return &a.Audience
	case FieldRedirectURI:
		return &a.Endpoints.RedirectURI
	case FieldAuthURL:
		return &a.Endpoints.AuthURL
	case FieldTokenURL:
		return &a.Endpoints.TokenURL
	case FieldRevokeURL:
		return &a.Endpoints.RevokeURL
	case FieldUserInfoURL:
		return &a.Endpoints.UserInfoURL
	case FieldBaseURL:
		return &a.Endpoints.BaseURL
	case FieldAPIBaseURL:
		return &a.Endpoints.APIBaseURL
	case FieldRefreshToken:
		return &a.RefreshToken
	case FieldAuthCode:
		return &a.AuthCode
	}
	return nil
}
