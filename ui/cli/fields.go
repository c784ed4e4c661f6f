package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// fieldFlag is a login or import flag that sets one field of the
// requirements table (oauth.Requirements).
type fieldFlag struct {
	name  string
	field oauth.Field
	usage string
}

// fieldFlags are the flags of the fields that may come from argv; the
// secrets come from the environment, a file or stdin (see secretFlag).
var fieldFlags = []fieldFlag{
	{"name", oauth.FieldName, "name for the account (default: from its email)"},
	{"client-id", oauth.FieldClientID, "your app's OAuth client id (owner and legacy have defaults)"},
	{"scopes", oauth.FieldScopes, "scopes to request, space or comma separated (default: the kind's)"},
	{"audience", oauth.FieldAudience, "audience (default: the region's Fleet API URL)"},
	{"redirect-uri", oauth.FieldRedirectURI, "the app's registered redirect URI (fleet: required once, then remembered per client id)"},
	{"issuer", oauth.FieldIssuer, "read every endpoint from ISSUER/.well-known/openid-configuration"},
	{"auth-url", oauth.FieldAuthURL, "authorization endpoint"},
	{"token-url", oauth.FieldTokenURL, "token endpoint"},
	{"revoke-url", oauth.FieldRevokeURL, "revocation endpoint (RFC 7009)"},
	{"userinfo-url", oauth.FieldUserInfoURL, "userinfo endpoint (used to learn the email)"},
	{"base-url", oauth.FieldBaseURL, "legacy owner-api base URL"},
	{"api-base-url", oauth.FieldAPIBaseURL, "where keyfob calls the API (check, partner), when not the audience: the sandbox's, a proxy's"},
	{"email", oauth.FieldEmail, "email (legacy password login; login hint for owner)"},
}

// secretFlag names the client secret's file, and authCodeFlag a business
// auth code's; the secrets themselves never come from argv.
const (
	secretFlag   = "client-secret-file"
	authCodeFlag = "auth-code-file"
)

// fieldFix says how to fix each field on the command line: a flag, the
// environment or stdin. It completes a *oauth.FieldError, whose problem
// carries no remedy.
var fieldFix = map[oauth.Field]string{
	oauth.FieldName:         "choose another with --name",
	oauth.FieldEmail:        "pass --email",
	oauth.FieldPassword:     "pipe it on stdin or type it at the prompt",
	oauth.FieldClientID:     "pass --client-id (your app's id from the provider's developer site)",
	oauth.FieldClientSecret: "set " + EnvClientSecret + " or pass --" + secretFlag,
	oauth.FieldAuthCode:     "set " + EnvAuthCode + " or pass --" + authCodeFlag,
	oauth.FieldScopes:       "fix --scopes",
	oauth.FieldRedirectURI:  "fix --redirect-uri",
	oauth.FieldAudience:     "pass --audience or --region",
	oauth.FieldAuthURL:      "pass --auth-url (or --issuer)",
	oauth.FieldTokenURL:     "pass --token-url (or --issuer)",
	oauth.FieldRevokeURL:    "fix --revoke-url",
	oauth.FieldUserInfoURL:  "fix --userinfo-url",
	oauth.FieldBaseURL:      "pass --base-url",
	oauth.FieldAPIBaseURL:   "fix --api-base-url",
	oauth.FieldIssuer:       "fix --issuer",
	oauth.FieldRefreshToken: "pipe it on stdin (keyfob import … < token.txt) or paste it at the prompt",
	oauth.FieldKind:         "pass one of them with --kind",
	oauth.FieldRegion:       "pass it with --region",
	oauth.FieldGrant:        "pass --grant code, password or client_credentials",
}

// AccountInputs are the flags login and import share.
type AccountInputs struct {
	Kind, Region string
	// Grant is --grant, for custom accounts ("" is code).
	Grant string
	// Inputs holds the field flags that were given, by field (a flag given
	// empty is there, empty).
	Inputs oauth.Inputs
	// ClientSecretFile is --client-secret-file ("-" is stdin).
	ClientSecretFile string
	// AuthCodeFile is --auth-code-file ("-" is stdin): a business's
	// consent, for a third-party business token.
	AuthCodeFile string
	// InsecureHTTP is --insecure-http: plain http endpoints off loopback
	// are allowed for this account.
	InsecureHTTP bool

	// kindGiven, regionGiven and grantGiven say which of --kind, --region
	// and --grant were given.
	kindGiven, regionGiven, grantGiven bool
	values                             map[oauth.Field]*string
}

