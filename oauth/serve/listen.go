package serve

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyfob/keyfob/oauth"
)

// ListenConfig says where and how the service listens.
type ListenConfig struct {
	// Addr is host:port, or unix:/path for a Unix socket (created 0600).
	Addr string
	// TLSCert and TLSKey are PEM files; both or neither.
	TLSCert, TLSKey string
	// Insecure allows plain HTTP on an address other than loopback.
	Insecure bool
	// AllowHosts are host names answered besides those of the address
	// and the certificate (see Listener.Hosts).
	AllowHosts []string
}

// Listener is an open listener and what the service must tell its user.
type Listener struct {
	net.Listener
	// URL is the base URL consumers use ("" for a Unix socket).
	URL string
	// Warning is set when the service listens without TLS beyond loopback.
	Warning string
	tls     *tls.Config
	hosts   *hostSet // nil for a Unix socket
}

// Hosts lists the host names the service answers (a request naming
// another in its Host header is refused, against DNS rebinding); "" for a
// Unix socket, which answers any.
func (l *Listener) Hosts() string {
	if l.hosts == nil {
		return ""
	}
	return l.hosts.String()
}

// Listen opens cfg.Addr. Plain HTTP is allowed on loopback addresses and
// Unix sockets; anywhere else it takes TLS, or Insecure (and a warning),
// since anyone on the network could read the tokens.
func Listen(cfg ListenConfig) (*Listener, error) {
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	out := &Listener{}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("cannot load the TLS certificate and key: %w", err)
		}
		out.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	if path, ok := strings.CutPrefix(cfg.Addr, "unix:"); ok {
		if path == "" {
			return nil, errors.New("--addr unix: needs a path, as in unix:/run/keyfob/serve.sock")
		}
		ln, err := listenUnix(path)
		if err != nil {
			return nil, err
		}
		out.Listener = ln
		return out, nil
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q is not host:port or unix:/path: %w", cfg.Addr, err)
	}
	if !oauth.LoopbackHost(host) && out.tls == nil {
		if !cfg.Insecure {
			return nil, fmt.Errorf("%s is reachable from other machines: give --tls-cert and --tls-key, or --insecure to send tokens in the clear", cfg.Addr)
		}
		out.Warning = "serving tokens over plain HTTP on " + cfg.Addr + ": anyone who can see the traffic can read them; use --tls-cert and --tls-key"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if out.hosts, err = allowedHosts(host, ln.Addr().(*net.TCPAddr), out.tls, cfg.AllowHosts); err != nil {
		ln.Close()
		return nil, err
	}
	out.Listener = ln
	scheme := "http"
	if out.tls != nil {
		scheme = "https"
	}
	out.URL = scheme + "://" + ln.Addr().String()
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		// Go answers 0.0.0.0 (or no host) with a socket on every address
		// ([::]): say what the user asked for, not that.
		out.URL = scheme + "://" + net.JoinHostPort(cmp.Or(host, "0.0.0.0"), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return out, nil
}

// Timeouts of the HTTP server. A request's headers and body each get a
// few seconds (a token request is a few hundred bytes), a connection idle
// between requests half a minute. A request may then wait for a refresh,
// which the manager bounds (request and lock); writes get longer than
// that.
const (
	readHeaderTimeout = 5 * time.Second
	bodyTimeout       = 5 * time.Second
	writeTimeout      = refreshWait + 30*time.Second
	idleTimeout       = 30 * time.Second
	// ShutdownTimeout bounds how long requests in flight may take to
	// finish once the service is asked to stop.
	ShutdownTimeout = 60 * time.Second
)

// Serve answers requests on ln until ctx ends, then stops taking new
// ones, lets those in flight finish (within ShutdownTimeout), and writes
// the last uses to the store. Meanwhile it reloads the store when another
// keyfob process changes it.
func (s *Server) Serve(ctx context.Context, ln *Listener) error {
	limited := newConnLimiter(ln.Listener, s.maxConns, s.maxPerAddr, s.log)
	srv := &http.Server{
		Handler: s, ReadHeaderTimeout: s.headerWait,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: MaxBodyBytes,
		TLSConfig: ln.tls,
		ErrorLog:  log.New(logWriter{s.log}, "", 0),
		ConnState: limited.connState, ConnContext: connContext,
	}
	s.hosts = ln.hosts
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	maintained := make(chan struct{})
	go func() {
		defer close(maintained)
		s.maintain(bg, limited)
	}()
	errc := make(chan error, 1)
	go func() {
		if ln.tls != nil {
			errc <- srv.ServeTLS(limited, "", "")
		} else {
			errc <- srv.Serve(limited)
		}
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
		err = srv.Shutdown(sctx)
		cancel()
		<-errc
	}
	stop()
	<-maintained // its writes end before the last flush, and before Serve returns
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	s.Flush(fctx)
	cancel()
	s.log.sayDropped()
	limited.report()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// logWriter puts the HTTP server's own messages (TLS handshakes that
// failed, and the like) in the service's log.
type logWriter struct{ l *requestLog }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.limited("%s", strings.TrimSpace(string(p)))
	return len(p), nil
}
