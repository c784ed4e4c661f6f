package edit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// Consent is what the user accepted for one edit, after being told what
// it does (see ConsentError): `keyfob edit --insecure-http` and `--yes`,
// the TUI edit form's confirm step.
type Consent struct {
	// PlainHTTP accepts endpoints over plain http to hosts off this
	// machine that the account did not already reach so with the user's
	// opt-in.
	PlainHTTP bool
	// LeaveTesla accepts endpoints or an audience of a Tesla account on
	// hosts that are not Tesla's (nor already the account's).
	LeaveTesla bool
}

// ErrLeavesTesla matches (errors.Is) a ConsentError for a Tesla account
// whose endpoints or audience would move off Tesla's hosts.
var ErrLeavesTesla = errors.New("a Tesla account's endpoints moving off Tesla's hosts")

// HostChange is one field whose new value is on a host that needs the
// user's consent.
type HostChange struct {
	Field oauth.Field
	Host  string // host[:port], lower case
	URL   string // the new value
}

// ConsentError is Apply's refusal of an edit that needs the user's
// consent; nothing was changed. It matches oauth.ErrInsecureHTTP when
// PlainHTTP is set, and ErrLeavesTesla when OffTesla is.
type ConsentError struct {
	Account string
	// OffTesla are the fields of a Tesla account that would be on a host
	// that is not Tesla's; PlainHTTP those that would be reached over
	// plain http off this machine, on a host the account's opt-in did not
	// cover.
	OffTesla, PlainHTTP []HostChange
}

func (e *ConsentError) Error() string {
	var parts []string
	for _, c := range e.OffTesla {
		parts = append(parts, fmt.Sprintf("the %s would be on %s, which is not one of Tesla's hosts: %s", c.Field.Label(), c.Host, risk(c.Field)))
	}
	for _, c := range e.PlainHTTP {
		parts = append(parts, fmt.Sprintf("the %s would be plain http to %s, another machine: anyone on the way could read what is sent", c.Field.Label(), c.Host))
	}
	return fmt.Sprintf("%s: %s", e.Account, strings.Join(parts, "; "))
}

// Is makes the error match oauth.ErrInsecureHTTP and ErrLeavesTesla as
// its fields say.
func (e *ConsentError) Is(target error) bool {
	return (target == oauth.ErrInsecureHTTP && len(e.PlainHTTP) > 0) || (target == ErrLeavesTesla && len(e.OffTesla) > 0)
}

// Field is the first field at fault, for a form to focus.
func (e *ConsentError) Field() oauth.Field {
	if len(e.OffTesla) > 0 {
		return e.OffTesla[0].Field
	}
	return e.PlainHTTP[0].Field
}

// risk says what a host learns through field.
func risk(f oauth.Field) string {
	switch f {
	case oauth.FieldAuthURL:
		return "the sign-in page, where you type your Tesla password, would be that host's"
	case oauth.FieldAudience, oauth.FieldAPIBaseURL:
		return "the API requests, with the access token, would go there"
	case oauth.FieldUserInfoURL:
		return "the access token would be sent there"
	}
	return "the refresh token and client secret would be sent there"
}

// endpointFields are the fields whose URLs keyfob sends secrets or the
// user to.
var endpointFields = []oauth.Field{
	oauth.FieldAuthURL, oauth.FieldTokenURL, oauth.FieldRevokeURL, oauth.FieldUserInfoURL, oauth.FieldBaseURL,
	oauth.FieldAPIBaseURL,
}

// checkConsent compares after with before and fails with a ConsentError
// for what the user has not accepted; it recomputes after's opt-in to
// plain http: kept only while an endpoint needs it, and only for the
// hosts it covered or the user accepted in this edit.
func checkConsent(before accounts.Account, after *accounts.Account, c Consent) error {
	e := &ConsentError{Account: after.Name}
	known := hostsOf(before, append(slices.Clone(endpointFields), oauth.FieldAudience), func(string) bool { return true })
	plainBefore := map[string]bool{}
	if before.AllowInsecureHTTP {
		plainBefore = hostsOf(before, endpointFields, plainHTTP)
	}
	for _, f := range append(slices.Clone(endpointFields), oauth.FieldAudience) {
		v := oauth.Value(*after, f)
		host := oauth.HostPort(v)
		if v == "" || host == "" {
			continue
		}
		changed := v != oauth.Value(before, f)
		teslaOK := oauth.TeslaHost(v)
		if f == oauth.FieldAudience {
			teslaOK = oauth.FleetAPIHost(v)
		}
		if Tesla(after.Kind) && changed && !teslaOK && !known[host] && !c.LeaveTesla {
			e.OffTesla = append(e.OffTesla, HostChange{Field: f, Host: host, URL: v})
		}
		if f != oauth.FieldAudience && plainHTTP(v) && !plainBefore[host] && !c.PlainHTTP {
			e.PlainHTTP = append(e.PlainHTTP, HostChange{Field: f, Host: host, URL: v})
		}
	}
	if len(e.OffTesla)+len(e.PlainHTTP) > 0 {
		return e
	}
	after.AllowInsecureHTTP = oauth.NeedsInsecureHTTP(*after)
	return nil
}

// hostsOf is the set of hosts of a's fields whose values pass keep.
func hostsOf(a accounts.Account, fields []oauth.Field, keep func(string) bool) map[string]bool {
	out := map[string]bool{}
	for _, f := range fields {
		if v := oauth.Value(a, f); v != "" && keep(v) {
			if h := oauth.HostPort(v); h != "" {
				out[h] = true
			}
		}
	}
	return out
}

// plainHTTP reports whether raw is plain http off this machine.
func plainHTTP(raw string) bool {
	return oauth.NeedsInsecureHTTP(accounts.Account{Endpoints: accounts.Endpoints{TokenURL: raw}})
}
