package oauth

import "regexp"

// LoginOptions are the choices of one login that are not kept with the
// account. The faces fill them from flags or wizard fields, through
// Request.Options.
type LoginOptions struct {
	// AllowInsecureHTTP lets this login use plain http endpoints (and an
	// http issuer) off loopback: the user's explicit opt-in, which the
	// faces warn about. Stored accounts get it from
	// Engine.AllowInsecureHTTP.
	AllowInsecureHTTP bool
	// Locale asks the sign-in page for a language, e.g. "de-DE": Tesla's
	// locale parameter (custom servers get OIDC's ui_locales).
	Locale string
	// RequireRequestedScopes asks Tesla to refuse the consent unless the
	// user grants every requested scope (require_requested_scopes=true),
	// instead of silently granting fewer. Fleet accounts only.
	RequireRequestedScopes bool
}

// localeRe accepts language tags such as "en", "de-DE", "zh_CN",
// "zh-Hant-TW".
var localeRe = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$`)

// check validates the options that have a form.
func (o LoginOptions) check() error {
	if o.Locale != "" && !localeRe.MatchString(o.Locale) {
		return fieldErr(FieldLocale, "the locale %q is not a language tag such as en-US or de-DE", cleanText(o.Locale, 40))
	}
	return nil
}
