package oauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// portOf is the port of a URL.
func portOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Port() == "" {
		t.Fatalf("no port in %q", raw)
	}
	return u.Port()
}

// answers reports whether the flow's listener answers at base+path with
// its "waits for a sign-in answer" page.
func answers(base, path string) bool {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + path)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusBadRequest
}

// A localhost redirect listens on both 127.0.0.1 and ::1, on one port: a
// browser may resolve localhost to either. The answer may come to either.
func TestLocalhostListensOnBothLoopbacks(t *testing.T) {
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"a","token_type":"bearer"}`))
	for _, redirect := range []string{"http://localhost/cb", "http://localhost:" + freePort(t) + "/cb"} {
		a := customCodeAccount(srv.URL + "/token")
		a.Endpoints.RedirectURI = redirect
		f, err := (&Engine{}).StartCodeFlow(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		port := portOf(t, f.RedirectURI())
		if !strings.HasPrefix(f.RedirectURI(), "http://localhost:") {
			t.Errorf("redirect %q", f.RedirectURI())
		}
		for _, host := range []string{"127.0.0.1", "[::1]"} {
			if !answers("http://"+host+":"+port, "/cb") {
				t.Errorf("%s: nothing listens on %s:%s", redirect, host, port)
			}
		}
		done := make(chan error, 1)
		go func() { _, err := f.Wait(context.Background()); done <- err }()
		if status, body := browse(t, "http://[::1]:"+port+"/cb?code=c&state="+url.QueryEscape(f.state)); status != 200 {
			t.Errorf("the answer through ::1: %d %s", status, body)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// An [::1] redirect listens on ::1 only.
func TestIPv6LoopbackRedirect(t *testing.T) {
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"a","token_type":"bearer"}`))
	port := freePort(t)
	a := customCodeAccount(srv.URL + "/token")
	a.Endpoints.RedirectURI = "http://[::1]:" + port + "/done"
	f, err := (&Engine{}).StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.RedirectURI() != a.Endpoints.RedirectURI || !answers("http://[::1]:"+port, "/done") || answers("http://127.0.0.1:"+port, "/done") {
		t.Fatalf("redirect %q", f.RedirectURI())
	}
}

// A fleet redirect URI is used exactly as registered: without a port it
// is port 80, never a random one. Where keyfob cannot listen, the error
// says to register a loopback URI with a free port.
func TestFleetRedirectIsUsedExactly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	for _, redirect := range []string{"http://localhost:" + busyPort + "/callback", "http://127.0.0.1:" + busyPort + "/callback"} {
		_, err := (&Engine{}).StartCodeFlow(context.Background(), fleetOnLoopback("https://auth.example/token", redirect))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != FieldRedirectURI || !strings.Contains(err.Error(), "register a loopback redirect URI with a free port") ||
			!strings.Contains(err.Error(), "http://localhost:8976/callback") || !strings.Contains(err.Error(), busyPort) {
			t.Errorf("%s: %v", redirect, err)
		}
	}
	// No port: port 80 exactly, or the same advice when it cannot be had.
	f, err := (&Engine{}).StartCodeFlow(context.Background(), fleetOnLoopback("https://auth.example/token", "http://localhost/callback"))
	if err != nil {
		if !strings.Contains(err.Error(), "localhost:80") || !strings.Contains(err.Error(), "register a loopback redirect URI") {
			t.Fatalf("port 80: %v", err)
		}
		return
	}
	defer f.Close()
	if f.RedirectURI() != "http://localhost/callback" || !answers("http://127.0.0.1:80", "/callback") {
		t.Fatalf("redirect %q", f.RedirectURI())
	}
}

// Someone squatting ::1 on the port of a localhost redirect could take the
// code from a browser that resolves localhost to ::1: keyfob refuses.
func TestLocalhostRefusesAHalfTakenPort(t *testing.T) {
	squat, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer squat.Close()
	port := strconv.Itoa(squat.Addr().(*net.TCPAddr).Port)
	a := customCodeAccount("https://auth.example/token")
	a.Endpoints.RedirectURI = "http://localhost:" + port + "/cb"
	if _, err := (&Engine{}).StartCodeFlow(context.Background(), a); err == nil || !strings.Contains(err.Error(), "cannot listen on localhost:"+port) {
		t.Fatalf("got %v", err)
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		t.Error("the IPv4 listener was left open")
	}
}

// freePort returns a port free on both 127.0.0.1 and ::1 right now.
func freePort(t *testing.T) string {
	t.Helper()
	lns, err := listen(listenPlan{loopback: true, hosts: []string{"127.0.0.1", "::1"}, port: "0"})
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(lns[0].Addr().(*net.TCPAddr).Port)
	for _, ln := range lns {
		ln.Close()
	}
	return port
}
