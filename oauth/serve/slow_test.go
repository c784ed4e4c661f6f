package serve_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// TestSlowClientsAreCutOff: a body that does not arrive within a few
// seconds of its headers is answered 408 and its connection closed, and
// a connection that sends no complete headers is closed as soon; neither
// holds a connection for long. Once with the service's own timeouts, and
// once with both shortened to a second (which must then cut sooner).
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	t.Run("the service's own timeouts", func(t *testing.T) {
		t.Parallel()
		testSlowClients(t, 0, 10*time.Second)
	})
	t.Run("timeouts of a second", func(t *testing.T) {
		t.Parallel()
		testSlowClients(t, time.Second, 4*time.Second)
	})
}

// testSlowClients runs TestSlowClientsAreCutOff with the service's header
// and body timeouts set to wait (its own when 0): both slow clients must
// be cut off within limit.
func testSlowClients(t *testing.T, wait, limit time.Duration) {
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour))
	cred := f.add("tm", "car")
	if wait > 0 {
		f.beforeServe = func(s *serve.Server) { s.SetClientTimeouts(wait, wait) }
	}
	f.start(serve.Options{})
	addr := strings.TrimPrefix(f.base, "http://")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		must(t, err == nil, "%v", err)
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(15 * time.Second))
		return c
	}
	body := "grant_type=refresh_token&refresh_token=" + cred
	slowBody, slowHeaders := dial(), dial()
	start := time.Now()
	fmt.Fprintf(slowBody, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		serve.TokenPath, addr, len(body), body[:10])
	fmt.Fprintf(slowHeaders, "POST %s HTTP/1.1\r\nHost: %s\r\n", serve.TokenPath, addr)
	resp, err := http.ReadResponse(bufio.NewReader(slowBody), nil)
	must(t, err == nil, "the slow body got no answer: %v", err)
	resp.Body.Close()
	took := time.Since(start)
	must(t, resp.StatusCode == http.StatusRequestTimeout && took < limit, "the slow body: %d after %v", resp.StatusCode, took)
	_, err = slowHeaders.Read(make([]byte, 1))
	must(t, err != nil && time.Since(start) < limit, "the connection without complete headers is still open after %v", time.Since(start))
	must(t, strings.Contains(f.log.String(), "status=408 outcome=invalid_request"), "log:\n%s", f.log.String())
	// The service still answers.
	must(t, f.refresh(cred).status == 200, "no answer after the slow clients")
}
