package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// call records what happened on the wire during one request, so an error
// can be classified from the status, headers and body no matter how the
// OAuth library reported it. The body is kept only for classification and
// never put in a message.
type call struct {
	// deadline is the request's (the client's timeout sets one), zero when
	// it has none.
	deadline time.Time
	sent     atomic.Bool // the request was written in full (set by the transport)
	endpoint string
	status   int
	header   http.Header
	body     bytes.Buffer
	readErr  error
	// redact knows every secret the requests carried, to keep them out of
	// whatever the server answered.
	redact redactor
	// allowHTTP lets the requests go over plain http off loopback: the
	// user's opt-in. Without it the recorder refuses them unsent.
	allowHTTP bool
}

const maxRecordedBody = 64 << 10

// recorder is a RoundTripper that fills a call and, when extraForm is set,
// adds fields to form-encoded POST bodies (x/oauth2's refresher cannot send
// extra parameters, and the Owner API refresh wants a scope).
type recorder struct {
	base      http.RoundTripper
	c         *call
	extraForm url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.c.endpoint = endpointOf(req.URL.String())
	r.c.deadline, _ = req.Context().Deadline()
	r.c.status, r.c.header, r.c.readErr = 0, nil, nil
	r.c.sent.Store(false)
	r.c.body.Reset()
	if !r.c.allowHTTP && insecureURL(req.URL.String()) {
		return nil, refusedRequest(req.URL)
	}
	if len(r.extraForm) > 0 && req.Method == http.MethodPost && req.Body != nil &&
		strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		var err error
		if req, err = withExtraForm(req, r.extraForm); err != nil {
			return nil, err
		}
	}
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	r.c.redact.addRequest(req, body)
	c := r.c
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				c.sent.Store(true)
			}
		},
	}))
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.c.status, r.c.header = resp.StatusCode, resp.Header
	resp.Body = &recordedBody{ReadCloser: resp.Body, c: r.c}
	return resp, nil
}

func withExtraForm(req *http.Request, extra url.Values) (*http.Request, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(req.Body); err != nil {
		return nil, err
	}
	_ = req.Body.Close()
	form, err := url.ParseQuery(buf.String())
	if err != nil {
		return nil, err
	}
	for k, vs := range extra {
		if _, set := form[k]; !set {
			form[k] = vs
		}
	}
	body := form.Encode()
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(strings.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	return out, nil
}

type recordedBody struct {
	io.ReadCloser
	c *call
}

func (b *recordedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := maxRecordedBody - b.c.body.Len(); room > 0 {
		b.c.body.Write(p[:min(n, room)])
	}
	if err != nil && !errors.Is(err, io.EOF) {
		b.c.readErr = err
	}
	return n, err
}

// classify turns any failure of a request into a clear error. err is what
// the OAuth library (or keyfob's own request code) returned; c is what the
// recorder saw.
func (e *Engine) classify(ctx context.Context, c *call, op operation, err error) error {
	se := &ServerError{Endpoint: c.endpoint, StatusCode: c.status, op: op, timeout: e.client().Timeout, redact: &c.redact,
		sent: c.sent.Load()}
	if se.Endpoint == "" {
		se.Endpoint = "the server"
	}
	if c.header != nil {
		se.RetryAfter = retryAfter(c.header.Get("Retry-After"), e.now())
	}

	var fe *FieldError
	if errors.As(err, &fe) {
		// The recorder refused to send it.
		return fe
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			se.StatusCode = re.Response.StatusCode
			if se.RetryAfter == 0 {
				se.RetryAfter = retryAfter(re.Response.Header.Get("Retry-After"), e.now())
			}
		}
		se.Code = c.redact.code(re.ErrorCode)
		se.Description = c.redact.clean(re.ErrorDescription, 200)
		se.Kind = KindOAuth
		if se.Code == "" && c.status != 0 && looksHTML(c) {
			se.Kind = KindHTML
		}
		return se
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			se.Kind, se.Err, se.timeout = KindTimeout, ctxErr, 0
			return se
		}
		return fmt.Errorf("the request to %s was cancelled: %w", se.Endpoint, ctxErr)
	}
	if c.readErr != nil {
		err = c.readErr
	}
	var te interface{ Timeout() bool }
	timedOut := errors.As(err, &te) && te.Timeout()
	// A body cut by the client's timeout does not always say so; nothing
	// else cancels the request once the context is fine. The deadline is
	// the client's own, set before the request reaches the recorder: a time
	// taken here would start late, by more the busier the machine.
	if c.readErr != nil && !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		timedOut = true
	}
	if timedOut {
		se.Kind, se.Err = KindTimeout, err
		return se
	}
	if c.status == 0 || c.readErr != nil {
		se.Kind, se.Err = KindNetwork, err
		if c.readErr != nil {
			se.Err = c.readErr
		}
		return se
	}
	// A response arrived and the library could not use it.
	switch {
	case looksHTML(c):
		se.Kind = KindHTML
	case !isJSONObject(c):
		se.Kind = KindMalformed
	default:
		se.Kind = KindMissingFields
	}
	return se
}

// answerError classifies a complete answer to one of keyfob's own requests
// (legacy grants, revocation, discovery, userinfo) that was not a success.
func answerError(c *call, op operation, now time.Time) *ServerError {
	se := &ServerError{Endpoint: c.endpoint, StatusCode: c.status, op: op, Kind: KindOAuth, redact: &c.redact}
	if c.header != nil {
		se.RetryAfter = retryAfter(c.header.Get("Retry-After"), now)
	}
	var body struct {
		Error       any    `json:"error"`
		Description string `json:"error_description"`
	}
	switch {
	case looksHTML(c):
		se.Kind = KindHTML
	case c.body.Len() > 0 && json.Unmarshal(c.body.Bytes(), &body) == nil:
		if s, ok := body.Error.(string); ok {
			se.Code = c.redact.code(s)
		}
		se.Description = c.redact.clean(body.Description, 200)
	case c.status >= 200 && c.status < 300:
		se.Kind = KindMalformed
	}
	return se
}

func looksHTML(c *call) bool {
	if c.header != nil {
		if mt, _, err := mime.ParseMediaType(c.header.Get("Content-Type")); err == nil &&
			(mt == "text/html" || mt == "application/xhtml+xml") {
			return true
		}
	}
	b := bytes.TrimSpace(c.body.Bytes())
	return len(b) > 0 && b[0] == '<'
}

func isJSONObject(c *call) bool {
	var m map[string]any
	return json.Unmarshal(c.body.Bytes(), &m) == nil
}

// ParseRetryAfter reads a Retry-After header at now: a number of seconds
// or an HTTP date. It is 0 when absent, unreadable, past, or more than a
// day away.
func ParseRetryAfter(v string, now time.Time) time.Duration { return retryAfter(v, now) }

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > 86400 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}
