package sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// partnerKeyPath is where Tesla fetches an app's public key on its domain.
const partnerKeyPath = "/.well-known/appspecific/com.tesla.3p.public-key.pem"

// partnerKey names a registration: Tesla keeps one per region and domain.
type partnerKey struct{ region, domain string }

// partnerAccount is a domain registered at partner_accounts.
type partnerAccount struct {
	clientID             string
	accountID            string
	publicKey            []byte // uncompressed P-256 point, 04||X||Y
	createdAt, updatedAt time.Time
}

// servePartnerRegister is POST {FleetAPIBase}/api/1/partner_accounts with
// a partner token and {"domain": D}: like Tesla it fetches
// https://D/.well-known/appspecific/com.tesla.3p.public-key.pem (through
// Options.PartnerHTTPClient), requires an EC P-256 public key there, and
// registers D for the token's client in the region asked. Registering
// again updates the key; another client registering D takes it over
// (what Tesla does then is unconfirmed).
func (s *Server) servePartnerRegister(w http.ResponseWriter, r *http.Request) {
	region, b, ok := s.fleetRequest(w, r, http.MethodPost, forPartner)
	if !ok {
		return
	}
	var body struct {
		Domain string `json:"domain"`
	}
	if decodeJSON(w, r, &body) != nil {
		writeReply(w, fleetError(http.StatusBadRequest, `The request body must be a JSON object such as {"domain": "example.com"}.`))
		return
	}
	domain := strings.ToLower(strings.TrimSpace(body.Domain))
	if msg := checkDomain(domain); msg != "" {
		writeReply(w, fleetError(http.StatusBadRequest, msg))
		return
	}
	point, err := s.fetchPartnerKey(r.Context(), domain)
	if err != nil {
		writeReply(w, fleetError(http.StatusBadRequest, err.Error()))
		return
	}
	acct := s.registerPartner(partnerKey{region, domain}, b.clientID, point)
	s.count(func(st *Stats) { st.FleetAPI++ })
	writeReply(w, jsonReply(http.StatusOK, map[string]any{"response": acct.response(domain)}))
}

// servePartnerKey is GET {FleetAPIBase}/api/1/partner_accounts/public_key
// ?domain=D with a partner token: the key registered for D in the region,
// or 404.
func (s *Server) servePartnerKey(w http.ResponseWriter, r *http.Request) {
	region, _, ok := s.fleetRequest(w, r, http.MethodGet, forPartner)
	if !ok {
		return
	}
	domain := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("domain")))
	if domain == "" {
		writeReply(w, fleetError(http.StatusBadRequest, "The domain query parameter is required."))
		return
	}
	point, found := s.PartnerPublicKey(region, domain)
	if !found {
		writeReply(w, fleetError(http.StatusNotFound, "No public key is registered for this domain in this region."))
		return
	}
	s.count(func(st *Stats) { st.FleetAPI++ })
	writeReply(w, jsonReply(http.StatusOK, map[string]any{"response": map[string]any{
		"public_key": hex.EncodeToString(point),
	}}))
}

// PartnerPublicKey returns the public key registered for domain in region
// ("na", "eu", "cn") as the uncompressed EC point 04||X||Y (65 bytes),
// and false when none is.
func (s *Server) PartnerPublicKey(region, domain string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, ok := s.partners[partnerKey{strings.ToLower(region), strings.ToLower(domain)}]
	return acct.publicKey, ok
}

// checkDomain returns why d is not a domain to register, or "". The
// sandbox also takes host:port, so tests can serve the key on loopback.
func checkDomain(d string) string {
	if d == "" {
		return "The domain field is required."
	}
	u, err := url.Parse("https://" + d + "/")
	if err != nil || u.Host != d || strings.ContainsAny(d, "/?#@ ") {
		return "The domain must be a host name such as example.com, without scheme, path or user."
	}
	return ""
}

// registerPartner records point as the key of k for clientID.
func (s *Server) registerPartner(k partnerKey, clientID string, point []byte) partnerAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	acct, ok := s.partners[k]
	if !ok || acct.clientID != clientID {
		acct = partnerAccount{clientID: clientID, accountID: subjectFor(clientID + "|" + randomHex(8)), createdAt: now}
	}
	acct.publicKey, acct.updatedAt = point, now
	s.partners[k] = acct
	return acct
}

// response is the "response" object of a registration. Its fields follow
// the RegisterPartnerResponse model of SDKs generated from Tesla's API
// description; Tesla's own page shows no example. Unconfirmed: the values
// of name, enterprise_tier and account_id, and how public_key_hash is
// computed (here: hex SHA-256 of the uncompressed point).
func (a partnerAccount) response(domain string) map[string]any {
	sum := sha256.Sum256(a.publicKey)
	return map[string]any{
		"account_id": a.accountID, "client_id": a.clientID, "name": a.clientID, "description": "",
		"domain": domain, "ca": nil, "csr": nil, "csr_updated_at": nil, "issuer": nil, "enterprise_tier": "free",
		"created_at": a.createdAt.UTC().Format(time.RFC3339), "updated_at": a.updatedAt.UTC().Format(time.RFC3339),
		"public_key": hex.EncodeToString(a.publicKey), "public_key_hash": hex.EncodeToString(sum[:]),
	}
}

// fetchPartnerKey fetches domain's public key and returns its uncompressed
// point.
func (s *Server) fetchPartnerKey(ctx context.Context, domain string) ([]byte, error) {
	where := "https://" + domain + partnerKeyPath
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch the public key at %s: %v", where, err)
	}
	resp, err := s.partnerClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("could not fetch the public key at %s: %v", where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("could not fetch the public key at %s: it answered %s", where, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("could not read the public key at %s: %v", where, err)
	}
	point, err := parsePartnerKey(data)
	if err != nil {
		return nil, fmt.Errorf("the public key at %s %v", where, err)
	}
	return point, nil
}

// parsePartnerKey returns the uncompressed point of a PEM EC public key on
// secp256r1 (prime256v1), the only kind Tesla takes.
func parsePartnerKey(data []byte) ([]byte, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("is not a PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("is not a valid public key")
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("is not an EC public key on secp256r1 (prime256v1)")
	}
	k, err := ec.ECDH()
	if err != nil {
		return nil, errors.New("is not a valid point on secp256r1")
	}
	return k.Bytes(), nil
}

// defaultPartnerClient is the client fetching partner keys when Options
// gives none: it trusts no certificate and dials nothing but loopback IP
// addresses, so the sandbox never reaches the network.
func defaultPartnerClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
					return nil, errors.New("the sandbox has no Options.PartnerHTTPClient to reach this domain with")
				}
				return dialer.DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12},
		},
	}
}
