// Package fleetapi calls the few Tesla Fleet API endpoints keyfob uses to
// prove that a token works and to set up a partner account:
// /api/1/users/region, /api/1/users/me, the OIDC userinfo endpoint,
// /api/1/partner_accounts and /api/1/partner_accounts/public_key, and the
// public key an app hosts on its own domain.
//
// Every call records how it went (status, HTTP and TLS versions, latency)
// in an Exchange, so a report can show what was negotiated. Errors are
// typed (APIError, NetError, KeyError, MismatchError) and carry no secret:
// the bearer token is removed from any server text they quote. The package
// prints nothing; the command line decides what to say.
package fleetapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyfob/keyfob/oauth"
)

// DefaultTimeout bounds every request of a Client without its own
// *http.Client.
const DefaultTimeout = 30 * time.Second

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 1 << 20

// DefaultMaxWait is how long a Client waits, by default, when a server
// answers 429 with a Retry-After before asking once more.
const DefaultMaxWait = 10 * time.Second

// Client makes the calls. The zero value works, on Go's default transport
// (which negotiates HTTP/2 and honours HTTPS_PROXY and NO_PROXY).
//
// Rate limits are handled here, once for every call: a 429 answer's
// Retry-After and RateLimit-* headers are kept in its Exchange and its
// *APIError (which matches ErrRateLimited and says when to try again); a
// GET whose Retry-After is at most MaxWait is asked once more after that
// wait. Other methods are never repeated: a POST may have been acted on.
type Client struct {
	// HTTP makes every request; nil means a client with DefaultTimeout on
	// http.DefaultTransport.
	HTTP *http.Client
	// Now is the clock of reports; nil means time.Now. Latencies are always
	// measured on the real clock.
	Now func() time.Time
	// MaxWait bounds the wait for a 429's Retry-After before a GET is asked
	// again: 0 means DefaultMaxWait, a negative value never waits.
	MaxWait time.Duration
	// Sleep waits d, or until ctx ends (its error then); nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error

	// allowHTTP lets a token travel over plain http off this machine: the
	// opt-in of the account being checked (see Check).
	allowHTTP bool
}

var defaultHTTP = &http.Client{Timeout: DefaultTimeout}

