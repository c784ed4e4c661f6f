// Package oauth is keyfob's OAuth engine: one implementation of every flow
// the account kinds need (authorization code with PKCE through a loopback
// listener or a pasted redirect URL, password, client credentials, refresh
// and revocation), Tesla presets per region, token inspection and typed,
// secret-free errors. It speaks to servers through golang.org/x/oauth2
// where the protocol is standard and through small JSON requests for the
// legacy owner-api endpoints.
//
// The package never stores anything: the accounts package owns the store
// and calls Engine through the accounts.Authority interface.
package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/keyfob/keyfob/accounts"
)

// DefaultTimeout bounds every HTTP call of an Engine without its own client.
const DefaultTimeout = 30 * time.Second

// defaultClient keeps Go's default transport, so HTTP/2 stays negotiable
// (some Tesla endpoints reject HTTP/1.1 token requests).
var defaultClient = &http.Client{Timeout: DefaultTimeout}

// Engine talks to authorization servers. The zero value works.
type Engine struct {
	// HTTPClient makes every request; nil means a client with a 30 s
	// overall timeout on http.DefaultTransport.
	HTTPClient *http.Client
	// OpenBrowser opens a URL for the code flows; nil means OpenBrowser.
	OpenBrowser func(url string) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ accounts.Authority = (*Engine)(nil)

func (e *Engine) client() *http.Client {
	if e != nil && e.HTTPClient != nil {
		return e.HTTPClient
	}
	return defaultClient
}

func (e *Engine) now() time.Time {
	if e != nil && e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// recording returns a client that records into c, for one request
// sequence, plus a context that makes x/oauth2 use it.
func (e *Engine) recording(ctx context.Context, c *call, extraForm url.Values) (context.Context, *http.Client) {
	base := e.client()
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc := *base
	hc.Transport = &recorder{base: rt, c: c, extraForm: extraForm}
	hc.CheckRedirect = noRedirectedPosts(base.CheckRedirect)
	return context.WithValue(ctx, oauth2.HTTPClient, &hc), &hc
}

// noRedirectedPosts refuses to follow a redirect of a POST: token and
// revocation requests carry codes and secrets, and a redirect would send
// them to a host nobody configured. The 3xx answer becomes the error.
func noRedirectedPosts(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && via[0].Method == http.MethodPost {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// maxAnswer bounds how much of an answer keyfob reads.
const maxAnswer = 1 << 20

// doJSON sends one request of keyfob's own (not through x/oauth2) and
// decodes a 2xx JSON answer into out (when out is not nil). Any failure
// comes back classified.
func (e *Engine) doJSON(ctx context.Context, op operation, method, rawURL string, header http.Header, body []byte, out any) error {
	var c call
	ctx, hc := e.recording(ctx, &c, nil)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return fmt.Errorf("the URL %s cannot be used (%v); check the account's endpoints", endpointOf(rawURL), urlProblem(err))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.endpoint = endpointOf(rawURL)
		return e.classify(ctx, &c, op, err)
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if err != nil {
		return e.classify(ctx, &c, op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answerError(&c, op, e.now())
	}
	if out == nil {
		return nil
	}
	if looksHTML(&c) {
		return &ServerError{Endpoint: c.endpoint, StatusCode: c.status, Kind: KindHTML, op: op}
	}
	if c.body.Len() >= maxRecordedBody {
		return &ServerError{Endpoint: c.endpoint, StatusCode: c.status, Kind: KindMalformed, op: op}
	}
	if err := json.Unmarshal(c.body.Bytes(), out); err != nil {
		return &ServerError{Endpoint: c.endpoint, StatusCode: c.status, Kind: KindMalformed, op: op}
	}
	return nil
}

// urlProblem says what is wrong with a URL without repeating it whole.
func urlProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return cleanText(ue.Err.Error(), 80)
	}
	return "not a valid URL"
}

// wellKnown is the path of an OpenID Connect discovery document.
const wellKnown = "/.well-known/openid-configuration"

// Discover reads issuer+"/.well-known/openid-configuration" (or issuer
// itself when it already ends in that path; RFC 8414's
// /.well-known/oauth-authorization-server as a fallback) and returns the
// endpoints it names. RedirectURI and BaseURL are left empty.
func (e *Engine) Discover(ctx context.Context, issuer string) (accounts.Endpoints, error) {
	issuer = strings.TrimSpace(issuer)
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return accounts.Endpoints{}, fieldErr(FieldIssuer, "the issuer %q is not an http(s) URL; it is the server's base URL, e.g. https://auth.tesla.com/oauth2/v3", cleanText(issuer, 100))
	}
	base := strings.TrimRight(issuer, "/")
	candidates := []string{base + wellKnown}
	if strings.HasSuffix(base, wellKnown) {
		candidates = []string{base}
	} else {
		candidates = append(candidates, base+"/.well-known/oauth-authorization-server")
	}
	var doc struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
		UserInfo      string `json:"userinfo_endpoint"`
	}
	var firstErr error
	for _, c := range candidates {
		err := e.doJSON(ctx, opDiscovery, http.MethodGet, c, nil, nil, &doc)
		if err == nil {
			break
		}
		if firstErr == nil {
			firstErr = err
		}
		// Only a missing document is worth a second address.
		var se *ServerError
		if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
			break
		}
	}
	if doc.Token == "" && doc.Authorization == "" {
		if firstErr != nil {
			return accounts.Endpoints{}, fmt.Errorf("cannot read the discovery document of %s: %w", endpointOf(base), firstErr)
		}
		return accounts.Endpoints{}, fmt.Errorf("the discovery document of %s names no authorization or token endpoint; give the endpoints instead of the issuer",
			endpointOf(base))
	}
	return accounts.Endpoints{
		AuthURL:     doc.Authorization,
		TokenURL:    doc.Token,
		RevokeURL:   doc.Revocation,
		UserInfoURL: doc.UserInfo,
	}, nil
}

