package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyfob/keyfob/accounts"
)

// The well-known paths of a discovery document: OpenID Connect's, and RFC
// 8414's as a fallback.
const (
	wellKnown     = "/.well-known/openid-configuration"
	wellKnownAuth = "/.well-known/oauth-authorization-server"
)

// discoveryDoc is the part of a discovery document keyfob uses.
type discoveryDoc struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Revocation    string `json:"revocation_endpoint"`
	UserInfo      string `json:"userinfo_endpoint"`
}

// Discover reads issuer+"/.well-known/openid-configuration" (or issuer
// itself when it already ends in that path; RFC 8414's
// /.well-known/oauth-authorization-server as a fallback) and returns the
// endpoints it names. RedirectURI and BaseURL are left empty.
//
// The document must name the issuer asked for (OpenID Connect Discovery
// §4.3; one trailing slash aside), or a server could pass off another's
// endpoints. One friendly case: for a bare host (no path), a document that
// names an issuer on the same origin is followed to that issuer's own
// document, which must name itself. The issuer must be https, or on
// loopback.
func (e *Engine) Discover(ctx context.Context, issuer string) (accounts.Endpoints, error) {
	return e.discover(ctx, issuer, false)
}

// discover is Discover, with plain http off loopback allowed when
// allowHTTP.
func (e *Engine) discover(ctx context.Context, issuer string, allowHTTP bool) (accounts.Endpoints, error) {
	issuer = strings.TrimSpace(issuer)
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return accounts.Endpoints{}, fieldErr(FieldIssuer, "the issuer %q is not an http(s) URL; it is the server's base URL, e.g. https://auth.tesla.com/oauth2/v3", cleanText(issuer, 100))
	}
	if err := checkSecure(FieldIssuer, issuer, allowHTTP); err != nil {
		return accounts.Endpoints{}, err
	}
	asked, docs := discoveryURLs(issuer)
	doc, err := e.fetchDiscovery(ctx, docs, allowHTTP)
	if err != nil {
		return accounts.Endpoints{}, err
	}
	named := strings.TrimSuffix(doc.Issuer, "/")
	switch {
	case named == asked:
	case doc.Issuer == "":
		return accounts.Endpoints{}, fieldErr(FieldIssuer, "the discovery document of %s names no issuer, so keyfob cannot tell whose endpoints it lists; give the endpoints instead of the issuer",
			endpointOf(asked))
	case bareHost(asked) && sameOrigin(named, asked):
		// The issuer lives under a path of this host: its own document
		// decides, and must name it.
		if doc, err = e.fetchDiscovery(ctx, []string{named + wellKnown}, allowHTTP); err != nil {
			return accounts.Endpoints{}, err
		}
		if got := strings.TrimSuffix(doc.Issuer, "/"); got != named {
			return accounts.Endpoints{}, issuerMismatch(named, got)
		}
	default:
		return accounts.Endpoints{}, issuerMismatch(asked, named)
	}
	if doc.Token == "" && doc.Authorization == "" {
		return accounts.Endpoints{}, fmt.Errorf("the discovery document of %s names no authorization or token endpoint; give the endpoints instead of the issuer",
			endpointOf(asked))
	}
	return accounts.Endpoints{
		AuthURL:     doc.Authorization,
		TokenURL:    doc.Token,
		RevokeURL:   doc.Revocation,
		UserInfoURL: doc.UserInfo,
	}, nil
}

// discoveryURLs returns the issuer asked for (one trailing slash and any
// well-known suffix dropped) and the documents to try, in order.
func discoveryURLs(issuer string) (asked string, docs []string) {
	base := strings.TrimSuffix(issuer, "/")
	for _, suffix := range []string{wellKnown, wellKnownAuth} {
		if strings.HasSuffix(base, suffix) {
			return strings.TrimSuffix(strings.TrimSuffix(base, suffix), "/"), []string{base}
		}
	}
	return base, []string{base + wellKnown, base + wellKnownAuth}
}

// fetchDiscovery reads the first of docs that exists: only a missing
// document is worth the next address.
func (e *Engine) fetchDiscovery(ctx context.Context, docs []string, allowHTTP bool) (discoveryDoc, error) {
	var firstErr error
	for _, d := range docs {
		var doc discoveryDoc
		err := e.doCall(ctx, &call{allowHTTP: allowHTTP}, opDiscovery, http.MethodGet, d, nil, nil, &doc)
		if err == nil {
			return doc, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		var se *ServerError
		if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
			break
		}
	}
	return discoveryDoc{}, fmt.Errorf("cannot read the discovery document of %s: %w", endpointOf(docs[0]), firstErr)
}

// issuerMismatch is the error of a document for asked naming named.
func issuerMismatch(asked, named string) error {
	return fieldErr(FieldIssuer, "the discovery document of the issuer %s names another issuer, %s, so its endpoints were not used; give the issuer it names if you trust it, or check the address",
		shownURL(asked), shownURL(named))
}

// shownURL is how a message shows an issuer: scheme, host and path, at
// most 120 characters, without a query or credentials; text that is not a
// URL is cleaned.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return cleanText(raw, 120)
	}
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

// bareHost reports whether raw is an origin without a path.
func bareHost(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Path == "" || u.Path == "/")
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b string) bool {
	oa, ob := origin(a), origin(b)
	return oa != "" && oa == ob
}

// origin is raw's scheme://host:port in lower case, the port explicit;
// "" when raw has no host.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme, port := strings.ToLower(u.Scheme), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
