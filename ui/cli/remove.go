package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// RemoveOptions are the options of `keyfob remove`.
type RemoveOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Manager  func() *accounts.Manager
	Prompter func() *Prompter

	Name string
	Yes  bool
}

// NewCmdRemove returns `keyfob remove`; runF replaces its run in tests.
func NewCmdRemove(f *Factory, runF func(*RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IO, Manager: f.Manager, Prompter: f.Prompter}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Forget an account locally (its tokens stay valid at the server)",
		Long: "remove forgets an account and its consumers of keyfob serve; its tokens stay valid at the server\n" +
			"(keyfob revoke revokes them). It asks first; without a terminal to ask at, it needs --yes.",
		Example: "  keyfob remove old-car --yes",
		Args:    exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Name = cmd.Context(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return runRemove(opts)
		},
	}
	completeNames(cmd, f, 1)
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "remove without asking (needed without a terminal)")
	return cmd
}

func runRemove(opts *RemoveOptions) error {
	m := opts.Manager()
	acct, err := m.Find(opts.Ctx, opts.Name)
	if err != nil {
		return err
	}
	name := present.Clean(acct.Name)
	if err := confirm(opts.Ctx, opts.IO, opts.Prompter, opts.Yes,
		"Forget "+name+"? Its tokens stay valid at the server (use keyfob revoke for that).",
		"remove "+name, "nothing removed"); err != nil {
		return err
	}
	removed, err := m.Remove(opts.Ctx, acct.ID)
	if err != nil {
		return err
	}
	fprintf(opts.IO.Err, "Removed %s.\n", name)
	if n := len(removed.Consumers); n > 0 {
		fprintf(opts.IO.Err, "Removed with it %s of keyfob serve: %s.\n", plural(n, "consumer", "consumers"), listConsumers(removed.Consumers))
	}
	return nil
}
