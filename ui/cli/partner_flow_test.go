package cli

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// startServe runs keyfob serve in-process on loopback until the test ends
// and returns its base URL.
func (e *env) startServe() string {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.invoke(call{ctx: ctx, stderr: pw}, "serve", "--addr", "127.0.0.1:0")
		pw.Close()
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var seen strings.Builder
		for {
			n, err := pr.Read(buf)
			seen.Write(buf[:n])
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(seen.String()); m != nil {
				found <- m[1]
				_, _ = io.Copy(io.Discard, pr)
				return
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case base := <-found:
		if e.serveAt != nil {
			e.serveAt(base)
		}
		return base
	case <-time.After(20 * time.Second):
		e.t.Fatal("keyfob serve did not start")
	}
	return ""
}

// keyfobDomainEnv is a sandbox and an app's domain on loopback: a TLS
// reverse proxy in front of where keyfob serve listens once the test
// starts it (e.startServe), as a tunnel would be. Until then the domain
// answers 502.
func keyfobDomainEnv(t *testing.T) (*env, string) {
	e := newEnv(t, sandbox.Options{})
	var target atomic.Pointer[url.URL]
	target.Store(&url.URL{Scheme: "http", Host: "127.0.0.1:9"})
	rp := &httputil.ReverseProxy{
		Rewrite:  func(r *httputil.ProxyRequest) { r.SetURL(target.Load()) },
		ErrorLog: log.New(io.Discard, "", 0),
	}
	proxy := httptest.NewUnstartedServer(rp)
	proxy.Config.ErrorLog = log.New(io.Discard, "", 0)
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	e.srv.Close()
	e.srv = sandbox.NewTest(t, sandbox.Options{PartnerHTTPClient: proxy.Client()})
	e.client = proxy.Client()
	e.serveAt = func(base string) {
		u, _ := url.Parse(base)
		target.Store(u)
	}
	return e, proxy.Listener.Addr().String()
}

// TestKeyServedByKeyfobRegisteredInEveryRegion: the app's domain is a TLS
// reverse proxy in front of keyfob serve, as a tunnel would be. keygen,
// then register with a partner account of na alone registers in na and
// eu (eu's partner token is fetched and not kept); check finds the
// domain, the key file and Tesla agreeing.
func TestKeyServedByKeyfobRegisteredInEveryRegion(t *testing.T) {
	t.Parallel()
	e, domain := keyfobDomainEnv(t)
	e.startServe()

	if r := e.run("", "partner", "register", "--domain", domain); r.code != 3 {
		t.Fatalf("no partner account: %d %s", r.code, r.stderr)
	}
	e.loginPartner("biz", "na")
	// No key yet: the domain answers 404 through keyfob serve.
	if r := e.run("", "partner", "register", "--domain", domain); r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Fatalf("no key: %d %s", r.code, r.stderr)
	}
	e.mustRun("", "partner", "keygen")
	_, point, err := fleetapp.Keys{Dir: e.storeDir()}.Public()
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(point)
	before := e.srv.Stats().ClientCredentials
	r := e.mustRun("", "partner", "register", "--domain", domain)
	for _, region := range []string{"na", "eu"} {
		got, ok := e.srv.PartnerPublicKey(region, domain)
		if !ok || hex.EncodeToString(got) != want {
			t.Fatalf("region %s: not registered with the key file's key\n%s", region, r.stdout)
		}
		if !strings.Contains(r.stdout, "Registered "+domain+" with Tesla in region "+region) {
			t.Fatalf("stdout: %s", r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "token from  a partner token of biz's app for eu, not kept") ||
		e.srv.Stats().ClientCredentials != before+1 || len(e.store().Accounts) != 1 {
		t.Fatalf("eu's token: %+v %s", e.srv.Stats(), r.stdout)
	}
	app, ok, err := (fleetapp.Apps{Dir: e.storeDir()}).Find(sandbox.PartnerClientID)
	if err != nil || !ok || app.Domain != domain || strings.Join(app.RegisteredRegions(), ",") != "eu,na" {
		t.Fatalf("remembered: %v %+v", err, app)
	}
	r = e.mustRun("", "partner", "check", "--domain", domain)
	if !strings.Contains(r.stdout, "Key file     "+e.storeDir()) || strings.Count(r.stdout, "✓ same as the domain's") != 3 ||
		!strings.Contains(r.stdout, "✓ match") {
		t.Fatalf("check: %s", r.stdout)
	}
	r = e.mustRun("", "partner", "check", "--domain", domain, "--region", "eu")
	if strings.Contains(r.stdout, "Tesla (na)") || !strings.Contains(r.stdout, "Tesla (eu)") {
		t.Fatalf("--region eu: %s", r.stdout)
	}

	// A new key pair: keyfob serve publishes it at once; Tesla holds the
	// old one until registered again.
	e.mustRun("", "partner", "keygen", "--force")
	r = e.run("", "partner", "check", "--domain", domain)
	if r.code != 1 || !strings.Contains(r.stdout, "✗ differs from the domain's") ||
		!strings.Contains(r.stderr, "in region na, eu; register again to update it: keyfob partner register --domain "+domain) {
		t.Fatalf("after a new key: %d %s %s", r.code, r.stdout, r.stderr)
	}
	e.mustRun("", "partner", "register", "--domain", domain, "--region", "eu")
	r = e.run("", "partner", "check", "--domain", domain)
	if r.code != 1 || !strings.Contains(r.stderr, "in region na; register again") {
		t.Fatalf("eu registered again, na not: %d %s", r.code, r.stderr)
	}
	if r := e.run("", "partner", "check", "--domain", domain, "--region", "mars"); r.code != 2 {
		t.Fatalf("unknown region: %d %s", r.code, r.stderr)
	}
}

// TestPartnerCheckSaysTheKeyFileDiffers: the domain serves another key
// than keyfob's key file.
func TestPartnerCheckSaysTheKeyFileDiffers(t *testing.T) {
	t.Parallel()
	e, h := partnerEnv(t)
	e.loginPartner("biz", "na")
	hosted, _ := ecdh.P256().GenerateKey(rand.Reader)
	h.serve(t, hosted.PublicKey())
	e.mustRun("", "partner", "register", "--domain", h.domain())
	e.mustRun("", "partner", "check", "--domain", h.domain())
	e.mustRun("", "partner", "keygen")
	r := e.run("", "partner", "check", "--domain", h.domain())
	if r.code != 1 || !strings.Contains(r.stdout, "✗ differs from the domain's") ||
		!strings.Contains(r.stderr, h.domain()+" serves another key than keyfob's key file") ||
		!strings.Contains(r.stderr, "keyfob partner keygen --import FILE --force") {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
}
