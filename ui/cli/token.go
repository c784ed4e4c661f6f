package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/serve"
	"github.com/keyfob/keyfob/ui/present"
)

// TokenOptions are the options of `keyfob token`.
type TokenOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager
	Now     func() time.Time

	Name         string
	MinValid     time.Duration
	RefreshToken bool
	Copy         bool
	JSON         bool
	Write        string
	// WriteGiven: --write was on the command line, perhaps empty (an unset
	// variable in a script), which must not fall back to printing.
	WriteGiven bool
	// MinValidGiven: --min-valid was on the command line; then a token
	// handed out with less time left than it asked says why.
	MinValidGiven bool
	// TuneGC sets the garbage collector for the process (Factory.tuneGC).
	TuneGC func(percent int, limit int64)
}

// NewCmdToken returns `keyfob token`; runF replaces its run in tests.
func NewCmdToken(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO, Manager: f.Manager, Now: f.now, TuneGC: f.tuneGC}
	cmd := &cobra.Command{
		Use:   "token [NAME]",
		Short: "Print a valid access token, refreshing it first when it is about to expire",
		Long: "token prints the account's access token and a newline on stdout, nothing else. If the token\n" +
			"expires within --min-valid it is refreshed first (once, even when many keyfob processes ask at\n" +
			"the same time). NAME is an account's name, email or id, or a unique prefix; it may be omitted\n" +
			"when there is one account or a default_account in config.json.\n" +
			"--json prints the token with its expiry, scopes and type (schema in README); --write FILE\n" +
			"replaces FILE atomically (0600) instead of printing, for cron jobs and systemd timers: the file\n" +
			"holds the token alone, without a newline, or the JSON with --json.\n" +
			"--min-valid is capped at half the token's lifetime (4h for Tesla's 8-hour tokens), so that a\n" +
			"token is not refreshed on every call; a token handed out with less left than you asked says so\n" +
			"on stderr.\n" +
			"Exit codes: 0 ok, 1 error, 2 usage, 3 no such account, 4 login required.",
		Example: "  curl -H \"Authorization: Bearer $(keyfob token home)\" https://fleet-api.prd.na.vn.cloud.tesla.com/api/1/vehicles\n" +
			"  keyfob token work --min-valid 1h\n" +
			"  keyfob token car --json | jq -r .expires_at\n" +
			"  keyfob token car --min-valid 2h --write /run/user/1000/tesla-token   # every hour from a timer",
		Args: maxNames(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.WriteGiven = cmd.Context(), cmd.Flags().Changed("write")
			opts.MinValidGiven = cmd.Flags().Changed("min-valid")
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
	cmd.Flags().DurationVar(&opts.MinValid, "min-valid", 5*time.Minute, "refresh first if the token expires within this (at most half its lifetime)")
	cmd.Flags().BoolVar(&opts.RefreshToken, "refresh-token", false, "print the refresh token instead; it is single use, so a tool that refreshes it cuts keyfob's copy off")
	cmd.Flags().BoolVar(&opts.Copy, "copy", false, "copy the token to the clipboard instead of printing it")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the token with expires_at, expires_in, scopes, token_type and the account's name")
	cmd.Flags().StringVar(&opts.Write, "write", "", "replace `FILE` atomically (0600) with the token instead of printing it")
	return cmd
}

func checkTokenFlags(opts *TokenOptions) error {
	switch {
	case opts.MinValid < 0:
		return usagef("--min-valid cannot be negative")
	case opts.WriteGiven && (strings.TrimSpace(opts.Write) == "" || opts.Write == "-"):
		return usagef("--write needs a file name, got %q; to print the token on stdout, leave --write out", opts.Write)
	case opts.Copy && (opts.JSON || opts.Write != ""):
		return usagef("--copy goes to the clipboard; it cannot be combined with --json or --write")
	case opts.RefreshToken && (opts.JSON || opts.Write != ""):
		return usagef("--refresh-token cannot be combined with --json or --write: refresh tokens are single use, so hand other tools access tokens (keyfob exec, keyfob serve)")
	}
	return nil
}

func runToken(opts *TokenOptions) error {
	if err := checkTokenFlags(opts); err != nil {
		return err
	}
	// The process lives for a few milliseconds, most of them decoding the
	// store: collecting garbage halfway through would only cost time.
	opts.TuneGC(400, 0)
	m := opts.Manager()
	name, why, err := accountRef(m, opts.Name)
	if err != nil {
		return err
	}
	got, err := m.Token(opts.Ctx, name, opts.MinValid)
	if err != nil {
		return why(err)
	}
	printRegionChange(opts.IO.Err, present.Clean(got.Account.Name), oauth.RegionChangeOf(got.Before, got.Account))
	warnStale(opts.IO.Err, got, opts.Now())
	acct := got.Account
	if opts.MinValidGiven && got.Stale == nil {
		if note := minValidNote(&acct, opts.MinValid, opts.Now()); note != "" {
			fprintln(opts.IO.Err, "keyfob: note: "+note)
		}
	}
	if opts.JSON || opts.Write != "" {
		return outputToken(opts, acct)
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
		cfg, err := m.Config()
		if err != nil {
			return err
		}
		return copyToClipboard(opts.IO, cfg, present.Clean(acct.Name), tok, what)
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}

// outputToken prints or writes the access token for --json and --write.
func outputToken(opts *TokenOptions, acct accounts.Account) error {
	data := []byte(acct.AccessToken)
	if opts.JSON {
		var err error
		if data, err = json.MarshalIndent(serve.NewNamedToken(acct, opts.Now()), "", "  "); err != nil {
			return err
		}
		data = append(data, '\n')
	}
	if opts.Write != "" {
		return accounts.WriteFile(opts.Write, data)
	}
	if !opts.JSON {
		data = append(data, '\n')
	}
	_, err := opts.IO.Out.Write(data)
	return err
}

// warnStale says on stderr that the token handed out is the one the
// account had, still valid but not for as long as asked, because its
// refresh failed or waits out the back-off after a failure (got.Stale).
func warnStale(w io.Writer, got accounts.Refreshed, now time.Time) {
	if got.Stale == nil {
		return
	}
	fprintln(w, fmt.Sprintf("keyfob: warning: %s; the token it has is valid for %s more",
		present.OneLine(got.Stale.Error()), present.Approx(got.Account.Expiry.Sub(now))))
}

// minValidNote says why a's access token has less than minValid left
// after keyfob looked at it with that --min-valid: a new token does not
// live that long, or keyfob refreshes only within half a token's lifetime
// of its end (accounts.Account.EffectiveMargin), so that asking for more
// does not refresh the token on every call. It is "" when the token has
// minValid left, or no known expiry.
func minValidNote(a *accounts.Account, minValid time.Duration, now time.Time) string {
	if a.Expiry.IsZero() || a.AccessToken == "" {
		return ""
	}
	left := a.Expiry.Sub(now)
	if left >= minValid {
		return ""
	}
	have := fmt.Sprintf("%s's access token has %s left, less than --min-valid %s", present.Clean(a.Name),
		present.Approx(left), present.Approx(minValid))
	life := a.Expiry.Sub(a.AccessObtainedAt).Round(time.Minute) // the answer's delay is not part of it
	if a.AccessObtainedAt.IsZero() || life <= 0 {
		return have
	}
	if life < minValid {
		return fmt.Sprintf("%s: its tokens live %s", have, present.Approx(life))
	}
	return fmt.Sprintf("%s: keyfob refreshes a token only in the last half of its %s lifetime (within %s of its end), "+
		"so that a longer --min-valid does not refresh it on every call; `keyfob refresh %s` refreshes it now",
		have, present.Approx(life), present.Approx(a.EffectiveMargin(minValid)), present.Clean(a.Name))
}
