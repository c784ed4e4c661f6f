package oauth

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyfob/keyfob/accounts"
)

// statePlaceholder in a fuzz input stands for the state of the flow under
// test, which is random and so out of the fuzzer's reach.
const statePlaceholder = "STATE"

// callbackPage matches the whole page the loopback handler writes; the
// title and the text are HTML-escaped, so neither may hold a tag, a quote
// or an angle bracket.
var callbackPage = regexp.MustCompile(`\A` + regexp.QuoteMeta(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>keyfob</title>
<style>`) + `[^<]*` + regexp.QuoteMeta(`</style>
</head><body><h1>`) + `([^<>"']*)</h1><p>([^<>"']*)` + regexp.QuoteMeta(`</p></body></html>
`) + `\z`)

// FuzzCallback sends what the browser could bring back to the loopback
// listener of a real code flow, with Wait running as in a login: the query
// string, and a form body for a response_mode=form_post answer (a POST when
// the body is not empty). "STATE" in either stands for the flow's state.
//
// Properties: the handler never panics and answers 2xx or 4xx with the
// HTML page, its text escaped; a callback whose state (the first one the
// handler reads) is not the flow's gets a 400 and ends nothing: it never
// reaches the token endpoint and Wait goes on until the flow is closed; at
// most one exchange happens, with a code from the callback; Wait succeeds
// exactly when a code was exchanged; the page never shows the state or the
// code unless the server's own error text (error, error_description)
// carried them.
//
// Each input gets a new flow with its own listener, but the request goes
// through one keep-alive server per fuzz worker that hands it to that
// flow's handler: a TCP connection per input would leave hundreds of
// thousands of sockets in TIME_WAIT after a minute of fuzzing. The seed
// corpus is in testdata/fuzz/FuzzCallback.
func FuzzCallback(f *testing.F) {
	h := newCallbackHarness(f)
	f.Add("code=fuzz-code&state="+statePlaceholder, "")
	f.Fuzz(func(t *testing.T, query, form string) {
		run := h.run(t, query, form)
		run.checkPage(t)
		run.checkOutcome(t)
		run.checkSecrets(t)
	})
}

// callbackHarness is the token endpoint and the keep-alive front server
// of FuzzCallback.
type callbackHarness struct {
	exchanges     atomic.Int32
	exchangedCode atomic.Value // string
	current       atomic.Pointer[CodeFlow]
	panicked      atomic.Value // string
	front         *httptest.Server
	acct          accounts.Account
}

func newCallbackHarness(f *testing.F) *callbackHarness {
	h := &callbackHarness{}
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		h.exchangedCode.Store(r.PostForm.Get("code"))
		h.exchanges.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"fuzz-access","token_type":"Bearer","expires_in":3600,"refresh_token":"fuzz-refresh"}`)
	}))
	f.Cleanup(token.Close)
	h.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				h.panicked.Store(fmt.Sprintf("%v\n%s", p, debug.Stack()))
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		h.current.Load().srv.Handler.ServeHTTP(w, r)
	}))
	f.Cleanup(h.front.Close)
	h.acct = customCodeAccount(token.URL + "/token")
	return h
}

// callbackRun is what one fuzz input did.
type callbackRun struct {
	query, form string
	state       string // the flow's
	resp        *http.Response
	raw         []byte
	waitErr     error
	exchanges   int32
	exchanged   string
	values      url.Values // every parameter the callback carried
}

// run sends one callback to a new flow whose Wait is running, then closes
// the flow and collects what happened.
func (h *callbackHarness) run(t *testing.T, query, form string) callbackRun {
	ctx := context.Background()
	flow, err := (&Engine{}).StartCodeFlow(ctx, h.acct)
	if err != nil || !flow.Loopback() {
		t.Fatalf("the flow has no listener: %v", err)
	}
	defer flow.Close()
	r := callbackRun{state: flow.state}
	r.query = strings.ReplaceAll(query, statePlaceholder, flow.state)
	r.form = strings.ReplaceAll(form, statePlaceholder, flow.state)
	h.current.Store(flow)
	done := make(chan error, 1)
	go func() { _, err := flow.Wait(ctx); done <- err }()
	before := h.exchanges.Load()
	h.exchangedCode.Store("")
	r.resp, r.raw = h.send(t, flow, r.query, r.form)
	_ = flow.Close()
	r.waitErr = <-done
	if p, ok := h.panicked.Load().(string); ok && p != "" {
		t.Fatalf("the handler panicked: %s", p)
	}
	r.exchanges = h.exchanges.Load() - before
	r.exchanged, _ = h.exchangedCode.Load().(string)
	r.values = callbackValues(r.query, r.form)
	return r
}

