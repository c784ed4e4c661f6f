package wizard

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// fieldText is how the form presents a field: its label, the placeholder
// of an empty input and the help line under the form.
type fieldText struct{ label, placeholder, help string }

// fieldTexts word every field the requirements table can show.
var fieldTexts = map[oauth.Field]fieldText{
	oauth.FieldName:         {"Name", "optional — the email's name by default", "What keyfob calls the account; keyfob token NAME uses it."},
	oauth.FieldEmail:        {"Email", "the Tesla account's email", "The email of the account."},
	oauth.FieldPassword:     {"Password", "", "Sent once to the token endpoint and never stored."},
	oauth.FieldClientID:     {"Client ID", "your app's client id", "The client id of your app (developer.tesla.com for Fleet API apps)."},
	oauth.FieldClientSecret: {"Secret", "none", "The client secret; open-source (PKCE) apps have none. Stored in the account file (0600)."},
	oauth.FieldScopes:       {"Scopes", "space separated", "Scopes to ask for; the server may grant fewer — the detail view shows what it granted."},
	oauth.FieldRedirectURI:  {"Redirect URI", "empty: 127.0.0.1, any free port", "Must match a redirect URI registered for the app. A loopback http URI (or empty) lets keyfob catch the answer itself."},
	oauth.FieldAudience:     {"Audience", "Fleet API base URL", "The Fleet API base URL of the account's region."},
	oauth.FieldAuthURL:      {"Auth URL", "authorize endpoint", "Where the browser signs in."},
	oauth.FieldTokenURL:     {"Token URL", "token endpoint", "Where codes and refresh tokens are exchanged."},
	oauth.FieldRevokeURL:    {"Revoke URL", "none", "An RFC 7009 revocation endpoint, if the server has one."},
	oauth.FieldUserInfoURL:  {"User info", "userinfo endpoint", "Where keyfob learns the account's email after signing in."},
	oauth.FieldBaseURL:      {"Owner API", "base URL", "The owner-api host; /oauth/token and /oauth/revoke hang off it."},
	oauth.FieldIssuer:       {"Issuer", "optional — fills the URLs", "An OpenID issuer URL: keyfob reads its discovery document to fill the empty endpoints."},
	oauth.FieldRefreshToken: {"Refresh token", "paste it here", "The refresh token to import. keyfob refreshes it at once, which proves it works and rotates it."},
}

// textOf is the wording of field f.
func textOf(f oauth.Field) fieldText {
	if t, ok := fieldTexts[f]; ok {
		return t
	}
	return fieldText{label: string(f)}
}

// choice is one line of a chooser page.
type choice struct{ value, desc string }

// importKinds are the kinds whose tokens can be imported: partner tokens
// come with no refresh token.
var importKinds = []accounts.Kind{accounts.KindFleet, accounts.KindOwner, accounts.KindLegacy, accounts.KindCustom}

var (
	regions = []string{"na", "eu", "cn"}
	grants  = []string{accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials}
)

// field is one input of the form and its row of the requirements table.
type field struct {
	req   oauth.Requirement
	input textinput.Model
}

// form is the fields the requirements table shows for a kind and grant,
// in its order, and the one with the focus.
type form struct {
	fields []field
	focus  int
}

// newForm builds the form of the shown (not hidden) requirements, each
// input width cells wide and holding the preset's value.
func newForm(reqs []oauth.Requirement, preset accounts.Account, width int) form {
	var f form
	for _, r := range reqs {
		if r.Hidden {
			continue
		}
		t := textOf(r.Field)
		in := textinput.New()
		in.Prompt = ""
		in.Placeholder = t.placeholder
		in.CharLimit = 4096
		if r.Field.Secret() {
			in.EchoMode = textinput.EchoPassword
			in.EchoCharacter = '•'
		}
		in.SetWidth(width)
		in.SetValue(presetValue(preset, r.Field))
		in.CursorStart()
		f.fields = append(f.fields, field{req: r, input: in})
	}
	return f
}

// presetValue is a field's value in the preset account.
func presetValue(a accounts.Account, f oauth.Field) string {
	switch f {
	case oauth.FieldName:
		return a.Name
	case oauth.FieldEmail:
		return a.Email
	case oauth.FieldClientID:
		return a.ClientID
	case oauth.FieldClientSecret:
		return a.ClientSecret
	case oauth.FieldScopes:
		return strings.Join(a.RequestedScopes, " ")
	case oauth.FieldRedirectURI:
		return a.Endpoints.RedirectURI
	case oauth.FieldAudience:
		return a.Audience
	case oauth.FieldAuthURL:
		return a.Endpoints.AuthURL
	case oauth.FieldTokenURL:
		return a.Endpoints.TokenURL
	case oauth.FieldRevokeURL:
		return a.Endpoints.RevokeURL
	case oauth.FieldUserInfoURL:
		return a.Endpoints.UserInfoURL
	case oauth.FieldBaseURL:
		return a.Endpoints.BaseURL
	}
	return ""
}

// index is the position of field f in the form, or -1.
func (f *form) index(fd oauth.Field) int {
	for i, x := range f.fields {
		if x.req.Field == fd {
			return i
		}
	}
	return -1
}

// value is the trimmed value of field fd, "" when the form lacks it.
func (f *form) value(fd oauth.Field) string {
	if i := f.index(fd); i >= 0 {
		return strings.TrimSpace(f.fields[i].input.Value())
	}
	return ""
}

// fill sets field fd to v when it is in the form and empty.
func (f *form) fill(fd oauth.Field, v string) {
	if i := f.index(fd); i >= 0 && strings.TrimSpace(f.fields[i].input.Value()) == "" && v != "" {
		f.fields[i].input.SetValue(v)
	}
}

// start is where the focus starts: the first required field the preset
// left empty, else the first field.
func (f *form) start() int {
	for i, x := range f.fields {
		if x.req.Need == oauth.NeedRequired && x.input.Value() == "" {
			return i
		}
	}
	return 0
}

// missing is the first required field left empty, or -1.
func (f *form) missing() int {
	for i, x := range f.fields {
		if x.req.Need == oauth.NeedRequired && strings.TrimSpace(x.input.Value()) == "" {
			return i
		}
	}
	return -1
}

// needsDiscovery reports whether a field that an issuer's discovery
// document fills is empty.
func (f *form) needsDiscovery() bool {
	for _, x := range f.fields {
		if x.req.Need == oauth.NeedDiscovered && strings.TrimSpace(x.input.Value()) == "" {
			return true
		}
	}
	return false
}

// inputs are the form's values by field, as oauth.Logins takes them.
func (f *form) inputs() oauth.Inputs {
	in := make(oauth.Inputs, len(f.fields))
	for _, x := range f.fields {
		in[x.req.Field] = x.input.Value()
	}
	return in
}

// focusOn moves the focus to field i (wrapping around).
func (f *form) focusOn(i int) tea.Cmd {
	if len(f.fields) == 0 {
		return nil
	}
	i = (i + len(f.fields)) % len(f.fields)
	for j := range f.fields {
		f.fields[j].input.Blur()
		f.fields[j].input.CursorStart()
	}
	f.focus = i
	f.fields[i].input.CursorEnd()
	return f.fields[i].input.Focus()
}

// update feeds the focused input.
func (f *form) update(msg tea.Msg) tea.Cmd {
	if f.focus >= len(f.fields) {
		return nil
	}
	var cmd tea.Cmd
	f.fields[f.focus].input, cmd = f.fields[f.focus].input.Update(msg)
	return cmd
}
