package cli

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/demo"
)

// SandboxOptions are the options of `keyfob sandbox`.
type SandboxOptions struct {
	IO  *IOStreams
	Ctx context.Context

	Addr   string
	Server sandbox.Options
}

// NewCmdSandbox returns `keyfob sandbox`; runF replaces its run in tests.
func NewCmdSandbox(f *Factory, runF func(*SandboxOptions) error) *cobra.Command {
	opts := &SandboxOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the local sandbox authorization server in the foreground",
		Long: "sandbox runs a local authorization server that behaves like Tesla's (authorize, token, revoke,\n" +
			"the legacy /oauth/token, users/me), with a Fleet API per region and an Owner API, for trying\n" +
			"keyfob and for tests. Its tokens are shaped like Tesla's (their aud names Tesla's Fleet API hosts),\n" +
			"so its accounts call the sandbox through --api-base-url. The first line of stdout is its base URL;\n" +
			"then the test users' credentials, the Fleet app's registered redirect URI, the China host and\n" +
			"example login commands, with which every command works offline. ctrl+c stops it.",
		Example: "  keyfob sandbox --addr 127.0.0.1:8765 --access-ttl 2m\n" +
			"  keyfob sandbox --latency 200ms --fail-rate 0.1",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runSandbox(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:0", "loopback address to listen on")
	fl.DurationVar(&opts.Server.AccessTTL, "access-ttl", 8*time.Hour, "lifetime of access tokens")
	fl.DurationVar(&opts.Server.RefreshGrace, "refresh-grace", 0, "how long a rotated-out refresh token keeps working")
	fl.DurationVar(&opts.Server.Latency, "latency", 0, "delay added to every request")
	fl.Float64Var(&opts.Server.FailRate, "fail-rate", 0, "share of token requests that fail with 503 (0–1)")
	fl.BoolVar(&opts.Server.LoginForm, "login-form", false, "show a login form instead of approving at once")
	fl.BoolVar(&opts.Server.RequireRegistration, "require-registration", false,
		"answer 412 to an app's Fleet API calls in a region until its domain is registered there, as Tesla does")
	fl.BoolVar(&opts.Server.OwnerAPIOpen, "owner-api-open", false,
		"answer owner tokens at the Owner API (by default it refuses them 403, as Tesla does since 2026-06-12)")
	return cmd
}

func runSandbox(opts *SandboxOptions) error {
	if opts.Server.FailRate < 0 || opts.Server.FailRate > 1 {
		return usagef("--fail-rate must be between 0 and 1")
	}
	redirect, err := demo.FreeRedirectURI()
	if err != nil {
		return err
	}
	opts.Server.Users = append(opts.Server.Users, chinaUser)
	srv, err := sandbox.StartAt(opts.Addr, opts.Server)
	if err != nil {
		return addrInUse(opts.Addr, err)
	}
	defer srv.Close()
	// Like Tesla, the sandbox takes only a registered redirect URI for
	// the Fleet API app.
	srv.RegisterRedirectURI(sandbox.FleetClientID, redirect)
	printSandbox(opts.IO.Out, srv, redirect)
	fprintln(opts.IO.Out, "\nServing until ctrl+c.")
	<-opts.Ctx.Done()
	st := srv.Stats()
	fprintf(opts.IO.Err, "sandbox: served %d code exchanges, %d refreshes, %d client-credentials, %d password grants, %d revocations\n",
		st.CodeExchanges, st.Refreshes+st.LegacyRefreshes, st.ClientCredentials, st.PasswordGrants, st.Revocations+st.LegacyRevocations)
	return nil
}

// chinaUser is the sandbox's user in region CN, whose sign-in the main
// host sends to the China host (the sandbox's auth.tesla.cn).
var chinaUser = sandbox.User{Email: "cn-driver@example.com", Region: "CN"}

// printSandbox prints the sandbox's base URL (the first line), its users
// and clients, and login commands that work against it.
func printSandbox(w io.Writer, srv *sandbox.Server, redirect string) {
	u, base := srv.User(), srv.URL()
	fprintln(w, base)
	fprintf(w, "\nTest user: %s  password: %s\n", u.Email, u.Password)
	fprintf(w, "China user: %s  same password; signs in at the China host %s (auth.tesla.cn)\n", chinaUser.Email, srv.CNURL())
	fprintf(w, "Fleet app: %s  registered redirect URI: %s\n", sandbox.FleetClientID, redirect)
	fprintf(w, "Partner client: %s  secret: %s  business auth code: %s\n\n", sandbox.PartnerClientID, sandbox.PartnerSecret, sandbox.BusinessAuthCode)
	fprintf(w, "Fleet API: %s/fleet-api/{na,eu,cn} (its tokens name Tesla's hosts, as Tesla's do; --api-base-url points keyfob here)\n\n", base)
	fprintln(w, "Try, with an empty config directory:")
	fprintf(w, "  export %s=$(mktemp -d)\n", EnvConfigDir)
	fprintf(w, "  keyfob login --kind fleet --issuer %s --client-id %s --redirect-uri %s --api-base-url %s\n",
		base, sandbox.FleetClientID, redirect, srv.FleetAPIBase("na"))
	fprintf(w, "  keyfob login --kind custom --issuer %s --client-id %s --redirect-uri %s --scopes openid,offline_access --name custom\n",
		base, sandbox.FleetClientID, redirect)
	fprintf(w, "  keyfob login --kind owner --issuer %s --no-browser --api-base-url %s\n", base, base)
	fprintf(w, "  keyfob login --kind owner --issuer %s --email %s --no-browser --name china --api-base-url %s\n", base, chinaUser.Email, base)
	fprintf(w, "  %s=%s keyfob login --kind partner --issuer %s --client-id %s --api-base-url %s\n",
		EnvClientSecret, sandbox.PartnerSecret, base, sandbox.PartnerClientID, srv.FleetAPIBase("na"))
	fprintf(w, "  %s=%s %s=%s keyfob login --kind partner --issuer %s --client-id %s --name business --api-base-url %s\n",
		EnvClientSecret, sandbox.PartnerSecret, EnvAuthCode, sandbox.BusinessAuthCode, base, sandbox.PartnerClientID, srv.FleetAPIBase("na"))
	fprintf(w, "  echo %s | keyfob login --kind legacy --base-url %s --email %s\n", u.Password, base, u.Email)
	fprintln(w, "  keyfob list; keyfob token NAME; keyfob check NAME")
}
