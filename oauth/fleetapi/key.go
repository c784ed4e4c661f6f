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
	var kind string
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			e, err := k.ECDH()
			if err != nil {
				return nil, &KeyError{Problem: "is not a valid point on secp256r1"}
			}
			return e.Bytes(), nil
		}
		kind = "an EC key on " + k.Curve.Params().Name
	case *rsa.PublicKey:
		kind = fmt.Sprintf("an RSA key (%d bits)", k.N.BitLen())
	case ed25519.PublicKey:
		kind = "an Ed25519 key"
	default:
		kind = fmt.Sprintf("a %T key", pub)
	}
	return nil, &KeyError{Problem: "is " + kind + ", but Tesla takes only EC keys on secp256r1 (prime256v1, P-256); " +
		"make one with: openssl ecparam -name prime256v1 -genkey -noout -out private-key.pem"}
}
