package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

func TestPartnerKeygen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	r := e.mustRun("", "partner", "keygen")
	priv, err := os.ReadFile(filepath.Join(e.storeDir(), fleetapp.PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fleetapi.ParsePublicKey([]byte(r.stdout)); err != nil {
		t.Fatalf("stdout is not the public key: %v\n%s", err, r.stdout)
	}
	pubPath := filepath.Join(e.storeDir(), fleetapp.PublicKeyFile)
	if !strings.Contains(r.stderr, pubPath) || !strings.Contains(r.stderr, "keyfob partner register --domain") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	block, _ := pem.Decode(priv)
	body := string(pem.EncodeToMemory(block))
	secret := strings.Split(body, "\n")[1]
	if strings.Contains(r.stdout+r.stderr, secret) || strings.Contains(r.stdout+r.stderr, "PRIVATE KEY-----") {
		t.Fatal("keygen printed the private key")
	}

	// Again: refused, exit 1, the key unchanged.
	r = e.run("", "partner", "keygen")
	if r.code != ExitError || !strings.Contains(r.stderr, "exists already") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("second keygen: %d %s", r.code, r.stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(e.storeDir(), fleetapp.PrivateKeyFile)); string(again) != string(priv) {
		t.Fatal("the key changed")
	}
	r = e.mustRun("", "partner", "keygen", "--force")
	if !strings.Contains(r.stderr, "the old private key is kept in") {
		t.Fatalf("force: %s", r.stderr)
	}
}

func TestPartnerKeygenImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(p384)
	bad := filepath.Join(e.dir, "p384.pem")
	if err := os.WriteFile(bad, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.run("", "partner", "keygen", "--import", bad)
	if r.code != ExitError || !strings.Contains(r.stderr, "P-384") || !strings.Contains(r.stderr, "prime256v1") || r.stdout != "" {
		t.Fatalf("P-384: %d %q %s", r.code, r.stdout, r.stderr)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pk8, _ := x509.MarshalPKCS8PrivateKey(p256)
	r = e.mustRun(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8})), "partner", "keygen", "--import", "-")
	got, err := fleetapi.ParsePublicKey([]byte(r.stdout))
	want, _ := p256.PublicKey.ECDH()
	if err != nil || string(got) != string(want.Bytes()) || !strings.Contains(r.stderr, "Imported the private key from stdin") {
		t.Fatalf("import: %v %s", err, r.stderr)
	}
	if r := e.run("", "partner", "keygen", "--import", filepath.Join(e.dir, "missing.pem"), "--force"); r.code != ExitError ||
		!strings.Contains(r.stderr, "cannot read the private key to import") {
		t.Fatalf("missing file: %d %s", r.code, r.stderr)
	}
}
