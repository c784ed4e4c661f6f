package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// RefreshOptions are the options of `keyfob refresh`.
type RefreshOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager
	Now     func() time.Time

	Names       []string
	All         bool
	Concurrency int
	MinValid    time.Duration
	// Quiet prints only failures; JSON prints one object per account.
	Quiet, JSON bool
	// TuneGC sets the garbage collector for the process (Factory.tuneGC).
	TuneGC func(percent int, limit int64)
}

// NewCmdRefresh returns `keyfob refresh`; runF replaces its run in tests.
func NewCmdRefresh(f *Factory, runF func(*RefreshOptions) error) *cobra.Command {
	opts := &RefreshOptions{IO: f.IO, Manager: f.Manager, Now: f.now, TuneGC: f.tuneGC}
	cmd := &cobra.Command{
		Use:   "refresh [NAME...]",
		Short: "Refresh access tokens now",
		Long: "refresh gets new access tokens now, saving each rotated refresh token before anything else.\n" +
			"With --all it refreshes every account that can be refreshed, --concurrency at a time.\n" +
			"With --min-valid it refreshes only tokens that expire within that time, which suits cron:\n" +
			"tokens another keyfob process refreshed meanwhile are left alone. --quiet prints only failures\n" +
			"(on stderr), so cron mails only when something needs you; --json prints each account's outcome.",
		Example: "  keyfob refresh home\n  keyfob refresh --all --concurrency 16\n" +
			"  */10 * * * * keyfob refresh --all --min-valid 30m --quiet   # crontab: keep every token warm\n" +
			"  keyfob refresh --all --json | jq -r '.[] | select(.outcome == \"failed\") | .name'",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Names = cmd.Context(), args
			if runF != nil {
				return runF(opts)
			}
			return runRefresh(opts)
		},
	}
	completeNames(cmd, f, 0)
	cmd.Flags().BoolVar(&opts.All, "all", false, "refresh every account")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 8, "refreshes in flight at once with --all")
	cmd.Flags().DurationVar(&opts.MinValid, "min-valid", 0, "only refresh tokens that expire within this, at most half their lifetime (0: refresh all named)")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print only failures (on stderr): nothing when all is well")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array, one object per account (schema in README)")
	return cmd
}

func runRefresh(opts *RefreshOptions) error {
	switch {
	case opts.All && len(opts.Names) > 0:
		return usagef("give account names or --all, not both")
	case opts.Concurrency < 1:
		return usagef("--concurrency must be at least 1")
	case opts.MinValid < 0:
		return usagef("--min-valid cannot be negative")
	case opts.Quiet && opts.JSON:
		return usagef("--quiet and --json do not go together: --json prints every outcome")
	}
	// The process lives for a few milliseconds, most of them decoding the
	// store: collecting garbage halfway through would only cost time.
	opts.TuneGC(400, 0)
	m := opts.Manager()
	todo, skipped, err := refreshTargets(m, opts.Names, opts.All)
	if err != nil {
		return err
	}
	if !opts.JSON {
		for _, why := range skipped {
			fprintf(opts.IO.Err, "- skipped: %s\n", present.OneLine(why.Error()))
		}
	}
	if len(todo) == 0 && !opts.Quiet && !opts.JSON {
		fprintln(opts.IO.Err, "Nothing to refresh.")
	}
	res := m.RefreshMany(opts.Ctx, todo, opts.Concurrency, opts.MinValid, accounts.Explicit, func(i int, r accounts.RefreshManyResult) {
		if !opts.JSON {
			printRegionChange(opts.IO.Err, present.Clean(r.Account.Name), oauth.RegionChangeOf(r.Before, r.Account))
			printRefreshed(opts, r, len(todo) > 1, r.Err == nil && r.Account.AccessToken == todo[i].AccessToken)
		}
	})
	if opts.JSON {
		if err := refreshJSON(opts.IO, todo, res, opts.Now()); err != nil {
			return err
		}
	}
	return refreshError(res)
}

