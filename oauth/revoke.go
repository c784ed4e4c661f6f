package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyfob/keyfob/accounts"
)

// Revoke implements accounts.Authority. With a revocation endpoint it
// sends RFC 7009 requests, the refresh token first (revoking it ends the
// whole grant) and then the access token; a legacy account posts its access
// token to {base}/oauth/revoke (whose 200 proves nothing:
// accounts.RevokeUnconfirmed). Without an endpoint nothing is sent and the
// outcome is RevokeUnsupported. Fleet and Owner accounts always get the
// ConsentURL of Tesla's page where the app's access is withdrawn for good,
// since no Tesla revocation endpoint is documented to work.
func (e *Engine) Revoke(ctx context.Context, a accounts.Account) (accounts.Revocation, error) {
	rev := accounts.Revocation{ConsentURL: consentURL(a)}
	endpoint := RevokeEndpoint(a)
	switch {
	case legacyRevoke(a):
		return e.revokeLegacy(ctx, a, rev, endpoint)
	case endpoint == "":
		rev.Outcome = accounts.RevokeUnsupported
		switch {
		case a.Kind == accounts.KindPartner:
			rev.Detail = "partner tokens cannot be revoked; the access token expires on its own"
		case rev.ConsentURL != "":
			rev.Detail = "the account has no revocation endpoint; withdraw the app's access on Tesla's consent page to end it for good"
		default:
			rev.Detail = "the account has no revocation endpoint; only the local record changes"
		}
		return rev, nil
	}
	if err := checkURL(endpoint); err != nil {
		rev.Outcome = accounts.RevokeFailed
		return rev, fmt.Errorf("the revocation URL of the account %s; fix it with a new login", err)
	}
	allow := a.AllowInsecureHTTP
	if err := checkSecure(FieldRevokeURL, endpoint, allow); err != nil {
		rev.Outcome, rev.Detail = accounts.RevokeFailed, err.Error()
		return rev, err
	}

	type item struct{ hint, token string }
	var items []item
	if a.RefreshToken != "" {
		items = append(items, item{"refresh_token", a.RefreshToken})
	}
	if a.AccessToken != "" {
		items = append(items, item{"access_token", a.AccessToken})
	}
	if len(items) == 0 {
		rev.Outcome = accounts.RevokeUnsupported
		rev.Detail = "the account holds no token to revoke"
		return rev, nil
	}
	for i, it := range items {
		form := url.Values{"token": {it.token}, "token_type_hint": {it.hint}, "client_id": {a.ClientID}}
		if a.ClientSecret != "" {
			form.Set("client_secret", a.ClientSecret)
		}
		header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		err := e.doCall(ctx, &call{allowHTTP: allow}, opRevoke, http.MethodPost, endpoint, header, []byte(form.Encode()), nil)
		if err != nil {
			if i == 0 {
				rev.Outcome = accounts.RevokeFailed
				rev.Detail = "the server did not revoke the tokens: " + err.Error()
				return rev, err
			}
			// The first token is gone; the rest is a partial success
			// worth reporting, not a failure.
			rev.Outcome = accounts.RevokedAtServer
			rev.Detail = fmt.Sprintf("the server revoked the %s but not the %s (%v)",
				words(rev.Revoked), strings.ReplaceAll(it.hint, "_", " "), err)
			return rev, nil
		}
		rev.Revoked = append(rev.Revoked, it.hint)
	}
	rev.Outcome = accounts.RevokedAtServer
	rev.Detail = "the server revoked the " + words(rev.Revoked)
	return rev, nil
}

// RevokeEndpoint is where Revoke asks a's server to revoke its tokens: the
// owner-api's {base}/oauth/revoke for a legacy account, else the account's
// RFC 7009 endpoint; "" when there is none and revoking only marks the
// account locally.
func RevokeEndpoint(a accounts.Account) string {
	if legacyRevoke(a) {
		return strings.TrimRight(a.Endpoints.BaseURL, "/") + "/oauth/revoke"
	}
	return a.Endpoints.RevokeURL
}

// legacyRevoke reports whether a is revoked the legacy owner-api's way.
func legacyRevoke(a accounts.Account) bool {
	return a.Kind == accounts.KindLegacy && a.Endpoints.BaseURL != ""
}

// revokeLegacy posts the access token to the legacy owner-api's endpoint,
// which should end the access token and its refresh token together, but
// answers 200 whether or not it did.
func (e *Engine) revokeLegacy(ctx context.Context, a accounts.Account, rev accounts.Revocation, endpoint string) (accounts.Revocation, error) {
	if a.AccessToken == "" {
		rev.Outcome = accounts.RevokeUnsupported
		rev.Detail = "the account holds no access token, which is what the legacy revocation needs"
		return rev, nil
	}
	allow := a.AllowInsecureHTTP
	if err := checkSecure(FieldBaseURL, endpoint, allow); err != nil {
		rev.Outcome, rev.Detail = accounts.RevokeFailed, err.Error()
		return rev, err
	}
	body, _ := json.Marshal(map[string]string{"token": a.AccessToken}) // a map of strings always encodes
	header := http.Header{"Content-Type": {"application/json"}}
	if err := e.doCall(ctx, &call{allowHTTP: allow}, opRevoke, http.MethodPost, endpoint, header, body, nil); err != nil {
		rev.Outcome = accounts.RevokeFailed
		rev.Detail = "the server did not revoke the tokens: " + err.Error()
		return rev, err
	}
	rev.Outcome = accounts.RevokeUnconfirmed
	rev.Detail = "the owner-api answered 200 to the revocation request, but that endpoint is known to answer so without revoking anything, so the tokens may still work; changing the Tesla account's password ends them for sure"
	return rev, nil
}

// words turns token hints into words for a sentence.
func words(hints []string) string {
	out := make([]string, len(hints))
	for i, h := range hints {
		out[i] = strings.ReplaceAll(h, "_", " ")
	}
	return strings.Join(out, " and the ")
}
