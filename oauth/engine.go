// Package oauth is keyfob's OAuth engine: one implementation of every flow
// the account kinds need (authorization code with PKCE through a loopback
// listener or a pasted redirect URL, password, client credentials, refresh
// and revocation), Tesla presets per region, token inspection and typed,
// secret-free errors. It speaks to servers through golang.org/x/oauth2
// where the protocol is standard and through small JSON requests for the
// legacy owner-api endpoints.
//
// The package never stores anything: the accounts package owns the store
// and calls Engine through the accounts.Authority interface.
package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/keyfob/keyfob/accounts"
)

// DefaultTimeout bounds every HTTP call of an Engine without its own client.
const DefaultTimeout = 30 * time.Second

// defaultClient is NewHTTPClient's, so HTTP/2 stays negotiable (some
// Tesla endpoints reject HTTP/1.1 token requests).
var defaultClient = NewHTTPClient(DefaultTimeout)

// Engine talks to authorization servers. The zero value works. Plain http
// endpoints off loopback are used only for accounts with
// accounts.Account.AllowInsecureHTTP (the user's opt-in at login or
// import); every other account's refresh and revocation fail with
// ErrInsecureHTTP before sending anything.
type Engine struct {
	// HTTPClient makes every request; nil means NewHTTPClient(DefaultTimeout).
	// A client built otherwise must keep HTTP/2 negotiable (see
	// NewHTTPClient).
	HTTPClient *http.Client
	// OpenBrowser opens a URL for the code flows; nil means OpenBrowser.
	OpenBrowser func(url string) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnRegion hears, after a refresh of a, that its new token names
	// another region than a's (see RegionCheck): the faces show
	// c.String(). A safe correction comes back in the Grant's Region,
	// Audience and APIBaseURL, which the manager stores; c.Refused is set when the
	// correction would move the account between Tesla's .com and .cn
	// hosts, and the account then keeps its own. It is called on the
	// refreshing goroutine, so it must not block. nil means nobody
	// listens.
	OnRegion func(a accounts.Account, c RegionChange)
}

var _ accounts.Authority = (*Engine)(nil)

func (e *Engine) client() *http.Client {
	if e != nil && e.HTTPClient != nil {
		return e.HTTPClient
	}
	return defaultClient
}

func (e *Engine) now() time.Time {
	if e != nil && e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// recording returns a client that records into c, for one request
// sequence, plus a context that makes x/oauth2 use it.
func (e *Engine) recording(ctx context.Context, c *call, extraForm url.Values) (context.Context, *http.Client) {
	base := e.client()
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc := *base
	hc.Transport = &recorder{base: rt, c: c, extraForm: extraForm}
	hc.CheckRedirect = noRedirectedPosts(base.CheckRedirect)
	return context.WithValue(ctx, oauth2.HTTPClient, &hc), &hc
}

// noRedirectedPosts refuses to follow a redirect of a POST: token and
// revocation requests carry codes and secrets, and a redirect would send
// them to a host nobody configured. The 3xx answer becomes the error.
func noRedirectedPosts(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && via[0].Method == http.MethodPost {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// maxAnswer bounds how much of an answer keyfob reads.
const maxAnswer = 1 << 20

// doCall sends one request of keyfob's own (not through x/oauth2),
// recording into c (whose redactor then knows the request's secrets, and
// whose allowHTTP says whether plain http off loopback may be used), and
// decodes a 2xx JSON answer into out (when out is not nil). Any failure
// comes back classified.
func (e *Engine) doCall(ctx context.Context, c *call, op operation, method, rawURL string, header http.Header, body []byte, out any) error {
	ctx, hc := e.recording(ctx, c, nil)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return fmt.Errorf("the URL %s cannot be used (%v); check the account's endpoints", endpointOf(rawURL), urlProblem(err))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.endpoint = endpointOf(rawURL)
		return e.classify(ctx, c, op, err)
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if err != nil {
		return e.classify(ctx, c, op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answerError(c, op, e.now())
	}
	if out == nil {
		return nil
	}
	if looksHTML(c) {
		return &ServerError{Endpoint: c.endpoint, StatusCode: c.status, Kind: KindHTML, op: op}
	}
	if c.body.Len() >= maxRecordedBody {
		return &ServerError{Endpoint: c.endpoint, StatusCode: c.status, Kind: KindMalformed, op: op}
	}
	if err := json.Unmarshal(c.body.Bytes(), out); err != nil {
		return &ServerError{Endpoint: c.endpoint, StatusCode: c.status, Kind: KindMalformed, op: op}
	}
	return nil
}

// urlProblem says what is wrong with a URL without repeating it whole.
func urlProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return cleanText(ue.Err.Error(), 80)
	}
	return "not a valid URL"
}
