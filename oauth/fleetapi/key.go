package fleetapi

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrBadKey matches every *KeyError.
var ErrBadKey = errors.New("unusable public key")

// KeyError says why a domain's public key cannot be registered with Tesla,
// which takes only a PEM EC public key on secp256r1 (prime256v1, P-256).
type KeyError struct {
	URL string // where the key was fetched; "" when parsed alone
	// Problem completes "the public key at URL …".
	Problem string
	// Private is set when the file holds a private key: it must not be
	// published at all.
	Private bool
}

func (e *KeyError) Error() string {
	where := "the public key"
	if e.URL != "" {
		where += " at " + e.URL
	}
	return where + " " + e.Problem
}

// Is matches ErrBadKey.
func (e *KeyError) Is(target error) bool { return target == ErrBadKey }

// ParsePublicKey reads a PEM public key and returns its uncompressed
// point (04 || X || Y, 65 bytes), or a *KeyError saying what it is
// instead: not PEM, a private key, RSA, another curve.
func ParsePublicKey(data []byte) ([]byte, error) {
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, &KeyError{Problem: "is not PEM (no -----BEGIN PUBLIC KEY----- block); make it with: openssl ec -in private-key.pem -pubout"}
	case strings.Contains(block.Type, "PRIVATE"):
		return nil, &KeyError{Private: true, Problem: "is a PRIVATE key (" + clean(block.Type, 40, "") +
			"): take it down at once, make a new key pair, and publish only the public half (openssl ec -in private-key.pem -pubout)"}
	case block.Type != "PUBLIC KEY":
		return nil, &KeyError{Problem: "is a PEM " + clean(block.Type, 40, "") + " block, not a PUBLIC KEY"}
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, &KeyError{Problem: "is not a valid public key (" + clean(err.Error(), 80, "") + ")"}
	}
	if k, ok := pub.(*ecdsa.PublicKey); ok && k.Curve == elliptic.P256() {
		e, err := k.ECDH()
		if err != nil {
			return nil, &KeyError{Problem: "is not a valid point on secp256r1"}
		}
		return e.Bytes(), nil
	}
	return nil, &KeyError{Problem: "is " + otherKey(pub) + ", but Tesla takes only EC keys on secp256r1 (prime256v1, P-256); " +
		"make one with: openssl ecparam -name prime256v1 -genkey -noout -out private-key.pem"}
}

// ErrBadPrivateKey matches every error of ParsePrivateKey.
var ErrBadPrivateKey = errors.New("unusable private key")

// privateKeyError is why a private key cannot be the app's key. Its text
// never quotes the key.
type privateKeyError struct{ problem string }

func (e *privateKeyError) Error() string { return e.problem }

// Is matches ErrBadPrivateKey.
func (e *privateKeyError) Is(target error) bool { return target == ErrBadPrivateKey }

// ParsePrivateKey reads an app's private key from PEM: an "EC PRIVATE KEY"
// block (SEC 1, as openssl ecparam -genkey and vehicle-command's
// tesla-keygen write it, an "EC PARAMETERS" block before it allowed) or a
// "PRIVATE KEY" block (PKCS #8). The key must be on prime256v1 (P-256),
// the only curve Tesla's vehicles accept. Errors say what the data is
// instead and match ErrBadPrivateKey; they never quote the key.
func ParsePrivateKey(data []byte) (*ecdsa.PrivateKey, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, &privateKeyError{"it is not a PEM private key (no -----BEGIN EC PRIVATE KEY----- or -----BEGIN PRIVATE KEY----- block)"}
		}
		if block.Type == "EC PARAMETERS" {
			continue
		}
		if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, &privateKeyError{"it is encrypted with a passphrase; write a decrypted copy first (openssl ec -in KEY -out plain.pem) and import that"}
		}
		return privateKeyOf(block)
	}
}

func privateKeyOf(block *pem.Block) (*ecdsa.PrivateKey, error) {
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		return nil, &privateKeyError{"it is a public key; import the private key it belongs to"}
	default:
		return nil, &privateKeyError{"it is a PEM " + clean(block.Type, 40, "") + " block, not an EC private key"}
	}
	if err != nil {
		return nil, &privateKeyError{"it is not a valid " + block.Type + " (" + clean(err.Error(), 80, "") + ")"}
	}
	if k, ok := key.(*ecdsa.PrivateKey); ok && k.Curve == elliptic.P256() {
		return k, nil
	}
	return nil, &privateKeyError{"it is " + otherKey(key) + ", but Tesla's vehicles accept only EC keys on prime256v1 (P-256, secp256r1); " +
		"make one with keyfob partner keygen"}
}

// PublicKeyPEM is the PEM "PUBLIC KEY" block of pub, as Tesla fetches it
// from an app's domain.
func PublicKeyPEM(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PrivateKeyPEM is the PEM "EC PRIVATE KEY" block (SEC 1) of key, the form
// openssl and tesla-control read.
func PrivateKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// otherKey names a key that is not an EC key on P-256, public or private,
// for an error.
func otherKey(key any) string {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		return "an EC key on " + k.Curve.Params().Name
	case *ecdsa.PrivateKey:
		return "an EC key on " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("an RSA key (%d bits)", k.N.BitLen())
	case *rsa.PrivateKey:
		return fmt.Sprintf("an RSA key (%d bits)", k.N.BitLen())
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T key", key)
}
