package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
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
}

// NewCmdRefresh returns `keyfob refresh`; runF replaces its run in tests.
func NewCmdRefresh(f *Factory, runF func(*RefreshOptions) error) *cobra.Command {
	opts := &RefreshOptions{IO: f.IO, Manager: f.Manager, Now: f.now}
	cmd := &cobra.Command{
		Use:   "refresh [NAME...]",
		Short: "Refresh access tokens now",
		Long: "refresh gets new access tokens now, saving each rotated refresh token before anything else.\n" +
			"With --all it refreshes every account that can be refreshed, --concurrency at a time.\n" +
			"With --min-valid it refreshes only tokens that expire within that time, which suits cron:\n" +
			"tokens another keyfob process refreshed meanwhile are left alone.",
		Example: "  keyfob refresh home\n  keyfob refresh --all --concurrency 16\n" +
			"  */10 * * * * keyfob refresh --all --min-valid 30m   # crontab: keep every token warm",
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
	cmd.Flags().DurationVar(&opts.MinValid, "min-valid", 0, "only refresh tokens that expire within this (0: refresh all named)")
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
	}
	// The process lives for a few milliseconds, most of them decoding the
	// store: collecting garbage halfway through would only cost time.
	debug.SetGCPercent(400)
	m := opts.Manager()
	todo, skipped, err := refreshTargets(m, opts.Names, opts.All)
	if err != nil {
		return err
	}
	out, errOut := opts.IO.Out, opts.IO.Err
	for _, why := range skipped {
		fprintf(errOut, "- skipped: %s\n", present.OneLine(why.Error()))
	}
	if len(todo) == 0 {
		fprintln(errOut, "Nothing to refresh.")
		return nil
	}
	res := m.RefreshMany(opts.Ctx, todo, opts.Concurrency, opts.MinValid, accounts.Explicit, func(i int, r accounts.RefreshManyResult) {
		name := present.Clean(r.Account.Name)
		printRegionChange(errOut, name, oauth.RegionChangeOf(r.Before, r.Account))
		switch {
		case r.Err != nil && len(todo) > 1: // a single error is the command's error
			fprintf(errOut, "✗ %s: %s\n", name, present.OneLine(r.Err.Error()))
		case r.Err != nil:
		case r.Account.AccessToken == todo[i].AccessToken:
			fprintf(out, "· %s: still valid, access token %s\n", name, present.ExpiresIn(&r.Account, opts.Now()))
		default:
			fprintf(out, "✓ %s: access token %s\n", name, present.ExpiresIn(&r.Account, opts.Now()))
		}
	})
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

// refreshTargets are the accounts to refresh: every refreshable one with
// all (skipped says why each other one is not: accounts.CanRefresh),
// else the named ones, else the default (or only) one.
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
