package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/ui/present"
)

// CheckOptions are the options of `keyfob check`.
type CheckOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Manager  func() *accounts.Manager
	FleetAPI func() *fleetapi.Client
	Now      func() time.Time

	Name    string
	JSON    bool
	Refresh bool
}

// NewCmdCheck returns `keyfob check`; runF replaces its run in tests.
func NewCmdCheck(f *Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IO, Manager: f.Manager, FleetAPI: f.FleetAPI, Now: f.now}
	cmd := &cobra.Command{
		Use:   "check [NAME]",
		Short: "Prove that an account's access token works against the live API",
		Long: "check calls the API with the account's access token and changes nothing. Fleet and partner\n" +
			"accounts: GET {audience}/api/1/users/region, compared with the account's region and audience,\n" +
			"then GET {audience}/api/1/users/me when the token carries user_data. Other kinds: the account's\n" +
			"userinfo endpoint. It reports each call's status, HTTP and TLS version and latency, and the\n" +
			"scopes the token really carries (its scp claim) against those requested. It refreshes only with\n" +
			"--refresh, and then only a token that has expired. --json prints a stable schema (README).\n" +
			"Exit codes: 0 ok, 1 error or mismatch, 2 usage, 3 no such account, 4 the API refused the token.",
		Example: "  keyfob check home\n  keyfob check home --refresh --json | jq '.calls[] | {name, http_version, latency_ms}'",
		Args:    maxNames(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx = cmd.Context()
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runCheck(opts)
		},
	}
	completeNames(cmd, f, 1)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON (schema in README)")
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "refresh the access token first if it has expired")
	return cmd
}

func runCheck(opts *CheckOptions) error {
	m := opts.Manager()
	name, why, err := accountRef(m, opts.Name)
	if err != nil {
		return err
	}
	acct, err := m.Find(opts.Ctx, name)
	if err != nil {
		return why(err)
	}
	refreshed := false
	if opts.Refresh {
		got, err := m.Token(opts.Ctx, acct.ID, 0)
		if err != nil {
			return err
		}
		printRegionChange(opts.IO.Err, present.Clean(got.Account.Name), oauth.RegionChangeOf(got.Before, got.Account))
		acct, refreshed = got.Account, got.Requested
	}
	rep, cerr := opts.FleetAPI().Check(opts.Ctx, acct)
	rep.Refreshed = refreshed
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printCheck(opts.IO.Out, &acct, rep, opts.Now())
	}
	return checkError(&acct, cerr, opts.Now())
}

// printCheck writes the report for people. Everything a server said, and
// every field of the store, is cleaned first.
func printCheck(w io.Writer, a *accounts.Account, r fleetapi.Report, now time.Time) {
	who := present.Clean(a.Name)
	if a.Email != "" {
		who += " <" + present.Clean(a.Email) + ">"
	}
	fprintf(w, "Checked %s (%s)\n", who, present.KindRegion(a))
	if r.Refreshed {
		fprintln(w, "The access token had expired and was refreshed first.")
	}
	if len(r.Calls) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, x := range r.Calls {
			fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s %s\n", present.OneLine(x.Name), callStatus(x), cmp.Or(present.OneLine(x.HTTPVersion), "-"),
				cmp.Or(present.OneLine(x.TLSVersion), "-"), latency(x.LatencyMS), x.Method, present.Clean(x.URL))
		}
		_ = tw.Flush()
	}
	kv := func(k, v string) { fprintf(w, "%-13s%s\n", k, v) }
	if rc := r.Region; rc != nil {
		kv("Region", agreement(rc.Account, rc.Tesla, rc.Match))
		kv("API base", agreement(rc.AccountBase, rc.TeslaBase, rc.BaseMatch))
	}
	if u := r.User; u != nil {
		who := cmp.Or(present.Clean(u.Email), "-")
		if u.FullName != "" {
			who += " (" + present.Clean(u.FullName) + ")"
		}
		kv("User", who)
	}
	switch {
	case r.Scopes.Source == "token":
		kv("Scopes", present.Clean(strings.Join(r.Scopes.Granted, " "))+" — from the token's scp claim")
	case len(r.Scopes.Granted) > 0:
		kv("Scopes", present.Clean(strings.Join(r.Scopes.Granted, " "))+" — as the token response listed them: the token is not a JWT")
	default:
		kv("Scopes", "unknown — the token is not a JWT and the token response listed none")
	}
	if len(r.Scopes.Missing) > 0 {
		kv("Not granted", present.Clean(strings.Join(r.Scopes.Missing, " "))+" — requested, but the token does not carry them")
	}
	kv("Access token", "expires "+present.ExpiresIn(a, now))
	for _, n := range r.Notes {
		kv("Note", present.OneLine(n))
	}
	if r.OK {
		kv("Result", "✓ the token works")
	} else {
		kv("Result", "✗ see below")
	}
}

