package serve_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// TeslaMate's refresh, from teslamate-org/teslamate at 8a692e29
// (lib/tesla_api/auth/refresh.ex, lib/tesla_api/auth.ex,
// lib/tesla_api/middleware/fleet_auth.ex, lib/teslamate/http.ex):
//
//   - the URL is TESLA_AUTH_HOST <> TESLA_AUTH_PATH <> "/token", where
//     TESLA_AUTH_PATH defaults to "" once TESLA_AUTH_HOST is set;
//   - the body is the map %{grant_type:, scope:, client_id:, refresh_token:}
//     encoded by Tesla.Middleware.JSON (keys in Erlang's sorted order for
//     small maps), Content-Type application/json;
//   - the headers are the client's defaults (user-agent, Accept,
//     Accept-Language), plus Authorization: Bearer TOKEN when the fleet
//     proxy variable TOKEN is set;
//   - over https the pool speaks HTTP/1.1 or HTTP/2 with TLS 1.3 only;
//   - the answer is read as JSON (when its Content-Type is
//     application/json): access_token, token_type, expires_in (times 0.75
//     schedules the next refresh), refresh_token (kept for the next one),
//     created_at.
func teslaMateRequest(host, path, cred, proxyToken string) string {
	body := fmt.Sprintf(`{"client_id":"ownerapi","grant_type":"refresh_token","refresh_token":%q,"scope":"openid email offline_access"}`, cred)
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s/token HTTP/1.1\r\n", path)
	fmt.Fprintf(&b, "host: %s\r\n", host)
	b.WriteString("user-agent: TeslaMate/4.2.0-dev\r\n")
	b.WriteString("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8\r\n")
	b.WriteString("Accept-Language: en-US,de-DE;q=0.5\r\n")
	b.WriteString("content-type: application/json\r\n")
	if proxyToken != "" {
		b.WriteString("Authorization: Bearer " + proxyToken + "\r\n")
	}
	fmt.Fprintf(&b, "content-length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// checkTeslaMateAnswer reads the answer as TeslaMate does.
func checkTeslaMateAnswer(t *testing.T, f *fixture, resp *http.Response, cred string) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	_, _ = f.bodies.Write(raw)
	var body map[string]any
	must(t, resp.StatusCode == 200 && resp.Header.Get("Content-Type") == "application/json" && json.Unmarshal(raw, &body) == nil,
		"status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	expiresIn, isNumber := body["expires_in"].(float64)
	_, createdIsNumber := body["created_at"].(float64)
	must(t, body["access_token"] == f.account("car").AccessToken && body["token_type"] == "Bearer" &&
		body["refresh_token"] == cred && isNumber && expiresIn > 3000 && expiresIn == float64(int64(expiresIn)) && createdIsNumber,
		"answer %s", raw)
}

// TestTeslaMateReplay sends TeslaMate's refresh request, byte for byte,
// for both ways of setting TESLA_AUTH_PATH and with the fleet proxy's
// Authorization header: pointing TESLA_AUTH_HOST at keyfob is all the
// set-up TeslaMate needs.
func TestTeslaMateReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", -time.Minute))
	cred := f.add("teslamate", "car")
	f.start(serve.Options{})
	host := strings.TrimPrefix(f.base, "http://")
	for _, tc := range []struct{ path, proxy string }{{"/oauth2/v3", ""}, {"", ""}, {"/oauth2/v3", "proxy-token-of-the-fleet-proxy"}} {
		conn, err := net.Dial("tcp", host)
		must(t, err == nil, "%v", err)
		_, err = io.WriteString(conn, teslaMateRequest(host, tc.path, cred, tc.proxy))
		must(t, err == nil, "%v", err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		must(t, err == nil, "TESLA_AUTH_PATH=%q: %v", tc.path, err)
		checkTeslaMateAnswer(t, f, resp, cred)
		conn.Close()
	}
	must(t, f.srv.Stats().Refreshes == 1, "%d refreshes", f.srv.Stats().Refreshes)
	must(t, len(f.logLines("teslamate")) == 3, "log %q", f.log.String())
}

// TestTeslaMateOverTLS13: TeslaMate's pool for an https TESLA_AUTH_HOST
// offers HTTP/2 and TLS 1.3 only; keyfob serve with --tls-cert answers it
// in HTTP/2.
func TestTeslaMateOverTLS13(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour))
	cred := f.add("teslamate", "car")
	f.startTLS()
	tr := f.client.Transport.(*http.Transport)
	tr.TLSClientConfig.MinVersion, tr.TLSClientConfig.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	raw := teslaMateRequest(strings.TrimPrefix(f.base, "https://"), "/oauth2/v3", cred, "")
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	must(t, err == nil, "%v", err)
	req.RequestURI, req.URL.Scheme, req.URL.Host = "", "https", req.Host
	resp, err := f.client.Do(req)
	must(t, err == nil, "%v", err)
	must(t, resp.ProtoMajor == 2 && resp.TLS != nil && resp.TLS.Version == tls.VersionTLS13, "proto %s", resp.Proto)
	checkTeslaMateAnswer(t, f, resp, cred)
}
