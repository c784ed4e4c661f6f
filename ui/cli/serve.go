package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/serve"
	"github.com/keyfob/keyfob/ui/present"
)

// ServeOptions are the options of `keyfob serve`.
type ServeOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager
	Keys    func() fleetapp.Keys

	Listen   serve.ListenConfig
	MinValid time.Duration // 0: refresh_margin of config.json
	// MaxConns and MaxConnsPerAddr are --max-conns and --max-conns-per-addr.
	MaxConns, MaxConnsPerAddr int
	// TuneGC sets the garbage collector for the process (Factory.tuneGC).
	TuneGC func(percent int, limit int64)
}

// NewCmdServe returns `keyfob serve` and its consumer commands; runF
// replaces its run in tests.
func NewCmdServe(f *Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IO, Manager: f.Manager, Keys: f.Keys, TuneGC: f.tuneGC}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the token service: other programs get access tokens from keyfob, not from Tesla",
		Long: "serve answers the OAuth token requests of other programs (TeslaMate, Home Assistant, scripts) in\n" +
			"Tesla's place, so that keyfob alone holds each account's single-use refresh token. Each program\n" +
			"is a consumer (keyfob serve add) whose credential goes where a refresh token would:\n\n" +
			"  POST {base}/oauth2/v3/token   grant_type=refresh_token&refresh_token=CREDENTIAL (form or JSON)\n" +
			"  GET  {base}/v1/token/NAME     with Authorization: Bearer CREDENTIAL\n\n" +
			"The answer holds the account's access token, refreshed first when it expires within\n" +
			"--min-valid. serve runs in the foreground (for systemd), notices accounts and consumers changed\n" +
			"by other keyfob commands, logs one line per request on stderr (never a token) and stops cleanly\n" +
			"on SIGTERM or ctrl+c. It listens on " + serve.DefaultAddr + " by default; any address but loopback\n" +
			"or a Unix socket needs --tls-cert and --tls-key (or --insecure). Against DNS rebinding, it answers\n" +
			"only requests whose Host is one of its own names (the address, localhost on loopback, the\n" +
			"certificate's names) or one given with --allow-host.\n\n" +
			"Once keyfob partner keygen made your app's key pair, serve also publishes the public key, to anyone\n" +
			"and under any Host, at GET {base}" + serve.PublicKeyPath + ":\n" +
			"point a tunnel or reverse proxy for your app's domain at that path.",
		Example: "  keyfob serve add teslamate --account car\n" +
			"  keyfob serve\n" +
			"  keyfob serve --addr unix:/run/keyfob/serve.sock\n" +
			"  keyfob serve --addr 0.0.0.0:7531 --tls-cert cert.pem --tls-key key.pem\n" +
			"  keyfob serve --addr 172.17.0.1:7531 --insecure --allow-host host.docker.internal",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runServe(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen.Addr, "addr", serve.DefaultAddr, "host:port to listen on, or unix:/path for a Unix socket (0600)")
	fl.StringVar(&opts.Listen.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain)")
	fl.StringVar(&opts.Listen.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	fl.BoolVar(&opts.Listen.Insecure, "insecure", false, "allow plain HTTP on an address other than loopback (tokens in the clear)")
	fl.StringSliceVar(&opts.Listen.AllowHosts, "allow-host", nil, "also answer requests for this host name (repeatable); by default only the address's\nown names and the certificate's are answered, against DNS rebinding")
	fl.IntVar(&opts.MaxConns, "max-conns", serve.DefaultMaxConns, "at most this many connections at once (fewer when the descriptor limit, ulimit -n, needs it)")
	fl.IntVar(&opts.MaxConnsPerAddr, "max-conns-per-addr", serve.DefaultMaxConnsPerAddr, "at most this many connections at once from one client address")
	fl.DurationVar(&opts.MinValid, "min-valid", 0, "refresh first when a token expires within this (default: refresh_margin of config.json, 5m)")
	cmd.AddCommand(NewCmdServeAdd(f, nil), NewCmdServeList(f, nil), NewCmdServeRemove(f, nil))
	return cmd
}

func runServe(opts *ServeOptions) error {
	if opts.MinValid < 0 {
		return usagef("--min-valid cannot be negative")
	}
	if opts.MaxConns < 1 || opts.MaxConnsPerAddr < 1 {
		return usagef("--max-conns and --max-conns-per-addr must be at least 1")
	}
	m := opts.Manager()
	margin, err := marginOr(m, opts.MinValid)
	if err != nil {
		return err
	}
	// The live heap is a few accounts and the requests in flight: letting
	// it grow to five times that before collecting costs little memory and
	// halves the collections, which show in the latency's tail.
	opts.TuneGC(serve.GCPercent, serve.MemoryLimit)
	srv, err := serve.New(serve.Options{Manager: m, Margin: margin, Log: opts.IO.Err, PublicKey: opts.Keys().Served,
		MaxConns: opts.MaxConns, MaxConnsPerAddr: opts.MaxConnsPerAddr})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := serve.Listen(opts.Listen)
	if err != nil {
		return addrInUse(opts.Listen.Addr, err)
	}
	if ln.Warning != "" {
		fprintln(opts.IO.Err, "keyfob: warning: "+ln.Warning)
	}
	where := ln.URL
	if where == "" {
		where = opts.Listen.Addr
	}
	consumers, accts := srv.Consumers()
	total, perAddr := srv.Limits()
	fprintf(opts.IO.Err, "keyfob serve: listening on %s for %s of %s (at most %d connections, %d per client)\n",
		where, present.Count(consumers, "consumer"), present.Count(accts, "account"), total, perAddr)
	if hosts := ln.Hosts(); hosts != "" {
		fprintf(opts.IO.Err, "keyfob serve: answering requests for %s (--allow-host NAME adds a name)\n", hosts)
	}
	if err := srv.Serve(opts.Ctx, ln); err != nil {
		return err
	}
	fprintln(opts.IO.Err, "keyfob serve: stopped")
	return nil
}
