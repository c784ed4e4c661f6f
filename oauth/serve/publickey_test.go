package serve_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

func TestServeServesThePublicKeyOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	keys := fleetapp.Keys{Dir: filepath.Join(t.TempDir(), "keyfob")}
	f.start(serve.Options{PublicKey: keys.Served})
	fetch := func(method string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, f.base+serve.PublicKeyPath, nil)
		resp, err := f.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	// No key pair yet: not found, and says how to make one.
	if status, _, body := fetch(http.MethodGet); status != http.StatusNotFound || !strings.Contains(body, "keyfob partner keygen") {
		t.Fatalf("no key: %d %s", status, body)
	}
	kp, err := keys.Generate(false)
	if err != nil {
		t.Fatal(err)
	}
	// No credential needed; exactly the public key, as Tesla parses it.
	status, h, body := fetch(http.MethodGet)
	if status != http.StatusOK || body != string(kp.PublicPEM) || h.Get("Content-Type") != "application/x-pem-file" {
		t.Fatalf("key: %d %v %q", status, h, body)
	}
	if point, err := fleetapi.ParsePublicKey([]byte(body)); err != nil || string(point) != string(kp.Point) {
		t.Fatalf("served key: %v", err)
	}
	// Under the app's own domain, as a tunnel forwards it: the key, while
	// the token endpoint keeps its Host rule.
	req, _ := http.NewRequest(http.MethodGet, f.base+serve.PublicKeyPath, nil)
	req.Host = "app.example.com"
	if resp, err := f.client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("under the app's domain: %v %v", resp, err)
	}
	req, _ = http.NewRequest(http.MethodPost, f.base+serve.TokenPath, nil)
	req.Host = "app.example.com"
	if resp, err := f.client.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("the token endpoint under another name: %v %v", resp, err)
	}
	if status, _, body := fetch(http.MethodHead); status != http.StatusOK || body != "" {
		t.Fatalf("HEAD: %d %q", status, body)
	}
	if status, h, _ := fetch(http.MethodPost); status != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d %v", status, h)
	}

	// A private key where the public one should be never goes out.
	priv, _ := os.ReadFile(keys.PrivatePath())
	if err := os.WriteFile(keys.PublicPath(), priv, 0o600); err != nil {
		t.Fatal(err)
	}
	status, _, body = fetch(http.MethodGet)
	if status != http.StatusInternalServerError || strings.Contains(body, "PRIVATE KEY-----") || strings.Contains(body, strings.Split(string(priv), "\n")[1]) {
		t.Fatalf("private key in the public file: %d %q", status, body)
	}
	if log := f.log.String(); strings.Contains(log, strings.Split(string(priv), "\n")[1]) || !strings.Contains(log, `route="GET `+serve.PublicKeyPath) {
		t.Fatalf("log: %s", log)
	}
	// The token endpoints are unchanged beside it.
	if r := f.refresh("nobody"); r.status != http.StatusUnauthorized {
		t.Fatalf("token endpoint: %d", r.status)
	}
}

func TestServeWithoutKeyOptionAnswersNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.start(serve.Options{})
	req, _ := http.NewRequest(http.MethodGet, f.base+serve.PublicKeyPath, nil)
	if r := f.do(req); r.status != http.StatusNotFound || r.str("error") != "not_found" {
		t.Fatalf("%d %v", r.status, r.body)
	}
}