// printRefreshed prints one account's outcome: a failure on stderr (a
// single one is the command's error instead), else, unless --quiet, a
// line on stdout; kept says the token was valid enough to be left alone.
func printRefreshed(opts *RefreshOptions, r accounts.RefreshManyResult, many, kept bool) {
	name := present.Clean(r.Account.Name)
	switch {
	case r.Err != nil && many:
		fprintf(opts.IO.Err, "✗ %s: %s\n", name, present.RefreshFailure(r.Account.Name, r.Err))
	case r.Err != nil, opts.Quiet:
	case kept:
		fprintf(opts.IO.Out, "· %s: still valid, access token %s\n", name, present.ExpiresIn(&r.Account, opts.Now()))
		if note := minValidNote(&r.Account, opts.MinValid, opts.Now()); note != "" && opts.MinValid > 0 {
			fprintln(opts.IO.Err, "keyfob: note: "+note)
		}
	default:
		fprintf(opts.IO.Out, "✓ %s: access token %s\n", name, present.ExpiresIn(&r.Account, opts.Now()))
	}
}

// refreshError is the command's error: none, the one failure, or how many
// failed (exit 4 when every failure needs a new login).
func refreshError(res []accounts.RefreshManyResult) error {
	var failed, loginRequired int
	for _, r := range res {
		if r.Err != nil {
			failed++
			if errors.Is(r.Err, accounts.ErrLoginRequired) {
				loginRequired++
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case len(res) == 1:
		return res[0].Err
	case failed == loginRequired:
		return fmt.Errorf("%w: %d of %d accounts need a new login", accounts.ErrLoginRequired, failed, len(res))
	}
	return fmt.Errorf("%d of %d refreshes failed (see above)", failed, len(res))
}

// refreshEntry is one account in `keyfob refresh --json`. The field names
// are a documented, stable schema (README); add fields, never rename them.
type refreshEntry struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Outcome is "refreshed", "still_valid" (left alone: valid for
	// --min-valid) or "failed".
	Outcome         string     `json:"outcome"`
	AccessExpiresAt *time.Time `json:"access_expires_at"`
	Status          string     `json:"status"`
	Error           string     `json:"error"`
}

// refreshJSON prints the outcomes of a refresh as a JSON array, in the
// order of the accounts, each with its status as the store now records it
// (a rejected refresh token makes it login_required): the account each
// refresh left.
func refreshJSON(s *IOStreams, todo []accounts.Account, res []accounts.RefreshManyResult, now time.Time) error {
	out := make([]refreshEntry, len(res))
	for i, r := range res {
		a := r.Account
		e := refreshEntry{ID: a.ID, Name: a.Name, Outcome: "refreshed", AccessExpiresAt: timePtr(a.Expiry), Status: string(a.Health(now))}
		switch {
		case r.Err != nil:
			e.Outcome, e.Error = "failed", present.RefreshCause(r.Account.Name, r.Err)
		case r.Account.AccessToken == todo[i].AccessToken:
			e.Outcome = "still_valid"
		}
		out[i] = e
	}
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// refreshTargets are the accounts to refresh: every one that can be
// refreshed with all (and why each other one cannot: accounts.CanRefresh,
// the rule every face follows), else the named ones, else the default (or
// only) one.
func refreshTargets(m *accounts.Manager, names []string, all bool) (todo []accounts.Account, skipped []error, err error) {
	if all {
		accts, err := m.List(context.Background())
		if err != nil {
			return nil, nil, err
		}
		for _, ac := range accts {
			if why := accounts.CanRefresh(ac); why != nil {
				skipped = append(skipped, why)
				continue
			}
			todo = append(todo, ac)
		}
		return todo, skipped, nil
	}
	why := keep
	if len(names) == 0 {
		name, fromConfig, err := accountRef(m, "")
		if err != nil {
			return nil, nil, err
		}
		names, why = []string{name}, fromConfig
	}
	for _, n := range names {
		ac, err := m.Find(context.Background(), n)
		if err != nil {
			return nil, nil, why(err)
		}
		todo = append(todo, ac)
	}
	return todo, nil, nil
}
