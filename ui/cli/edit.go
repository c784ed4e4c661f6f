package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/edit"
	"github.com/keyfob/keyfob/ui/present"
)

// EditOptions are the options of `keyfob edit`.
type EditOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Manager  func() *accounts.Manager
	Prompter func() *Prompter
	// Presets are the defaults a new region moves to.
	Presets func() edit.Presets

	Name string
	// Changes holds the flags that were given, by field.
	Changes edit.Changes
	// InsecureHTTP (--insecure-http) accepts endpoints over plain http to
	// a new host off this machine; Yes (--yes) accepts a Tesla account's
	// endpoints or audience moving off Tesla's hosts without asking.
	InsecureHTTP, Yes bool

	values map[oauth.Field]*string
}

// editFlag names the flag of an edit field.
func editFlag(f oauth.Field) string {
	if f == oauth.FieldRegion {
		return "region"
	}
	for _, ff := range fieldFlags {
		if ff.field == f {
			return ff.name
		}
	}
	return string(f)
}

// NewCmdEdit returns `keyfob edit`; runF replaces its run in tests.
func NewCmdEdit(f *Factory, runF func(*EditOptions) error) *cobra.Command {
	opts := &EditOptions{IO: f.IO, Manager: f.Manager, Prompter: f.Prompter, Presets: func() edit.Presets { return f.Logins().Preset }}
	cmd := &cobra.Command{
		Use:   "edit NAME [flags]",
		Short: "Change an account's endpoints, redirect URI, region, audience or name; keep its tokens",
		Long: "edit changes the settings of a saved account without a new login: its tokens stay. Tesla has\n" +
			"moved its token host before; when it does again, --token-url is all it takes. A new --region of\n" +
			"a Tesla account moves the region's endpoints and audience with it, except those you give and\n" +
			"those you had set to something else (edit says which). The result must still be able to refresh:\n" +
			"a typo is refused and nothing is written. An empty value (--revoke-url \"\") clears a field.\n\n" +
			"Two changes take your consent, and name the host they would send your secrets to: a Tesla\n" +
			"account's endpoint or audience moving off Tesla's hosts (edit asks at a terminal; --yes accepts),\n" +
			"and an endpoint over plain http to a new host on another machine (--insecure-http accepts; an\n" +
			"account edited back to https loses that opt-in).",
		Example: "  keyfob edit car --region eu\n" +
			"  keyfob edit car --token-url https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token\n" +
			"  keyfob edit car --name model-y",
		Args: exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Name = cmd.Context(), args[0]
			opts.collect(cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return runEdit(opts)
		},
	}
	completeNames(cmd, f, 1)
	opts.values = map[oauth.Field]*string{}
	for _, fl := range edit.Fields {
		usage := "new " + fl.Label()
		if fl == oauth.FieldRegion {
			usage = "new Tesla region: na, eu or cn (moves the region's endpoints and audience)"
		}
		opts.values[fl] = cmd.Flags().String(editFlag(fl), "", usage)
	}
	cmd.Flags().BoolVar(&opts.InsecureHTTP, insecureFlag, false, "accept an endpoint over plain http to a new host off this machine (tokens in clear text)")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "accept a Tesla account's endpoints or audience moving off Tesla's hosts without asking")
	return cmd
}

func (o *EditOptions) collect(fl *pflag.FlagSet) {
	o.Changes = edit.Changes{}
	for _, f := range edit.Fields {
		if fl.Changed(editFlag(f)) {
			o.Changes[f] = *o.values[f]
		}
	}
}

