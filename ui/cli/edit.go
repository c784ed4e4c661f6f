package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager
	// Presets are the defaults a new region moves to.
	Presets func() edit.Presets

	Name string
	// Changes holds the flags that were given, by field.
	Changes edit.Changes

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
	opts := &EditOptions{IO: f.IO, Manager: f.Manager, Presets: func() edit.Presets { return f.Logins().Preset }}
	cmd := &cobra.Command{
		Use:   "edit NAME [flags]",
		Short: "Change an account's endpoints, redirect URI, region, audience or name; keep its tokens",
		Long: "edit changes the settings of a saved account without a new login: its tokens stay. Tesla has\n" +
			"moved its token host before; when it does again, --token-url is all it takes. A new --region of\n" +
			"a Tesla account moves the region's endpoints and audience with it, except those you give and\n" +
			"those you had set to something else (edit says which). The result must still be able to refresh:\n" +
			"a typo is refused and nothing is written. An empty value (--revoke-url \"\") clears a field.",
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
	var notes []string
	before, after, err := m.Edit(opts.Ctx, acct.ID, func(a *accounts.Account) error {
		var err error
		notes, err = edit.Apply(a, opts.Changes, opts.Presets())
		return err
	})
	var fe *oauth.FieldError
	switch {
	case errors.As(err, &fe) && errors.Is(err, oauth.ErrInsecureHTTP):
		return usageError{err: fmt.Errorf("%w; nothing was changed: fix --%s (only an account logged in with --insecure-http may use plain http)",
			err, editFlag(fe.Field)), advised: true}
	case errors.As(err, &fe):
		return usageError{err: fmt.Errorf("%w; nothing was changed: fix --%s", err, editFlag(fe.Field))}
	case errors.Is(err, accounts.ErrInvalidName):
		return usageError{err: fmt.Errorf("%w; nothing was changed: choose another with --name", err), advised: true}
	case err != nil:
		return err
	}
	printEdit(opts.IO, before, after, notes)
	return nil
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
