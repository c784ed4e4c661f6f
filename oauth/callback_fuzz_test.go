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
// HTML page, its text escaped; a callback without the flow's state never
// reaches the token endpoint, and at most one exchange happens, with a code
// from the callback; Wait succeeds exactly when a code was exchanged; the
// page never shows the state or the code unless the server's own error
// text (error, error_description) carried them.
//
// Each input gets a new flow with its own listener, but the request goes
// through one keep-alive server per fuzz worker that hands it to that
// flow's handler: a TCP connection per input would leave hundreds of
// thousands of sockets in TIME_WAIT after a minute of fuzzing. The seed
// corpus is in testdata/fuzz/FuzzCallback.
func FuzzCallback(f *testing.F) {
	var exchanges atomic.Int32
	var exchangedCode atomic.Value // string
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		exchangedCode.Store(r.PostForm.Get("code"))
		exchanges.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"fuzz-access","token_type":"Bearer","expires_in":3600,"refresh_token":"fuzz-refresh"}`)
	}))
	f.Cleanup(token.Close)

	var current atomic.Pointer[CodeFlow]
	var panicked atomic.Value // string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				panicked.Store(fmt.Sprintf("%v\n%s", p, debug.Stack()))
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		current.Load().srv.Handler.ServeHTTP(w, r)
	}))
	f.Cleanup(front.Close)
	client := front.Client()

	e := &Engine{}
	acct := customCodeAccount(token.URL + "/token")

	f.Add("code=fuzz-code&state="+statePlaceholder, "")
	f.Fuzz(func(t *testing.T, query, form string) {
		ctx := context.Background()
		flow, err := e.StartCodeFlow(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		defer flow.Close()
		if !flow.Loopback() {
			t.Fatal("the flow has no listener")
		}
		query = strings.ReplaceAll(query, statePlaceholder, flow.state)
		form = strings.ReplaceAll(form, statePlaceholder, flow.state)
		current.Store(flow)

		type waited struct{ err error }
		done := make(chan waited, 1)
		go func() {
			_, err := flow.Wait(ctx)
			done <- waited{err}
		}()

		before := exchanges.Load()
		exchangedCode.Store("")
		method, body := http.MethodGet, io.Reader(nil)
		if form != "" {
			method, body = http.MethodPost, strings.NewReader(form)
		}
		redirect, err := url.Parse(flow.RedirectURI())
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, method, front.URL+redirect.Path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = requestTargetSafe(query)
		if form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("the listener did not answer: %v", err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		_ = flow.Close()
		w := <-done
		if p, ok := panicked.Load().(string); ok && p != "" {
			t.Fatalf("the handler panicked: %s", p)
		}
		n := exchanges.Load() - before

		// The answer is the page, 2xx or 4xx.
		if s := resp.StatusCode; (s < 200 || s > 299) && (s < 400 || s > 499) {
			t.Fatalf("status %d", s)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("headers %v", resp.Header)
		}
		m := callbackPage.FindSubmatch(raw)
		if m == nil || strings.Contains(strings.ToLower(string(raw)), "<script") {
			t.Fatalf("the page is not the escaped template:\n%s", raw)
		}
		title, text := string(m[1]), string(m[2])
		for _, part := range []string{title, text} {
			if html.EscapeString(html.UnescapeString(part)) != part {
				t.Fatalf("the page holds unescaped text: %q", part)
			}
		}
		shown := html.UnescapeString(title) + "\n" + html.UnescapeString(text)

		// The state decides whether the code is used.
		values := callbackValues(query, form)
		carried := false
		for _, s := range values["state"] {
			carried = carried || s == flow.state
		}
		switch {
		case n > 1:
			t.Fatalf("%d exchanges for one callback", n)
		case n == 1 && !carried:
			t.Fatalf("a callback without the flow's state was exchanged: query %q form %q", query, form)
		case n == 1 && !slices.Contains(values["code"], exchangedCode.Load().(string)):
			t.Fatalf("exchanged %q, which the callback did not carry (%q)", exchangedCode.Load(), values["code"])
		case (n == 1) != (w.err == nil):
			t.Fatalf("%d exchanges but Wait returned %v", n, w.err)
		case n == 1 && (resp.StatusCode != http.StatusOK || !strings.HasPrefix(shown, "Signed in to keyfob")):
			t.Fatalf("a successful login shows %d %q", resp.StatusCode, shown)
		case n == 0 && w.err == nil:
			t.Fatal("Wait succeeded without an exchange")
		}
		if n == 0 && resp.StatusCode == http.StatusOK && !strings.HasPrefix(shown, "Sign-in failed") {
			t.Fatalf("a failed callback shows %q", shown)
		}

		// Neither the state nor the code is shown, unless the server's own
		// error text carried it (the page may repeat that, escaped).
		serverText := strings.Join(append(values["error"], values["error_description"]...), "\n")
		if strings.Contains(shown, flow.state) && !strings.Contains(serverText, flow.state) {
			t.Fatalf("the page shows the state: %q", shown)
		}
		for _, code := range values["code"] {
			if len(code) >= 12 && strings.Contains(shown, code) && !strings.Contains(serverText, code) {
				t.Fatalf("the page shows the code %q: %q", code, shown)
			}
		}
		if n == 0 && errors.Is(w.err, ErrStateMismatch) && carried && len(values["state"]) == 1 {
			t.Fatalf("the flow's own state was called a mismatch: %q %q", query, form)
		}
	})
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