// grantLegacy is the legacy kind's JSON password grant.
const grantLegacy = "legacy"

// Validate checks that a has what a login (or, for PurposeImport, a
// refresh) of its kind and grant needs, as the requirements table says, and
// that its URLs are usable. Secrets that are asked for after validation
// (the password, the refresh token of an import) are not checked here. Its
// error is a *FieldError naming the field to fix.
func Validate(p Purpose, a accounts.Account) error {
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
		v := accountValue(a, r.Field)
		if r.Need != NeedOptional && v == "" && !askedLater(r.Field) {
			return fieldErr(r.Field, "a %s account needs %s", a.Kind, r.Field.Noun())
		}
		if err := checkField(a, r.Field, v); err != nil {
			return err
		}
	}
	return nil
}

// askedLater reports the fields a face asks for only once the rest is
// valid (so that a bad flag fails before a prompt): the email and password
// of a password grant and the refresh token of an import.
func askedLater(f Field) bool {
	return f == FieldEmail || f == FieldPassword || f == FieldRefreshToken
}

// checkField checks the form of one value that is set.
func checkField(a accounts.Account, f Field, v string) error {
	if v == "" {
		return nil
	}
	switch f {
	case FieldName:
		if err := accounts.ValidateName(v); err != nil {
			return &FieldError{Field: f, Problem: err.Error()}
		}
	case FieldAuthURL, FieldTokenURL, FieldRevokeURL, FieldUserInfoURL, FieldBaseURL:
		if err := checkURL(v); err != nil {
			return fieldErr(f, "%s of this %s account %s", f.Noun(), a.Kind, err)
		}
	case FieldRedirectURI:
		if _, _, err := redirectPlan(v); err != nil {
			return err
		}
	}
	return nil
}

// accountValue is the value of field f on a ("" for the fields that are
// not kept on an account: the password and the issuer).
func accountValue(a accounts.Account, f Field) string {
	switch f {
	case FieldName:
		return a.Name
	case FieldEmail:
		return a.Email
	case FieldClientID:
		return a.ClientID
	case FieldClientSecret:
		return a.ClientSecret
	case FieldScopes:
		return strings.Join(a.RequestedScopes, " ")
	case FieldRedirectURI:
		return a.Endpoints.RedirectURI
	case FieldAudience:
		return a.Audience
	case FieldAuthURL:
		return a.Endpoints.AuthURL
	case FieldTokenURL:
		return a.Endpoints.TokenURL
	case FieldRevokeURL:
		return a.Endpoints.RevokeURL
	case FieldUserInfoURL:
		return a.Endpoints.UserInfoURL
	case FieldBaseURL:
		return a.Endpoints.BaseURL
	case FieldRefreshToken:
		return a.RefreshToken
	}
	return ""
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
