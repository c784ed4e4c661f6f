package present

import (
	"strings"

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
