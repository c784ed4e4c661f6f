package fleetapi

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// KeyPath is where Tesla fetches an app's public key on the app's domain.
const KeyPath = "/.well-known/appspecific/com.tesla.3p.public-key.pem"

// KeyURL is the address of domain's public key.
func KeyURL(domain string) string { return "https://" + domain + KeyPath }

// CheckDomain returns domain as Tesla wants it, a bare host name in lower
// case (a port is accepted, for test servers), or why it is not one.
func CheckDomain(domain string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(domain))
	if d == "" {
		return "", errors.New("the domain is empty")
	}
	u, err := url.Parse("https://" + d + "/")
	if strings.Contains(d, "://") || err != nil || u.Host != d || strings.ContainsAny(d, "/?#@ \\") {
		return "", fmt.Errorf("%q is not a domain: give the bare host name, such as example.com, without scheme, path or user", clean(domain, 80, ""))
	}
	return d, nil
}

// PartnerAccount is Tesla's answer to a registration. The fields follow
// the RegisterPartnerResponse model of SDKs generated from Tesla's API
// description (Tesla's page shows no example): treat them as informative.
type PartnerAccount struct {
	AccountID     string `json:"account_id"`
	ClientID      string `json:"client_id"`
	Domain        string `json:"domain"`
	PublicKey     string `json:"public_key"`
	PublicKeyHash string `json:"public_key_hash"`
	CreatedAt     string `json:"created_at"`
	UpdatedAt     string `json:"updated_at"`
	// Raw is the whole "response" object.
	Raw map[string]any `json:"-"`
}

// RegisterPartner registers domain for the partner token's app in the
// region of base: POST {base}/api/1/partner_accounts {"domain": domain}.
// Tesla then fetches the key at KeyURL(domain) itself.
func (c *Client) RegisterPartner(ctx context.Context, base, token, domain string) (PartnerAccount, Exchange, error) {
	x, body, err := c.do(ctx, request{name: "partner_accounts", method: http.MethodPost,
		url: joinBase(base, "/api/1/partner_accounts"), token: token, body: map[string]string{"domain": domain}})
	if err != nil {
		return PartnerAccount{}, x, err
	}
	var out struct {
		Response json.RawMessage `json:"response"`
	}
	var pa PartnerAccount
	if decode(&x, body, &out) != nil || len(out.Response) == 0 || bytes.Equal(out.Response, []byte("null")) ||
		json.Unmarshal(out.Response, &pa) != nil || json.Unmarshal(out.Response, &pa.Raw) != nil {
		return PartnerAccount{}, x, malformed(&x)
	}
	return pa, x, nil
}

// PartnerPublicKey returns the key Tesla holds for domain in the region of
// base (GET {base}/api/1/partner_accounts/public_key?domain=D) as the
// uncompressed EC point. A domain Tesla has no key for is an error that
// matches ErrNotFound.
func (c *Client) PartnerPublicKey(ctx context.Context, base, token, domain string) ([]byte, Exchange, error) {
	x, body, err := c.do(ctx, request{name: "partner_accounts/public_key", method: http.MethodGet,
		url: joinBase(base, "/api/1/partner_accounts/public_key") + "?domain=" + url.QueryEscape(domain), token: token})
	if err != nil {
		return nil, x, err
	}
	out, err := response[struct {
		PublicKey string `json:"public_key"`
	}](&x, body)
	if err != nil {
		return nil, x, err
	}
	point, err := hex.DecodeString(strings.TrimSpace(out.PublicKey))
	if err != nil || len(point) == 0 {
		return nil, x, malformed(&x)
	}
	return point, x, nil
}

// DomainKey fetches the public key domain hosts at KeyURL(domain), as
// Tesla would, and returns its uncompressed point. A key that is missing
// or not an EC P-256 public key is a *KeyError; no answer is a *NetError.
func (c *Client) DomainKey(ctx context.Context, domain string) ([]byte, Exchange, error) {
	where := KeyURL(domain)
	x, body, err := c.do(ctx, request{name: "public key", method: http.MethodGet, url: where})
	var ae *APIError
	if errors.As(err, &ae) {
		ke := &KeyError{URL: where, Problem: fmt.Sprintf("is not there: the domain answered %d %s", ae.Status, http.StatusText(ae.Status))}
		x.Error = ke.Error()
		return nil, x, ke
	}
	if err != nil {
		return nil, x, err
	}
	point, err := ParsePublicKey(body)
	if err != nil {
		var ke *KeyError
		if errors.As(err, &ke) {
			ke.URL = where
		}
		x.Error = err.Error()
		return nil, x, err
	}
	return point, x, nil
}

// Comparison is the outcome of CheckPartnerKey.
type Comparison string

// The outcomes.
const (
	KeyMatch         Comparison = "match"
	KeyMismatch      Comparison = "mismatch"
	KeyNotRegistered Comparison = "not registered"
)

// PartnerKeyReport is what CheckPartnerKey learned.
type PartnerKeyReport struct {
	Domain  string
	KeyURL  string
	Outcome Comparison
	// DomainKey and TeslaKey are the hex of the uncompressed points: the
	// domain's and Tesla's (empty when Tesla has none).
	DomainKey, TeslaKey string
	Calls               []Exchange
}

// CheckPartnerKey fetches domain's public key, checks that it is an EC
// P-256 public key, and compares it with the one Tesla holds for domain
// in the region of base. The error is set when the comparison could not
// be made (the key is unusable, a server did not answer or refused);
// mismatch and not registered are outcomes, not errors.
func (c *Client) CheckPartnerKey(ctx context.Context, base, token, domain string) (PartnerKeyReport, error) {
	r := PartnerKeyReport{Domain: domain, KeyURL: KeyURL(domain)}
	mine, x, err := c.DomainKey(ctx, domain)
	r.Calls = append(r.Calls, x)
	if err != nil {
		return r, err
	}
	r.DomainKey = hex.EncodeToString(mine)
	theirs, x, err := c.PartnerPublicKey(ctx, base, token, domain)
	r.Calls = append(r.Calls, x)
	switch {
	case errors.Is(err, ErrNotFound):
		r.Outcome = KeyNotRegistered
		return r, nil
	case err != nil:
		return r, err
	}
	r.TeslaKey = hex.EncodeToString(theirs)
	r.Outcome = KeyMismatch
	if bytes.Equal(mine, theirs) {
		r.Outcome = KeyMatch
	}
	return r, nil
}
