package fleetapp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/fleetapi"
)

func testKeys(t *testing.T) Keys {
	dir := filepath.Join(t.TempDir(), "keyfob")
	return Keys{Dir: dir, Now: func() time.Time { return time.Date(2026, 12, 2, 10, 15, 2, 0, time.UTC) }}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestGenerateKeepsAPrivateP256Pair(t *testing.T) {
	k := testKeys(t)
	kp, err := k.Generate(false)
	if err != nil {
		t.Fatal(err)
	}
	if mode(t, kp.PrivatePath) != 0o600 || mode(t, kp.PublicPath) != 0o600 || mode(t, k.Dir) != 0o700 {
		t.Fatalf("modes: private %v public %v dir %v", mode(t, kp.PrivatePath), mode(t, kp.PublicPath), mode(t, k.Dir))
	}
	priv, err := k.Private()
	if err != nil || priv.Curve != elliptic.P256() {
		t.Fatalf("private: %v", err)
	}
	pubPEM, point, err := k.Public()
	if err != nil || !bytes.Equal(pubPEM, kp.PublicPEM) || len(point) != 65 {
		t.Fatalf("public: %v %d", err, len(point))
	}
	want, _ := priv.PublicKey.ECDH()
	if !bytes.Equal(point, want.Bytes()) || !bytes.Equal(point, kp.Point) {
		t.Fatal("the public key is not the private key's")
	}
	if strings.Contains(string(kp.PublicPEM), "PRIVATE") {
		t.Fatal("the public PEM holds a private key")
	}

	// A second run keeps the pair.
	before, _ := os.ReadFile(kp.PrivatePath)
	if _, err := k.Generate(false); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second generate: %v", err)
	}
	if after, _ := os.ReadFile(kp.PrivatePath); !bytes.Equal(before, after) {
		t.Fatal("the private key changed without force")
	}

	// force replaces it, and keeps the old one.
	kp2, err := k.Generate(true)
	if err != nil || kp2.Replaced == "" || bytes.Equal(kp2.Point, kp.Point) {
		t.Fatalf("force: %v %+v", err, kp2)
	}
	if old, _ := os.ReadFile(kp2.Replaced); !bytes.Equal(old, before) || mode(t, kp2.Replaced) != 0o600 {
		t.Fatal("the replaced private key was not kept, private")
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestImportTakesSEC1AndPKCS8AndRefusesOtherKeys(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(p256)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384der, _ := x509.MarshalECPrivateKey(p384)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsader, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pubder, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	// openssl ecparam -name prime256v1 -genkey (without -noout) writes the
	// curve's parameters first.
	params := pemBlock("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
	encrypted := []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n" +
		"c2VjcmV0\n-----END EC PRIVATE KEY-----\n")
	want, _ := p256.PublicKey.ECDH()

	for _, tc := range []struct {
		name string
		data []byte
		err  string // "" = imported
	}{
		{"SEC 1 as tesla-keygen writes it", pemBlock("EC PRIVATE KEY", sec1), ""},
		{"SEC 1 after EC PARAMETERS", append(params, pemBlock("EC PRIVATE KEY", sec1)...), ""},
		{"PKCS 8", pemBlock("PRIVATE KEY", pkcs8), ""},
		{"P-384", pemBlock("EC PRIVATE KEY", p384der), "an EC key on P-384, but Tesla's vehicles accept only EC keys on prime256v1"},
		{"RSA", pemBlock("PRIVATE KEY", rsader), "an RSA key (2048 bits)"},
		{"public key", pemBlock("PUBLIC KEY", pubder), "it is a public key"},
		{"encrypted", encrypted, "encrypted with a passphrase"},
		{"not PEM", []byte("hello"), "not a PEM private key"},
		{"garbage in the block", pemBlock("EC PRIVATE KEY", []byte("nonsense")), "not a valid EC PRIVATE KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := testKeys(t)
			kp, err := k.Import(tc.data, "key.pem", false)
			if tc.err == "" {
				if err != nil || !bytes.Equal(kp.Point, want.Bytes()) {
					t.Fatalf("import: %v", err)
				}
				if _, err := k.Private(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, fleetapi.ErrBadPrivateKey) ||
				!strings.Contains(err.Error(), "key.pem") {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			// The key's own text is never quoted.
			if b, _ := pem.Decode(tc.data); b != nil && len(b.Bytes) > 4 && strings.Contains(err.Error(), string(pem.EncodeToMemory(b))[30:50]) {
				t.Fatalf("the error quotes the key: %v", err)
			}
			if _, err := os.Lstat(k.PrivatePath()); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a refused key was written")
			}
		})
	}
}

func TestKeysNeverGoThroughASymlink(t *testing.T) {
	k := testKeys(t)
	if err := os.MkdirAll(k.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "elsewhere.pem")
	if err := os.WriteFile(elsewhere, []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, k.PrivatePath()); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Generate(true); err == nil {
		t.Fatal("generate wrote through a symlink")
	}
	if b, _ := os.ReadFile(elsewhere); string(b) != "theirs" {
		t.Fatal("the symlink's target changed")
	}
	if _, err := k.Private(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("private through a symlink: %v", err)
	}
	// The public key is not read through one either.
	_ = os.Remove(k.PrivatePath())
	if _, err := k.Generate(false); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(k.PublicPath())
	if err := os.Symlink(k.PrivatePath(), k.PublicPath()); err != nil {
		t.Fatal(err)
	}
	if data, _, err := k.Public(); err == nil || data != nil {
		t.Fatalf("public through a symlink: %v", err)
	}
}

func TestPublicNeverReturnsAPrivateKey(t *testing.T) {
	k := testKeys(t)
	if _, err := k.Generate(false); err != nil {
		t.Fatal(err)
	}
	priv, _ := os.ReadFile(k.PrivatePath())
	if err := os.WriteFile(k.PublicPath(), priv, 0o600); err != nil {
		t.Fatal(err)
	}
	data, point, err := k.Public()
	if err == nil || data != nil || point != nil || !strings.Contains(err.Error(), "PRIVATE key") {
		t.Fatalf("a private key in the public file: %v", err)
	}
	if _, _, err := (Keys{Dir: t.TempDir()}).Public(); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
}

func TestPrivateKeyReadableByOthersIsRefused(t *testing.T) {
	k := testKeys(t)
	if _, err := k.Generate(false); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(k.PrivatePath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Private(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("loose private key: %v", err)
	}
}
