package oauth

import (
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// listenPlan says where the browser's answer is awaited.
type listenPlan struct {
	loopback bool     // keyfob listens; otherwise the user pastes the address
	hosts    []string // the addresses to listen on, all on the same port
	port     string   // "0" for an ephemeral port
}

// redirectPlan decides how a redirect URI is served. A loopback http URI
// (127.0.0.0/8, [::1], localhost) gets a listener: on both 127.0.0.1 and
// ::1 for localhost, which a browser may resolve to either. Without a port
// it means an ephemeral one (RFC 8252 §7.3), unless exact, when the URI
// is used as registered: port 80. An empty URI is an ephemeral port on
// 127.0.0.1. Any other URI (tesla://auth/callback, a remote page) is
// pasted.
func redirectPlan(uri string, exact bool) (listenPlan, error) {
	if uri == "" {
		return listenPlan{loopback: true, hosts: []string{"127.0.0.1"}, port: "0"}, nil
	}
	u, perr := url.Parse(uri)
	if perr != nil || u.Scheme == "" {
		return listenPlan{}, fieldErr(FieldRedirectURI, "the redirect URI %q is not a valid URI", cleanText(uri, 100))
	}
	if u.Scheme != "http" {
		return listenPlan{}, nil
	}
	host := strings.ToLower(u.Hostname())
	var hosts []string
	switch ip := net.ParseIP(host); {
	case host == "localhost":
		hosts = []string{"127.0.0.1", "::1"}
	case ip != nil && ip.IsLoopback():
		hosts = []string{ip.String()}
	default:
		return listenPlan{}, nil
	}
	port := u.Port()
	switch {
	case port == "" && exact:
		port = "80"
	case port == "":
		port = "0"
	default:
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return listenPlan{}, fieldErr(FieldRedirectURI, "the redirect URI has an invalid port %q", cleanText(port, 20))
		}
	}
	return listenPlan{loopback: true, hosts: hosts, port: port}, nil
}

// listen opens the plan's listeners. An ephemeral port is one free on
// every host: it is taken on the first and tried on the others, again
// with another port when it is busy there. Where this machine has no IPv6
// loopback, ::1 is left out (no browser can reach it either).
func listen(p listenPlan) ([]net.Listener, error) {
	hosts := p.hosts
	if len(hosts) > 1 && !canListen("[::1]:0") {
		hosts = hosts[:1]
	}
	if p.port != "0" {
		return listenAll(hosts, p.port)
	}
	var lastErr error
	for range 20 {
		first, err := net.Listen("tcp", net.JoinHostPort(hosts[0], "0"))
		if err != nil {
			return nil, err
		}
		port := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
		rest, err := listenAll(hosts[1:], port)
		if err == nil {
			return append([]net.Listener{first}, rest...), nil
		}
		first.Close()
		lastErr = err
	}
	return nil, fmt.Errorf("no port was free on every loopback address (%w)", lastErr)
}

// listenAll listens on port of every host, or on none.
func listenAll(hosts []string, port string) ([]net.Listener, error) {
	var out []net.Listener
	for _, h := range hosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, port))
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, err
		}
		out = append(out, ln)
	}
	return out, nil
}

// canListen reports whether addr can be listened on.
func canListen(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// listenError says that keyfob cannot listen where the redirect URI says.
func listenError(uri string, p listenPlan, err error) error {
	where := net.JoinHostPort(p.hosts[0], p.port)
	if u, perr := url.Parse(uri); perr == nil && uri != "" {
		where = u.Hostname() + ":" + p.port
	}
	if AddrInUse(err) {
		who := "another process"
		if h := PortHolder(where); h != "" {
			who = h
		}
		return fieldErr(FieldRedirectURI, "cannot listen on %s for the browser's answer: %s holds that port; stop it, or register a loopback redirect URI with a free port for this app, e.g. http://localhost:8976/callback, and use it",
			where, who)
	}
	return fieldErr(FieldRedirectURI, "cannot listen on %s for the browser's answer (%s); register a loopback redirect URI with a free port for this app, e.g. http://localhost:8976/callback, and use it",
		where, netCause(err, nil))
}

// serve starts the listener of f on lns, for the redirect URI's path.
func (f *CodeFlow) serve(lns []net.Listener, path string) {
	mux := http.NewServeMux()
	mux.HandleFunc(path, f.handle)
	// Server errors would be logged to stderr, under the terminal UI.
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	for _, ln := range lns {
		go func() { _ = f.srv.Serve(ln) }()
	}
}

// handle serves the redirect URI on the loopback listeners. Only an
// answer that carries this login's state ends the login: a code is
// exchanged, an error (the user cancelled) is reported. Anything else —
// no answer at all, another state, an error without the state — gets a 400
// page and the login keeps waiting, so that nobody else on the machine can
// end it.
func (f *CodeFlow) handle(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "keyfob could not read this sign-in answer", "Return to the terminal and try again.")
		return
	}
	q := r.Form
	code, errCode := q.Get("code"), q.Get("error")
	var cb callback
	switch {
	case code == "" && errCode == "":
		page(w, http.StatusBadRequest, "This address waits for a sign-in answer", "It carries no code. Return to the terminal.")
		return
	case !f.stateMatches(q.Get("state")):
		page(w, http.StatusBadRequest, "This sign-in answer is not for the login keyfob is waiting for",
			"keyfob ignored it and keeps waiting. Finish the sign-in in the window keyfob opened, or start the login again.")
		return
	case errCode != "":
		cb.err = &CallbackError{Code: errorCode(errCode), Description: cleanText(q.Get("error_description"), 200)}
	default:
		cb.code, cb.issuer = code, q.Get("issuer")
	}
	f.deliver(w, r, cb)
}

// deliver hands a callback that ends the login to Wait and shows the
// browser how the login ended.
func (f *CodeFlow) deliver(w http.ResponseWriter, r *http.Request, cb callback) {
	f.mu.Lock()
	already := f.delivered
	f.delivered = true
	f.mu.Unlock()
	if already {
		page(w, http.StatusConflict, "This sign-in has already been handled", "Return to the terminal.")
		return
	}
	cb.reply = make(chan result, 1)
	gone := func() {
		page(w, http.StatusGone, "keyfob stopped waiting for this sign-in", "Return to the terminal and start the login again.")
	}
	select {
	case f.callbacks <- cb:
	case <-f.closed:
		gone()
		return
	}
	var res result
	select {
	case res = <-cb.reply:
	case <-f.closed:
		select {
		case res = <-cb.reply:
		default:
			gone()
			return
		}
	case <-r.Context().Done():
		return
	}
	if res.err != nil {
		page(w, http.StatusOK, "Sign-in failed", res.err.Error()+" Return to the terminal for details.")
		return
	}
	who := ""
	if res.acct.Email != "" {
		who = " as " + res.acct.Email
	}
	page(w, http.StatusOK, "Signed in to keyfob"+who, "You can close this tab and return to the terminal.")
}

// page writes the small HTML page the browser shows after the callback.
func page(w http.ResponseWriter, status int, title, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>keyfob</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style>
</head><body><h1>%s</h1><p>%s</p></body></html>
`, html.EscapeString(title), html.EscapeString(body))
}
