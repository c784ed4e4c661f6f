package serve_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// TestListenRefusesPlainHTTPBeyondLoopback: loopback and Unix sockets
// take plain HTTP; any other address needs TLS, or --insecure with a
// warning.
func TestListenRefusesPlainHTTPBeyondLoopback(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := selfSigned(t)
	for _, tc := range []struct {
		cfg     serve.ListenConfig
		ok      bool
		warning bool
	}{
		{serve.ListenConfig{Addr: "127.0.0.1:0"}, true, false},
		{serve.ListenConfig{Addr: "localhost:0"}, true, false},
		{serve.ListenConfig{Addr: "0.0.0.0:0"}, false, false},
		{serve.ListenConfig{Addr: ":0"}, false, false},
		{serve.ListenConfig{Addr: "0.0.0.0:0", Insecure: true}, true, true},
		{serve.ListenConfig{Addr: "0.0.0.0:0", TLSCert: certFile, TLSKey: keyFile}, true, false},
		{serve.ListenConfig{Addr: "127.0.0.1:0", TLSCert: certFile}, false, false},
		{serve.ListenConfig{Addr: "127.0.0.1:0", TLSCert: keyFile, TLSKey: keyFile}, false, false},
		{serve.ListenConfig{Addr: "no-port"}, false, false},
		{serve.ListenConfig{Addr: "unix:"}, false, false},
	} {
		ln, err := serve.Listen(tc.cfg)
		if (err == nil) != tc.ok || (err == nil && (ln.Warning != "") != tc.warning) {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
		if err == nil {
			ln.Close()
		}
	}
	if _, err := serve.Listen(serve.ListenConfig{Addr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Errorf("the refusal does not say what to do: %v", err)
	}
}

// TestUnixSocket: the socket is 0600, a stale one is replaced, a live one
// or another file is refused, and requests over it work.
func TestUnixSocket(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("mode bits")
	}
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour))
	cred := f.add("tm", "car")
	dir, err := os.MkdirTemp("", "kf") // short: socket paths are limited to about 100 bytes
	must(t, err == nil, "%v", err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "serve.sock")
	// A stale socket, as a killed service leaves.
	stale, err := net.Listen("unix", sock)
	must(t, err == nil, "%v", err)
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	ln, err := serve.Listen(serve.ListenConfig{Addr: "unix:" + sock})
	must(t, err == nil, "stale socket: %v", err)
	fi, err := os.Stat(sock)
	must(t, err == nil && fi.Mode().Perm() == 0o600, "socket mode %v", fi.Mode().Perm())
	_, err = serve.Listen(serve.ListenConfig{Addr: "unix:" + sock})
	must(t, err != nil && strings.Contains(err.Error(), "listening"), "a live socket was taken over: %v", err)
	f.serveOn(ln, serve.Options{})
	f.base = "http://keyfob"
	f.client.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	r := f.refresh(cred)
	must(t, r.status == 200 && r.str("access_token") == f.account("car").AccessToken, "over the socket: %d %v", r.status, r.body)
	must(t, strings.Contains(f.log.String(), "remote=unix"), "log %q", f.log.String())
	must(t, f.stop() == nil, "stop")
	_, err = os.Lstat(sock)
	must(t, os.IsNotExist(err), "the socket is left behind")
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, nil, 0o600) == nil, "write")
	_, err = serve.Listen(serve.ListenConfig{Addr: "unix:" + file})
	must(t, err != nil && strings.Contains(err.Error(), "not a socket"), "a regular file was replaced: %v", err)
}
