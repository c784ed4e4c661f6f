package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/edit"
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
	// Presets are the defaults a region moves an account to: the advice
	// of a region mismatch is the edit that makes the account agree.
	Presets func() edit.Presets

	Name    string
	JSON    bool
	Refresh bool
}

// NewCmdCheck returns `keyfob check`; runF replaces its run in tests.
func NewCmdCheck(f *Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IO, Manager: f.Manager, FleetAPI: f.FleetAPI, Now: f.now,
		Presets: func() edit.Presets { return f.Logins().Preset }}
	cmd := &cobra.Command{
		Use:   "check [NAME]",
		Short: "Prove that an account's access token works against the live API",
		Long: "check calls the API with the account's access token and changes nothing. The calls go to the\n" +
			"account's API base (its audience, unless it has an API base of its own, as sandbox accounts do).\n" +
			"Fleet accounts: GET users/region, compared with the account's region and audience, then users/me\n" +
			"when the token carries user_data. Partner accounts: a partner endpoint, GET partner_accounts/\n" +
			"fleet_telemetry_errors (Tesla's user endpoints refuse partner tokens). Owner accounts: the userinfo\n" +
			"endpoint, then the Owner API's GET /api/1/vehicles, whose answer is shown as it is (Tesla refuses\n" +
			"many owner tokens there since 2026-06-12); legacy accounts: the Owner API. Custom accounts: the\n" +
			"userinfo endpoint. A 429 answer's Retry-After is honoured (a wait of up to 10 s, then one more\n" +
			"try) and its RateLimit-* headers are shown. It reports each call's status, HTTP and TLS version\n" +
			"and latency, and the scopes the token really carries (its scp claim) against those requested. It\n" +
			"refreshes only with --refresh, and then only a token that has expired. --json prints a stable\n" +
			"schema (README). Exit codes: 0 ok, 1 error or mismatch, 2 usage, 3 no such account, 4 the API\n" +
			"refused the token.",
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
	return checkError(&acct, cerr, opts.Now(), opts.Presets())
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
		for _, x := range r.Calls {
			if note := rateNote(x); note != "" {
				fprintln(w, "  "+present.OneLine(x.Name)+": "+note)
			}
		}
	}
	kv := func(k, v string) { fprintf(w, "%-13s%s\n", k, v) }
	if rc := r.Region; rc != nil {
		kv("Region", agreement(rc.Account, rc.Tesla, rc.Match))
		kv("Audience", agreement(rc.AccountBase, rc.TeslaBase, rc.BaseMatch))
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

// rateNote tells what a call said of the rate limit: the RateLimit-*
// headers and Retry-After of its answer, and a wait keyfob made before it.
func rateNote(x fleetapi.Exchange) string {
	var parts []string
	if x.WaitedS > 0 {
		parts = append(parts, fmt.Sprintf("asked again after waiting %v, as Retry-After asked", seconds(x.WaitedS)))
	}
	if len(x.RateLimit) > 0 {
		parts = append(parts, "rate limit: "+fleetapi.RateLimitText(x.RateLimit))
	}
	if x.RetryAfterS > 0 {
		parts = append(parts, fmt.Sprintf("Retry-After %v", seconds(x.RetryAfterS)))
	}
	return strings.Join(parts, "; ")
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

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
// do about it. presets are those `keyfob edit --region` moves to.
func checkError(a *accounts.Account, err error, now time.Time, presets edit.Presets) error {
	name := a.Name
	var mm *fleetapi.MismatchError
	var ne *fleetapi.NetError
	var ae *fleetapi.APIError
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
		return fmt.Errorf("%s; fix the account with keyfob edit %s %s", err, name, regionFix(*a, mm.Region, mm.Base, presets))
	case errors.Is(err, fleetapi.ErrOwnerAPIRefused):
		return fmt.Errorf("%v; Tesla is closing the Owner API to the tools that use owner tokens (since 2026-06-12 it refuses many): "+
			"the durable path is a Fleet API app of your own — see README, \"Your own Fleet API app\", then keyfob login --kind fleet", err)
	case errors.Is(err, fleetapi.ErrMisdirected) && errors.As(err, &ae) && ae.Region != "":
		return fmt.Errorf("%v; fix the account with keyfob edit %s %s", err, name, regionFix(*a, ae.Region, ae.Base, presets))
	case errors.Is(err, fleetapi.ErrNotRegistered), errors.Is(err, fleetapi.ErrRateLimited):
		return err // the error names what to do
	case errors.Is(err, fleetapi.ErrNoBase):
		return fmt.Errorf("%q has no Fleet API base URL (its audience); set one with keyfob edit %s --region na|eu|cn, or --audience URL", name, name)
	case errors.Is(err, fleetapi.ErrNothingToCall):
		return fmt.Errorf("nothing to call for %q (%v); give it one with keyfob edit %s --userinfo-url URL", name, err, name)
	case errors.As(err, &ne):
		return fmt.Errorf("%v; %s", err, networkAdvice(ne))
	}
	return fmt.Errorf("%v; the token was not proved", err)
}

// regionFix is the edit flags that make account a agree with Tesla's
// region and Fleet API base: --region alone when `keyfob edit --region`
// gives the account that base (it moves the preset audience and the
// sandbox's API base with the region, and realigns them in the region the
// account has), with --audience too when Tesla names another base.
func regionFix(a accounts.Account, region, base string, presets edit.Presets) string {
	region = strings.ToLower(region)
	if !slices.Contains(oauth.Regions, region) {
		return "--audience " + base
	}
	moved := a
	if _, err := edit.Apply(&moved, edit.Changes{oauth.FieldRegion: region}, presets, edit.Consent{}); err == nil &&
		(base == "" || sameURL(moved.Audience, base) || sameURL(oauth.APIBase(moved), base)) {
		return "--region " + region
	}
	return "--region " + region + " --audience " + base
}

// sameURL compares two base URLs, trailing slashes and case of the host
// ignored.
func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

// networkAdvice says what to check when a server did not answer.
func networkAdvice(ne *fleetapi.NetError) string {
	if ne.Proxy {
		return "check HTTPS_PROXY and NO_PROXY"
	}
	return "check your network, or HTTPS_PROXY and NO_PROXY if you use a proxy"
}
