package sandbox

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestStartAtRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "127.0.0.1", ""} {
		s, err := StartAt(addr, Options{})
		if err == nil {
			s.Close()
			t.Errorf("StartAt(%q) listened on %s", addr, s.URL())
		}
	}
}

func TestStartAtLoopback(t *testing.T) {
	s, err := StartAt("localhost:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	if r := get(t, s.URL()+"/.well-known/openid-configuration"); r.status != 200 {
		t.Fatalf("discovery: %d", r.status)
	}

	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback here")
	}
	ln.Close()
	s6, err := StartAt("[::1]:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s6.Close()
	if !strings.HasPrefix(s6.URL(), "http://[::1]:") {
		t.Fatalf("URL %q", s6.URL())
	}
	if r := get(t, s6.Issuer()+"/.well-known/openid-configuration"); r.status != 200 || r.str(t, "issuer") != s6.Issuer() {
		t.Fatalf("IPv6 discovery: %d %s", r.status, r.body)
	}
}

func TestStartAtBusyPort(t *testing.T) {
	s := NewTest(t, Options{})
	addr := strings.TrimPrefix(s.URL(), "http://")
	if s2, err := StartAt(addr, Options{}); err == nil {
		s2.Close()
		t.Fatal("two servers on one port")
	}
}

func TestNewTestClosesInCleanup(t *testing.T) {
	var base string
	t.Run("inner", func(t *testing.T) {
		base = NewTest(t, Options{}).URL()
		if r := get(t, base+"/.well-known/openid-configuration"); r.status != 200 {
			t.Fatalf("%d", r.status)
		}
	})
	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err == nil {
		resp.Body.Close()
		t.Fatal("the server outlived its test")
	}
}
