package oauth

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/keyfob/keyfob/accounts"
)

// grantLegacy is the legacy kind's JSON password grant.
const grantLegacy = "legacy"

// Validate checks that a has what a login (or, for PurposeImport, a
// refresh) of its kind and grant needs, as the requirements table says, and
// that its URLs are usable: absolute, and https unless they are on this
// machine (loopback). Secrets that are asked for after validation (the
// password, the refresh token of an import) are not checked here. Its
// error is a *FieldError naming the field to fix.
func Validate(p Purpose, a accounts.Account) error {
	return ValidateWith(p, a, LoginOptions{})
}

// ValidateWith is Validate for a login or import with options o: with
// o.AllowInsecureHTTP plain http URLs off loopback pass; o.Locale must
// look like a language tag.
func ValidateWith(p Purpose, a accounts.Account, o LoginOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if !a.Kind.Valid() {
		return fieldErr(FieldKind, "unknown account kind %q; the kinds are fleet, owner, partner, legacy and custom", cleanText(string(a.Kind), 40))
	}
	grant := GrantOf(a)
	reqs := Requirements(p, a.Kind, grant)
	switch {
	case reqs == nil && p == PurposeImport:
		return fieldErr(FieldKind, "%s accounts get no refresh token, so there is none to import; log in instead", a.Kind)
	case reqs == nil:
		return fieldErr(FieldGrant, "unknown grant %q for a custom account; the grants are code, password and client_credentials", cleanText(a.Grant, 40))
	}
	for _, r := range reqs {
		v := Value(a, r.Field)
		if r.Need != NeedOptional && v == "" && !askedLater(r.Field) {
			return missingField(a.Kind, r.Field)
		}
		if err := checkField(a, r.Field, v, o.AllowInsecureHTTP); err != nil {
			return err
		}
	}
	return nil
}

// missingField is the error of a required field left empty.
func missingField(k accounts.Kind, f Field) error {
	if k == accounts.KindFleet && f == FieldRedirectURI {
		return fieldErr(f, "a fleet account needs the redirect URI registered for its app, which Tesla matches exactly; a loopback one with a free port, e.g. http://localhost:8976/callback, lets keyfob catch the answer itself")
	}
	return fieldErr(f, "a %s account needs %s", k, f.Noun())
}

// askedLater reports the fields a face asks for only once the rest is
// valid (so that a bad flag fails before a prompt): the email and password
// of a password grant and the refresh token of an import.
func askedLater(f Field) bool {
	return f == FieldEmail || f == FieldPassword || f == FieldRefreshToken
}

// checkField checks the form of one value that is set.
func checkField(a accounts.Account, f Field, v string, allowHTTP bool) error {
	if v == "" {
		return nil
	}
	switch f {
	case FieldName:
		if err := accounts.ValidateName(v); err != nil {
			return &FieldError{Field: f, Problem: err.Error()}
		}
	case FieldAuthURL, FieldTokenURL, FieldRevokeURL, FieldUserInfoURL, FieldBaseURL, FieldAPIBaseURL:
		if err := checkURL(v); err != nil {
			return fieldErr(f, "%s of this %s account %s", f.Noun(), a.Kind, err)
		}
		return checkSecure(f, v, allowHTTP)
	case FieldRedirectURI:
		if _, err := redirectPlan(v, a.Kind == accounts.KindFleet); err != nil {
			return err
		}
	}
	return nil
}

// checkURL accepts absolute http and https URLs.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("is not a valid URL (%s)", urlProblem(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("is not an http or https URL")
	case u.Host == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not carry a user name or password")
	}
	return nil
}