func runEdit(opts *EditOptions) error {
	if len(opts.Changes) == 0 {
		var names []string
		for _, f := range edit.Fields {
			names = append(names, "--"+editFlag(f))
		}
		return usagef("give at least one field to change: %s", strings.Join(names, ", "))
	}
	m := opts.Manager()
	acct, err := m.Find(opts.Ctx, opts.Name)
	if err != nil {
		return err
	}
	for _, f := range edit.Fields {
		if _, given := opts.Changes[f]; given && !edit.Applies(acct, f) {
			return usagef("--%s does not apply to a %s account", editFlag(f), present.Clean(string(acct.Kind)))
		}
	}
	consent := edit.Consent{PlainHTTP: opts.InsecureHTTP, LeaveTesla: opts.Yes}
	var notes []string
	apply := func() (before, after accounts.Account, err error) {
		return m.Edit(opts.Ctx, acct.ID, func(a *accounts.Account) error {
			var err error
			notes, err = edit.Apply(a, opts.Changes, opts.Presets(), consent)
			return err
		})
	}
	before, after, err := apply()
	var ce *edit.ConsentError
	if errors.As(err, &ce) && len(ce.PlainHTTP) == 0 && opts.IO.InTTY {
		ok, perr := opts.Prompter().Confirm(opts.Ctx, "keyfob: "+present.OneLine(ce.Error())+". Make this change?")
		if perr != nil {
			return perr
		}
		if !ok {
			return errors.New("nothing was changed")
		}
		consent.LeaveTesla = true
		before, after, err = apply()
	}
	var fe *oauth.FieldError
	switch {
	case errors.As(err, &ce):
		return consentRefused(ce)
	case errors.As(err, &fe):
		return usageError{err: fmt.Errorf("%w; nothing was changed: fix --%s", err, editFlag(fe.Field))}
	case errors.Is(err, accounts.ErrInvalidName):
		return usageError{err: fmt.Errorf("%w; nothing was changed: choose another with --name", err), advised: true}
	case err != nil:
		return err
	}
	printEdit(opts.IO, before, after, notes)
	noteConsent(opts.IO.Err, before, after)
	return nil
}

// consentRefused is the usage error of an edit that needs consent not
// given: what it would do, and the flag that accepts it.
func consentRefused(ce *edit.ConsentError) error {
	var fix []string
	if len(ce.OffTesla) > 0 {
		fix = append(fix, "--yes accepts the new host")
	}
	if len(ce.PlainHTTP) > 0 {
		fix = append(fix, "--"+insecureFlag+" accepts plain http to it")
	}
	return usageError{err: fmt.Errorf("%w; nothing was changed: fix --%s, or %s", ce, editFlag(ce.Field()), strings.Join(fix, ", and ")), advised: true}
}

// noteConsent warns of what an accepted edit does: plain http to another
// machine, and a Tesla account's endpoints off Tesla's hosts; and says
// when the opt-in to plain http went.
func noteConsent(w io.Writer, before, after accounts.Account) {
	switch {
	case after.AllowInsecureHTTP:
		fprintln(w, "keyfob: warning: this account's tokens and secrets travel in clear text to a plain http endpoint on another")
		fprintln(w, "  machine, where anyone on the network path can read and use them; give it https endpoints where the server offers them.")
	case before.AllowInsecureHTTP:
		fprintln(w, "keyfob: note: no endpoint uses plain http any more: the account's opt-in to it is gone (--insecure-http gives it again).")
	}
	if edit.Tesla(after.Kind) {
		for _, c := range edit.Diff(before, after) {
			if c.New != "" && oauth.HostPort(c.New) != "" && !oauth.TeslaHost(c.New) && oauth.HostPort(c.New) != oauth.HostPort(c.Old) {
				fprintf(w, "keyfob: warning: the %s is now on %s, not one of Tesla's hosts.\n", c.Field.Label(), present.Clean(oauth.HostPort(c.New)))
			}
		}
	}
}

func printEdit(s *IOStreams, before, after accounts.Account, notes []string) {
	changes := edit.Diff(before, after)
	if len(changes) == 0 {
		fprintf(s.Err, "Nothing changed: %s already has those settings.\n", present.Clean(after.Name))
		return
	}
	fprintf(s.Out, "Edited %s; its tokens are kept:\n", present.Clean(after.Name))
	for _, c := range changes {
		fprintf(s.Out, "  %s: %s → %s\n", c.Field.Label(), cmp.Or(present.Clean(c.Old), "(none)"), cmp.Or(present.Clean(c.New), "(none)"))
	}
	for _, n := range notes {
		fprintf(s.Out, "  note: %s\n", present.OneLine(n))
	}
}
