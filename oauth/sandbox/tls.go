package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"
)

// TransportInfo is how a request reached the sandbox.
type TransportInfo struct {
	Proto      string // "HTTP/1.1" or "HTTP/2.0"
	TLSVersion uint16 // tls.VersionTLS12, tls.VersionTLS13, …; 0 over plain HTTP
	China      bool   // served by the China host
}

// setupTransport creates the certificate of Options.TLS, when asked, and
// the transport Client and SignIn use.
func (s *Server) setupTransport(withTLS bool) error {
	s.transport = &http.Transport{
		// Go negotiates HTTP/2 on a customised transport only when asked.
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	if !withTLS {
		return nil
	}
	cert, err := selfSignedCertificate()
	if err != nil {
		return fmt.Errorf("cannot create the sandbox's TLS certificate: %w", err)
	}
	s.pool = x509.NewCertPool()
	s.pool.AddCert(cert.Leaf)
	s.tlsConfig = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	s.transport.TLSClientConfig = &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
	return nil
}

// selfSignedCertificate returns a fresh ECDSA P-256 certificate for the
// loopback addresses and "localhost", valid for a year, that is its own
// root.
func selfSignedCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now() // real time: clients check it, whatever Options.Now says
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"keyfob sandbox"}, CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// CertPool returns a pool trusting the sandbox's certificate, or nil
// without Options.TLS.
func (s *Server) CertPool() *x509.CertPool {
	if s.pool == nil {
		return nil
	}
	return s.pool.Clone()
}

// Client returns an HTTP client for both hosts: it trusts the sandbox's
// certificate and negotiates HTTP/2 over TLS. Its connections close with
// the server.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.transport}
}

// LastTokenRequest reports how the last request to a token endpoint
// (/oauth2/v3/token, /oauth/token) reached the sandbox, refused ones
// included; the zero value before any.
func (s *Server) LastTokenRequest() TransportInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastToken
}

// recordTransport remembers how the token request r arrived.
func (s *Server) recordTransport(r *http.Request) {
	info := TransportInfo{Proto: r.Proto, China: isChina(r)}
	if r.TLS != nil {
		info.TLSVersion = r.TLS.Version
	}
	s.mu.Lock()
	s.lastToken = info
	s.mu.Unlock()
}