func (in *AccountInputs) register(fl *pflag.FlagSet) {
	fl.StringVar(&in.Kind, "kind", string(accounts.KindFleet), "account kind: fleet, owner, partner, legacy or custom")
	fl.StringVar(&in.Region, "region", "na", "Tesla region: na, eu or cn")
	fl.StringVar(&in.Grant, "grant", "", "custom kind: code (the default), password or client_credentials")
	in.values = map[oauth.Field]*string{}
	for _, ff := range fieldFlags {
		in.values[ff.field] = fl.String(ff.name, "", ff.usage)
	}
	fl.StringVar(&in.ClientSecretFile, secretFlag, "",
		"read the client secret from this file (- for stdin); else $"+EnvClientSecret)
	fl.StringVar(&in.AuthCodeFile, authCodeFlag, "",
		"partner: read a business's auth code (Tesla for Business consent management) from this file (- for stdin); else $"+
			EnvAuthCode+"; the login then gets a third-party business token")
	fl.BoolVar(&in.InsecureHTTP, insecureFlag, false,
		"allow plain http endpoints on other machines (anyone on the way can read the tokens); kept with the account")
}

// insecureFlag lets a login or import use plain http off loopback.
const insecureFlag = "insecure-http"

// collect fills Inputs from the field flags that were given.
func (in *AccountInputs) collect(fl *pflag.FlagSet) {
	in.Inputs = oauth.Inputs{}
	in.kindGiven, in.regionGiven, in.grantGiven = fl.Changed("kind"), fl.Changed("region"), fl.Changed("grant")
	for _, ff := range fieldFlags {
		if fl.Changed(ff.name) {
			in.Inputs[ff.field] = *in.values[ff.field]
		}
	}
}

func (in *AccountInputs) kind() accounts.Kind { return accounts.Kind(strings.ToLower(in.Kind)) }

// refuse refuses the flags that name a field the requirements table does
// not list for this purpose, kind and grant: they would be ignored.
func (in *AccountInputs) refuse(p oauth.Purpose) error {
	k := in.kind()
	if in.Grant != "" && k.Valid() && k != accounts.KindCustom {
		return usagef("--grant applies to custom accounts only; a %s account signs in its own way", k)
	}
	reqs := oauth.Requirements(p, k, in.Grant)
	if reqs == nil {
		return nil // an unknown kind or grant: Prepare says so
	}
	refused := ""
	for _, ff := range fieldFlags {
		if _, given := in.Inputs[ff.field]; given && !lists(reqs, ff.field) {
			refused = "--" + ff.name
			break
		}
	}
	if refused == "" && in.ClientSecretFile != "" && !lists(reqs, oauth.FieldClientSecret) {
		refused = "--" + secretFlag
	}
	if refused == "" && in.AuthCodeFile != "" && !lists(reqs, oauth.FieldAuthCode) {
		refused = "--" + authCodeFlag
	}
	if refused == "" {
		return nil
	}
	return usagef("%s does not apply to %s, which takes %s", refused, purposeOf(p, k, in.Grant), flagsOf(reqs))
}