// send plays the browser coming back to the flow's redirect URI.
func (h *callbackHarness) send(t *testing.T, flow *CodeFlow, query, form string) (*http.Response, []byte) {
	method, body := http.MethodGet, io.Reader(nil)
	if form != "" {
		method, body = http.MethodPost, strings.NewReader(form)
	}
	redirect, err := url.Parse(flow.RedirectURI())
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.front.URL+redirect.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = requestTargetSafe(query)
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := h.front.Client().Do(req)
	if err != nil {
		t.Fatalf("the listener did not answer: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// shown is the page's title and text, unescaped.
func (r callbackRun) shown(t *testing.T) string {
	m := callbackPage.FindSubmatch(r.raw)
	if m == nil || strings.Contains(strings.ToLower(string(r.raw)), "<script") {
		t.Fatalf("the page is not the escaped template:\n%s", r.raw)
	}
	title, text := string(m[1]), string(m[2])
	for _, part := range []string{title, text} {
		if html.EscapeString(html.UnescapeString(part)) != part {
			t.Fatalf("the page holds unescaped text: %q", part)
		}
	}
	return html.UnescapeString(title) + "\n" + html.UnescapeString(text)
}

// checkPage: the answer is the page, 2xx or 4xx, with its headers.
func (r callbackRun) checkPage(t *testing.T) {
	if s := r.resp.StatusCode; (s < 200 || s > 299) && (s < 400 || s > 499) {
		t.Fatalf("status %d", s)
	}
	if ct := r.resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if r.resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(r.resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("headers %v", r.resp.Header)
	}
	r.shown(t)
}

// checkOutcome: the state decides whether anything ends, and the code is
// used at most once.
func (r callbackRun) checkOutcome(t *testing.T) {
	carried := slices.Contains(r.values["state"], r.state)
	first := len(r.values["state"]) > 0 && r.values["state"][0] == r.state
	shown := r.shown(t)
	switch {
	case r.exchanges > 1:
		t.Fatalf("%d exchanges for one callback", r.exchanges)
	case r.exchanges == 1 && !carried:
		t.Fatalf("a callback without the flow's state was exchanged: query %q form %q", r.query, r.form)
	case r.exchanges == 1 && !slices.Contains(r.values["code"], r.exchanged):
		t.Fatalf("exchanged %q, which the callback did not carry (%q)", r.exchanged, r.values["code"])
	case (r.exchanges == 1) != (r.waitErr == nil):
		t.Fatalf("%d exchanges but Wait returned %v", r.exchanges, r.waitErr)
	case r.exchanges == 1 && (r.resp.StatusCode != http.StatusOK || !strings.HasPrefix(shown, "Signed in to keyfob")):
		t.Fatalf("a successful login shows %d %q", r.resp.StatusCode, shown)
	case errors.Is(r.waitErr, ErrStateMismatch):
		t.Fatalf("a callback ended the login as a mismatch: %q %q", r.query, r.form)
	case !first && (r.resp.StatusCode != http.StatusBadRequest || !errors.Is(r.waitErr, ErrLoginCancelled) || r.exchanges != 0):
		t.Fatalf("a callback without the flow's state got %d and Wait %v: %q %q", r.resp.StatusCode, r.waitErr, r.query, r.form)
	}
	if r.exchanges == 0 && r.resp.StatusCode == http.StatusOK && !strings.HasPrefix(shown, "Sign-in failed") {
		t.Fatalf("a failed callback shows %q", shown)
	}
}

// checkSecrets: neither the state nor the code is shown, unless the
// server's own error text carried it (the page may repeat that, escaped).
func (r callbackRun) checkSecrets(t *testing.T) {
	shown := r.shown(t)
	serverText := strings.Join(append(r.values["error"], r.values["error_description"]...), "\n")
	if strings.Contains(shown, r.state) && !strings.Contains(serverText, r.state) {
		t.Fatalf("the page shows the state: %q", shown)
	}
	for _, code := range r.values["code"] {
		if len(code) >= 12 && strings.Contains(shown, code) && !strings.Contains(serverText, code) {
			t.Fatalf("the page shows the code %q: %q", code, shown)
		}
	}
}

// requestTargetSafe percent-encodes the bytes that cannot appear in an
// HTTP request line (controls and spaces), as a browser does; everything
// else, broken escapes included, reaches the handler as it is.
func requestTargetSafe(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// callbackValues is every value of the callback's parameters, body and
// query together, as far as they parse.
func callbackValues(query, form string) url.Values {
	out := url.Values{}
	for _, s := range []string{form, requestTargetSafe(query)} {
		v, _ := url.ParseQuery(s)
		for k, vs := range v {
			out[k] = append(out[k], vs...)
		}
	}
	return out
}
