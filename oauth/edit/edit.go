// Package edit changes the settings of a saved account — its endpoints,
// redirect URI, region, audience or name — the same way for the command
// line (`keyfob edit`) and the TUI's edit form. Run Apply inside
// accounts.Manager.Edit, which holds the store's lock and keeps the
// account's tokens: a moved token host then needs no new login.
package edit

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// Fields are the fields an edit changes, in the order forms show them.
var Fields = []oauth.Field{
	oauth.FieldName, oauth.FieldRegion, oauth.FieldAudience, oauth.FieldAuthURL, oauth.FieldTokenURL,
	oauth.FieldRevokeURL, oauth.FieldUserInfoURL, oauth.FieldBaseURL, oauth.FieldAPIBaseURL, oauth.FieldRedirectURI,
}

// moving are the fields a Tesla region's preset sets, which follow a
// change of region.
var moving = []oauth.Field{
	oauth.FieldAudience, oauth.FieldAuthURL, oauth.FieldTokenURL, oauth.FieldRevokeURL, oauth.FieldUserInfoURL, oauth.FieldBaseURL,
	oauth.FieldAPIBaseURL,
}

// Changes are the values the user gave, by field; a field that is absent
// stays as it is, and an empty value clears an optional field.
type Changes map[oauth.Field]string

// Presets returns the defaults of a kind in a region: oauth.Preset, or
// oauth.Logins.Preset where the presets point elsewhere (keyfob demo).
type Presets func(k accounts.Kind, region string) (accounts.Account, error)

// Tesla reports whether k is one of Tesla's kinds, which have regions.
func Tesla(k accounts.Kind) bool {
	return k == accounts.KindFleet || k == accounts.KindOwner || k == accounts.KindPartner || k == accounts.KindLegacy
}

// Applies reports whether field f means anything for a: the name always,
// the region for Tesla's kinds, any other field when a login or an import
// of a's kind uses it (or a already has a value for it).
func Applies(a accounts.Account, f oauth.Field) bool {
	switch f {
	case oauth.FieldName:
		return true
	case oauth.FieldRegion:
		return Tesla(a.Kind)
	}
	if oauth.Value(a, f) != "" {
		return true
	}
	grant := oauth.GrantOf(a)
	for _, p := range []oauth.Purpose{oauth.PurposeLogin, oauth.PurposeImport} {
		if slices.ContainsFunc(oauth.Requirements(p, a.Kind, grant), func(r oauth.Requirement) bool { return r.Field == f }) {
			return true
		}
	}
	return false
}

// Apply changes a as ch says and checks the result; on error a must be
// thrown away (Manager.Edit then writes nothing). A new region of a Tesla
// kind moves the region's preset endpoints and audience with it: every
// field that still holds the old region's preset value takes the new
// one's, except fields given in ch. Fields the user had set to something
// else stay, and a note says so. The result must
// hold what a refresh needs (oauth.Validate as for an import) and every
// URL it changed must be usable. The error is a *oauth.FieldError when a
// field is at fault.
//
// Some changes take the user's consent, given in c, and are otherwise
// refused with a *ConsentError that names the hosts: an endpoint over
// plain http to another machine, on a host the account's opt-in did not
// already cover; and for Tesla's kinds, an endpoint or audience moving to
// a host that is neither Tesla's (by exact name) nor one the account
// already used. The account's opt-in to plain http is recomputed: it stays
// only while one of its endpoints needs it, so an account edited back to
// https needs the consent again for the next plain http host.
func Apply(a *accounts.Account, ch Changes, presets Presets, c Consent) (notes []string, err error) {
	if presets == nil {
		presets = oauth.Preset
	}
	for f := range ch {
		if !slices.Contains(Fields, f) {
			return nil, &oauth.FieldError{Field: f, Problem: fmt.Sprintf("an edit cannot change %s", f.Noun())}
		}
		if !Applies(*a, f) {
			return nil, &oauth.FieldError{Field: f, Problem: fmt.Sprintf("a %s account has no %s", a.Kind, f.Label())}
		}
	}
	before := *a
	if r, ok := ch[oauth.FieldRegion]; ok {
		if notes, err = moveRegion(a, strings.ToLower(strings.TrimSpace(r)), ch, presets); err != nil {
			return nil, err
		}
	}
	for f, v := range ch {
		if f != oauth.FieldRegion {
			oauth.Set(a, f, strings.TrimSpace(v))
		}
	}
	for _, d := range Diff(before, *a) {
		// Plain http is the consent's question, asked below with the hosts.
		if err := checkForm(d.Field, d.New, true); err != nil {
			return nil, err
		}
		if (d.Field == oauth.FieldAudience && Tesla(a.Kind)) || d.Field == oauth.FieldAPIBaseURL {
			// An API base's plain http off loopback is the consent's
			// question too; an audience's never travels.
			if err := checkBase(d.Field, d.New, d.Field == oauth.FieldAPIBaseURL); err != nil {
				return nil, err
			}
		}
	}
	if err := checkConsent(before, a, c); err != nil {
		return nil, err
	}
	return notes, oauth.ValidateWith(purposeOf(*a), *a, oauth.LoginOptions{AllowInsecureHTTP: a.AllowInsecureHTTP})
}