func latency(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func callStatus(x fleetapi.Exchange) string {
	if x.Status == 0 {
		return "no answer"
	}
	return fmt.Sprint(x.Status)
}

// agreement shows the account's value and Tesla's: "na ✓", "na — Tesla
// says eu ✗".
func agreement(mine, tesla string, match bool) string {
	if match {
		return cmp.Or(present.Clean(mine), "-") + " ✓"
	}
	return cmp.Or(present.Clean(mine), "-") + " — Tesla says " + cmp.Or(present.Clean(tesla), "-") + " ✗"
}

// loginNeeded is an error that exits 4: the API refused the token, or
// there is none.
type loginNeeded struct{ msg string }

func (e *loginNeeded) Error() string        { return e.msg }
func (e *loginNeeded) Is(target error) bool { return target == accounts.ErrLoginRequired }

// checkError turns the outcome of a check into one sentence and what to
// do about it.
func checkError(a *accounts.Account, err error, now time.Time) error {
	name := a.Name
	var mm *fleetapi.MismatchError
	var ne *fleetapi.NetError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fleetapi.ErrNoAccessToken):
		return &loginNeeded{fmt.Sprintf("%q has no access token (%s); log in again with keyfob login", name, a.Health(now))}
	case errors.Is(err, fleetapi.ErrUnauthorized) && !a.Expiry.IsZero() && !now.Before(a.Expiry):
		return &loginNeeded{fmt.Sprintf("the API refused the access token of %q, which expired %s ago (%v); "+
			"refresh it with keyfob check %s --refresh, or keyfob refresh %s", name, present.Approx(now.Sub(a.Expiry)), err, name, name)}
	case errors.Is(err, fleetapi.ErrUnauthorized):
		return &loginNeeded{fmt.Sprintf("the API refused the access token of %q although it has not expired (%v): "+
			"it was revoked, or the password changed; try keyfob refresh %s, and if that says login required, log in again", name, err, name)}
	case errors.As(err, &mm):
		return fmt.Errorf("%s; fix the account with keyfob edit %s %s", err, name, regionFix(a.Kind, mm))
	case errors.Is(err, fleetapi.ErrNoBase):
		return fmt.Errorf("%q has no Fleet API base URL (its audience); set one with keyfob edit %s --region na|eu|cn, or --audience URL", name, name)
	case errors.Is(err, fleetapi.ErrNothingToCall):
		return fmt.Errorf("nothing to call for %q (%v); give it one with keyfob edit %s --userinfo-url URL", name, err, name)
	case errors.As(err, &ne):
		return fmt.Errorf("%v; %s", err, networkAdvice(ne))
	}
	return fmt.Errorf("%v; the token was not proved", err)
}

// regionFix is the edit flags that make an account of kind k agree with
// Tesla: the region, with the audience too when Tesla names a base that is
// not the region's preset.
func regionFix(k accounts.Kind, mm *fleetapi.MismatchError) string {
	for _, r := range oauth.Regions {
		if !strings.EqualFold(r, mm.Region) {
			continue
		}
		if p, err := oauth.Preset(k, r); err == nil && p.Audience == mm.Base {
			return "--region " + r
		}
		return "--region " + r + " --audience " + mm.Base
	}
	return "--audience " + mm.Base
}

// networkAdvice says what to check when a server did not answer.
func networkAdvice(ne *fleetapi.NetError) string {
	if ne.Proxy {
		return "check HTTPS_PROXY and NO_PROXY"
	}
	return "check your network, or HTTPS_PROXY and NO_PROXY if you use a proxy"
}