func (c *Client) http() *http.Client {
	if c != nil && c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) now() time.Time {
	if c != nil && c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Exchange is one request as it went on the wire.
type Exchange struct {
	// Name is what the call is, e.g. "users/region".
	Name   string `json:"name"`
	Method string `json:"method"`
	// URL is the address asked, without credentials.
	URL string `json:"url"`
	// Status is the HTTP status of the answer, 0 when none came.
	Status int `json:"status"`
	// HTTPVersion is the protocol of the answer: "HTTP/2.0", "HTTP/1.1"; ""
	// when none came.
	HTTPVersion string `json:"http_version"`
	// TLSVersion is the TLS version negotiated, "TLS 1.3", "TLS 1.2"; ""
	// over plain HTTP or when no answer came.
	TLSVersion string `json:"tls_version"`
	// Latency is the time from sending the request to the end of the
	// answer's body.
	Latency time.Duration `json:"-"`
	// LatencyMS is Latency in milliseconds, for JSON.
	LatencyMS float64 `json:"latency_ms"`
	// Error is why the call failed ("" when it answered 2xx).
	Error string `json:"error"`
	// RetryAfterS is the wait, in seconds, that the answer's Retry-After
	// asked for (a 429 or 503); 0 when none.
	RetryAfterS float64 `json:"retry_after_s,omitempty"`
	// RateLimit holds the answer's RateLimit-* headers (Tesla's rate-limit
	// window: limit, remaining, reset), by lower-case name, as sent but
	// cleaned.
	RateLimit map[string]string `json:"rate_limit,omitempty"`
	// WaitedS is how long, in seconds, keyfob waited before this request,
	// as the Retry-After of the one before it asked (see Earlier).
	WaitedS float64 `json:"waited_s,omitempty"`
	// Earlier are the answers of this call that came before it: a 429
	// after which keyfob waited and asked again. Check lists them as calls
	// of their own (All).
	Earlier []Exchange `json:"-"`
}

// All is x's earlier answers, then x: every request the call made.
func (x Exchange) All() []Exchange {
	last := x
	last.Earlier = nil
	return append(append([]Exchange(nil), x.Earlier...), last)
}

// request describes one call.
type request struct {
	name, method, url string
	token             string // bearer token; "" sends none
	body              any    // JSON body, nil for none
}

// do runs one request and returns its exchange and the answer's body,
// which is non-nil only for a 2xx answer. A failure is a *NetError (no
// answer) or an *APIError (an answer that is not 2xx). A GET answered 429
// with a Retry-After of at most MaxWait is asked once more after that
// wait; the first answer is then in the exchange's Earlier.
func (c *Client) do(ctx context.Context, r request) (Exchange, []byte, error) {
	x, body, err := c.once(ctx, r)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || r.method != http.MethodGet ||
		ae.RetryAfter <= 0 || ae.RetryAfter > c.maxWait() {
		return x, body, err
	}
	if c.sleep(ctx, ae.RetryAfter) != nil {
		return x, body, err
	}
	again, body, err := c.once(ctx, r)
	again.WaitedS, again.Earlier = ae.RetryAfter.Seconds(), []Exchange{x}
	return again, body, err
}

func (c *Client) maxWait() time.Duration {
	if c == nil || c.MaxWait == 0 {
		return DefaultMaxWait
	}
	return c.MaxWait
}

// sleep waits d or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c != nil && c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// once runs one request: do without the retry.
func (c *Client) once(ctx context.Context, r request) (Exchange, []byte, error) {
	x := Exchange{Name: r.name, Method: r.method, URL: r.url}
	var rd io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return x, nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, rd)
	if err != nil {
		x.Error = "not a usable URL"
		return x, nil, &NetError{Endpoint: endpointOf(r.url), Cause: "the URL cannot be used"}
	}
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	hc := c.http()
	if r.token != "" && !c.allowHTTP {
		if err := insecure(req.URL); err != nil {
			x.Error = err.Error()
			return x, nil, err
		}
		hc = noInsecureRedirects(hc)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		x.Latency = time.Since(start)
		x.LatencyMS = ms(x.Latency)
		if errors.Is(err, oauth.ErrInsecureHTTP) {
			x.Error = errors.Unwrap(err).Error()
			return x, nil, errors.Unwrap(err)
		}
		ne := netError(ctx, r.url, err, r.token)
		x.Error = ne.Error()
		return x, nil, ne
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	x.Latency = time.Since(start)
	x.LatencyMS = ms(x.Latency)
	x.Status, x.HTTPVersion = resp.StatusCode, resp.Proto
	if resp.TLS != nil {
		x.TLSVersion = tls.VersionName(resp.TLS.Version)
	}
	retry := oauth.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	x.RetryAfterS, x.RateLimit = retry.Seconds(), rateLimitHeaders(resp.Header, r.token)
	if rerr != nil {
		ne := netError(ctx, r.url, rerr, r.token)
		x.Error = ne.Error()
		return x, nil, ne
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := newAPIError(r.method, r.url, resp.StatusCode, serverMessage(body, r.token))
		ae.RetryAfter, ae.RateLimit = retry, x.RateLimit
		x.Error = ae.Error()
		return x, nil, ae
	}
	return x, body, nil
}

// decode reads a 2xx JSON answer into out.
func decode(x *Exchange, body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return malformed(x)
	}
	return nil
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// endpointOf names a URL for messages as host + path: no scheme, query or
// credentials.
func endpointOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the server"
	}
	return u.Host + u.EscapedPath()
}

// joinBase appends path to a base URL, whatever slashes it ends with.
func joinBase(base, path string) string {
	return strings.TrimRight(strings.TrimSpace(base), "/") + path
}

// sameBase reports whether two base URLs name the same place: scheme and
// host compared without case, trailing slashes ignored.
func sameBase(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimRight(strings.TrimSpace(a), "/"))
	ub, err2 := url.Parse(strings.TrimRight(strings.TrimSpace(b), "/"))
	if err1 != nil || err2 != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) && ua.Path == ub.Path
}

// insecure refuses u when a token sent there would travel in clear text
// off this machine. The error matches oauth.ErrInsecureHTTP.
func insecure(u *url.URL) error {
	if !strings.EqualFold(u.Scheme, "http") || oauth.LoopbackHost(u.Host) {
		return nil
	}
	return fmt.Errorf("%w: %s is plain http to another machine, where anyone on the way could read the access token, so keyfob did not send it there; use its https address",
		oauth.ErrInsecureHTTP, endpointOf(u.String()))
}

// noInsecureRedirects is hc refusing to follow a redirect to a plain http
// address off this machine: Go forwards the Authorization header to the
// same host whatever the scheme.
func noInsecureRedirects(hc *http.Client) *http.Client {
	out := *hc
	next := hc.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := insecure(req.URL); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &out
}