// moveRegion sets a's region and moves the preset fields with it: a field
// that holds a region's preset value (the old region's, or another's left
// behind) takes the new region's; a Fleet API base moves as the region
// correction moves it (oauth.MoveBase: the sandbox's per-region address).
// The region a already has realigns its fields the same way, so that
// `keyfob edit NAME --region eu` fixes an eu account left with North
// America's audience, as `keyfob check` advises.
func moveRegion(a *accounts.Account, region string, ch Changes, presets Presets) ([]string, error) {
	if region == "" {
		return nil, &oauth.FieldError{Field: oauth.FieldRegion, Problem: fmt.Sprintf("a %s account needs a region: na, eu or cn", a.Kind)}
	}
	next, err := presets(a.Kind, region)
	if err != nil {
		return nil, &oauth.FieldError{Field: oauth.FieldRegion, Problem: err.Error()}
	}
	var notes []string
	for _, f := range moving {
		if _, given := ch[f]; given {
			continue
		}
		cur, want := oauth.Value(*a, f), oauth.Value(next, f)
		moved := cur
		if f == oauth.FieldAudience || f == oauth.FieldAPIBaseURL {
			moved = oauth.MoveBase(cur, a.Region, region)
		}
		switch {
		case cur == want:
		case presetValue(a.Kind, f, cur, presets):
			oauth.Set(a, f, want)
		case moved != cur:
			oauth.Set(a, f, moved)
		case region != a.Region:
			notes = append(notes, fmt.Sprintf("kept the %s %s: it is not region %s's default, so it did not move; give it explicitly to change it",
				f.Label(), cur, a.Region))
		}
	}
	a.Region = region
	return notes, nil
}

// presetValue reports whether v is field f's value in the preset of a
// region of kind k: a value keyfob chose, which may move.
func presetValue(k accounts.Kind, f oauth.Field, v string, presets Presets) bool {
	for _, r := range oauth.Regions {
		if p, err := presets(k, r); err == nil && oauth.Value(p, f) == v {
			return true
		}
	}
	return false
}

// purposeOf is the form an edited account must still pass: what a
// refresh needs (an import's), or a login's for the kinds that get no
// refresh token.
func purposeOf(a accounts.Account) oauth.Purpose {
	if oauth.Requirements(oauth.PurposeImport, a.Kind, oauth.GrantOf(a)) == nil {
		return oauth.PurposeLogin
	}
	return oauth.PurposeImport
}

// probeURL fills the required endpoints of the probes of checkForm.
const probeURL = "https://keyfob.invalid/probe"

// checkForm checks the form of one changed value with the checks of a
// login, which cover every endpoint field: on a probe account that has
// nothing else to fault. allowHTTP is the account's opt-in to plain http
// off loopback.
func checkForm(f oauth.Field, v string, allowHTTP bool) error {
	switch {
	case v == "" || f == oauth.FieldName || f == oauth.FieldRegion:
		return nil
	case f == oauth.FieldAudience || f == oauth.FieldAPIBaseURL:
		// Tesla's audience is a Fleet API base URL; other servers may use
		// any identifier (checkBase).
		return nil
	}
	probe := accounts.Account{Kind: accounts.KindCustom, Grant: accounts.GrantCode, ClientID: "probe",
		Endpoints: accounts.Endpoints{AuthURL: probeURL, TokenURL: probeURL}}
	if f == oauth.FieldBaseURL {
		probe = accounts.Account{Kind: accounts.KindLegacy, ClientID: "probe", ClientSecret: "probe"}
	}
	oauth.Set(&probe, f, v)
	err := oauth.ValidateWith(oauth.PurposeLogin, probe, oauth.LoginOptions{AllowInsecureHTTP: allowHTTP})
	if fe, ok := err.(*oauth.FieldError); ok && fe.Field == f {
		fe.Problem = strings.Replace(fe.Problem, "this custom account", "this account", 1)
		fe.Problem = strings.Replace(fe.Problem, "this legacy account", "this account", 1)
		return fe
	}
	return nil
}

// Change is one field an edit changed.
type Change struct {
	Field    oauth.Field
	Old, New string
}

// Diff lists the fields of Fields whose values differ between before and
// after, in form order.
func Diff(before, after accounts.Account) []Change {
	var out []Change
	for _, f := range Fields {
		if o, n := oauth.Value(before, f), oauth.Value(after, f); o != n {
			out = append(out, Change{Field: f, Old: o, New: n})
		}
	}
	return out
}

// checkBase checks that a Tesla account's audience, or an account's API
// base, is a base URL: https (http on loopback only, unless allowHTTP),
// a host, nothing else.
func checkBase(f oauth.Field, v string, allowHTTP bool) error {
	u, err := url.Parse(v)
	switch {
	case v == "":
		return nil
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return &oauth.FieldError{Field: f, Problem: fmt.Sprintf("the %s %q is not a Fleet API base URL such as https://fleet-api.prd.na.vn.cloud.tesla.com", f.Label(), v)}
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return &oauth.FieldError{Field: f, Problem: "the " + f.Label() + " must be a bare base URL, without user, query or fragment"}
	case u.Scheme == "http" && !oauth.LoopbackHost(u.Host) && !allowHTTP:
		return &oauth.FieldError{Field: f, Problem: "the " + f.Label() + " must be an https URL (http only on loopback)"}
	}
	return nil
}