// purposeOf names a login or import for a message: "a fleet login",
// "a custom login with --grant password", "importing an owner account".
func purposeOf(p oauth.Purpose, k accounts.Kind, grant string) string {
	if p == oauth.PurposeImport {
		return "importing " + article(string(k)) + " account"
	}
	if k == accounts.KindCustom && grant != "" && grant != accounts.GrantCode {
		return "a custom login with --grant " + grant
	}
	return article(string(k)) + " login"
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// lists reports whether the form reqs has field f.
func lists(reqs []oauth.Requirement, f oauth.Field) bool {
	return slices.ContainsFunc(reqs, func(r oauth.Requirement) bool { return r.Field == f })
}

// flagsOf lists the flags of the fields of a form.
func flagsOf(reqs []oauth.Requirement) string {
	var out []string
	for _, ff := range fieldFlags {
		if lists(reqs, ff.field) {
			out = append(out, "--"+ff.name)
		}
	}
	if lists(reqs, oauth.FieldClientSecret) {
		out = append(out, "--"+secretFlag)
	}
	if lists(reqs, oauth.FieldAuthCode) {
		out = append(out, "--"+authCodeFlag)
	}
	return strings.Join(out, ", ")
}

// inputSource reads what the flags leave to the environment and stdin.
type inputSource struct {
	getenv   func(string) string
	prompter func() *Prompter
}

// prepare checks the flags against the requirements table, reads the
// client secret where the form has one, and prepares the account. A field
// at fault becomes a usage error naming the flag that fixes it.
func (in *AccountInputs) prepare(ctx context.Context, l *oauth.Logins, p oauth.Purpose, src inputSource, opts oauth.LoginOptions) (oauth.Prepared, error) {
	if err := in.refuse(p); err != nil {
		return oauth.Prepared{}, err
	}
	inputs := maps.Clone(in.Inputs)
	if in.ClientSecretFile == "-" && in.AuthCodeFile == "-" {
		return oauth.Prepared{}, usagef("--%s and --%s cannot both read stdin; give one of them a file", secretFlag, authCodeFlag)
	}
	reqs := oauth.Requirements(p, in.kind(), in.Grant)
	for _, s := range []struct {
		field     oauth.Field
		file, env string
	}{{oauth.FieldClientSecret, in.ClientSecretFile, EnvClientSecret}, {oauth.FieldAuthCode, in.AuthCodeFile, EnvAuthCode}} {
		if !lists(reqs, s.field) {
			continue
		}
		secret, err := secretInput(src, s.file, s.env, s.field)
		if err != nil {
			return oauth.Prepared{}, err
		}
		if secret != "" {
			inputs[s.field] = secret
		}
	}
	opts.AllowInsecureHTTP = in.InsecureHTTP
	prep, err := l.Prepare(ctx, oauth.Request{Purpose: p, Kind: in.kind(), Region: in.Region, Grant: in.Grant,
		Inputs: inputs, Options: opts})
	if err != nil {
		return prep, in.withFieldFix(err, p)
	}
	return prep, nil
}

// notePrepared tells on w what the login or import will do that the flags
// did not say: the redirect URI remembered for the app, and what
// --insecure-http means for this account.
func (in *AccountInputs) notePrepared(w io.Writer, prep oauth.Prepared) {
	a := prep.Account
	if _, given := in.Inputs[oauth.FieldRedirectURI]; !given && a.Kind == accounts.KindFleet && a.Endpoints.RedirectURI != "" {
		fprintf(w, "keyfob: note: using the redirect URI remembered for this app: %s (--redirect-uri gives another)\n",
			present.Clean(a.Endpoints.RedirectURI))
	}
	if !in.InsecureHTTP {
		return
	}
	if oauth.NeedsInsecureHTTP(a) {
		fprintln(w, "keyfob: warning: --insecure-http: this account's tokens and secrets travel in clear text to a plain http")
		fprintln(w, "  endpoint on another machine, where anyone on the network path can read and use them. keyfob keeps")
		fprintln(w, "  this choice with the account, for its refreshes; use https endpoints wherever the server offers them.")
		return
	}
	fprintln(w, "keyfob: note: --insecure-http was not needed: every endpoint is https or on this machine, and the account keeps https only.")
}

// secretInput reads the secret field from file ("-" is stdin), else from
// the environment variable env — never from argv.
func secretInput(src inputSource, file, env string, field oauth.Field) (string, error) {
	switch file {
	case "":
		return strings.TrimSpace(src.getenv(env)), nil
	case "-":
		return src.prompter().All(field.Noun())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read the %s file: %w", field.Label(), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// withFieldFix turns a *oauth.FieldError into a usage error that adds the
// flag (or the environment variable, or stdin) that fixes the field: for a
// plain http endpoint, --insecure-http; for a fleet app's redirect URI
// left out, where to find it.
func (in *AccountInputs) withFieldFix(err error, p oauth.Purpose) error {
	var fe *oauth.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	k := in.kind()
	_, redirectGiven := in.Inputs[oauth.FieldRedirectURI]
	switch {
	case fe.Field == oauth.FieldKind && p == oauth.PurposeImport && k.Valid():
		// A kind with no refresh token to import.
		return usageError{err: fmt.Errorf("%w: keyfob login --kind %s", err, k)}
	case errors.Is(err, oauth.ErrInsecureHTTP):
		return usageError{err: fmt.Errorf("%w; --%s accepts that risk", err, insecureFlag), advised: true}
	case fe.Field == oauth.FieldRedirectURI && k == accounts.KindFleet && !redirectGiven:
		return usageError{err: fmt.Errorf("%w; pass it with --redirect-uri (your app's page on developer.tesla.com lists it, or add one there); keyfob remembers it for the app's next login", err), advised: true}
	}
	if fix := fieldFix[fe.Field]; fix != "" {
		return usageError{err: fmt.Errorf("%w; %s", err, fix)}
	}
	return usageError{err: err}
}
