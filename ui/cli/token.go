package cli

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// TokenOptions are the options of `keyfob token`.
type TokenOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager

	Name         string
	MinValid     time.Duration
	RefreshToken bool
	Copy         bool
}

// NewCmdToken returns `keyfob token`; runF replaces its run in tests.
func NewCmdToken(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO, Manager: f.Manager}
	cmd := &cobra.Command{
		Use:   "token [NAME]",
		Short: "Print a valid access token, refreshing it first when it is about to expire",
		Long: "token prints the account's access token and a newline on stdout, nothing else. If the token\n" +
			"expires within --min-valid it is refreshed first (once, even when many keyfob processes ask at\n" +
			"the same time). NAME is an account's name, email or id, or a unique prefix; it may be omitted\n" +
			"when there is one account or a default_account in config.json.\n" +
			"Exit codes: 0 ok, 1 error, 2 usage, 3 no such account, 4 login required.",
		Example: "  curl -H \"Authorization: Bearer $(keyfob token home)\" https://fleet-api.prd.na.vn.cloud.tesla.com/api/1/vehicles\n" +
			"  keyfob token work --min-valid 1h",
		Args: maxNames(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx = cmd.Context()
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runToken(opts)
		},
	}
	completeNames(cmd, f, 1)
	cmd.Flags().DurationVar(&opts.MinValid, "min-valid", 5*time.Minute, "refresh first if the token expires within this")
	cmd.Flags().BoolVar(&opts.RefreshToken, "refresh-token", false, "print the refresh token instead (it is single use: see --help)")
	cmd.Flags().BoolVar(&opts.Copy, "copy", false, "copy the token to the clipboard instead of printing it")
	return cmd
}

func runToken(opts *TokenOptions) error {
	if opts.MinValid < 0 {
		return usagef("--min-valid cannot be negative")
	}
	// The process lives for a few milliseconds, most of them decoding the
	// store: collecting garbage halfway through would only cost time.
	debug.SetGCPercent(400)
	m := opts.Manager()
	name := opts.Name
	if name == "" {
		cfg, err := m.Store.LoadConfig()
		if err != nil {
			return err
		}
		name = cfg.DefaultAccount
	}
	acct, err := m.Token(opts.Ctx, name, opts.MinValid)
	if err != nil {
		return err
	}
	tok, what := acct.AccessToken, "access token"
	if opts.RefreshToken {
		tok, what = acct.RefreshToken, "refresh token"
		if tok == "" {
			return fmt.Errorf("%q has no refresh token (%s accounts get none)", acct.Name, present.Clean(string(acct.Kind)))
		}
		if opts.IO.ErrTTY {
			fprintln(opts.IO.Err, "keyfob: note: refresh tokens are single use; if another tool refreshes this one, keyfob's copy stops working.")
		}
	}
	if opts.Copy {
		cfg, err := m.Store.LoadConfig()
		if err != nil {
			return err
		}
		return copyToClipboard(opts.IO, cfg, present.Clean(acct.Name), tok, what)
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}
