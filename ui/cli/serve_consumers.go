package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/serve"
	"github.com/keyfob/keyfob/ui/present"
)

// ServeAddOptions are the options of `keyfob serve add`.
type ServeAddOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager

	Consumer string
	Account  string
}

// NewCmdServeAdd returns `keyfob serve add`; runF replaces its run in tests.
func NewCmdServeAdd(f *Factory, runF func(*ServeAddOptions) error) *cobra.Command {
	opts := &ServeAddOptions{IO: f.IO, Manager: f.Manager}
	cmd := &cobra.Command{
		Use:   "add CONSUMER --account NAME",
		Short: "Let a program get an account's tokens from keyfob serve; prints its credential once",
		Long: "add creates the consumer CONSUMER for one account and prints its credential on stdout, this\n" +
			"once: keyfob keeps only its SHA-256. The program uses the credential where it would use a refresh\n" +
			"token (TeslaMate: in its sign-in form's refresh token field), or as a bearer token for\n" +
			"GET /v1/token/NAME.",
		Example: "  keyfob serve add teslamate --account car",
		Args:    exactlyOneConsumer,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Consumer = cmd.Context(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return runServeAdd(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Account, "account", "", "the account whose tokens the consumer gets (may be omitted with one account or a default_account)")
	return cmd
}

func exactlyOneConsumer(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s needs exactly one consumer name", cmd.CommandPath())
	}
	return nil
}

func runServeAdd(opts *ServeAddOptions) error {
	m := opts.Manager()
	ref, why, err := accountRef(m, opts.Account)
	if err != nil {
		return err
	}
	c, cred, err := m.AddConsumer(opts.Ctx, opts.Consumer, ref)
	err = why(err)
	var ne *accounts.NameError
	if errors.As(err, &ne) {
		// The name is CONSUMER, not an account's --name.
		return usageError{err: fmt.Errorf("the consumer name %q %s; choose another", ne.Name, ne.Problem), advised: true}
	}
	if err != nil {
		return err
	}
	a, _ := m.Get(opts.Ctx, c.AccountID)
	fprintln(opts.IO.Out, cred)
	fprintf(opts.IO.Err, "Consumer %s gets the tokens of %s. Its credential (above) is shown this once; give it to the\n"+
		"program as its refresh token, and point the program at keyfob serve (%s by default).\n",
		present.Clean(c.Name), present.Clean(a.Name), "http://"+serve.DefaultAddr)
	return nil
}

// ServeListOptions are the options of `keyfob serve list`.
type ServeListOptions struct {
	IO      *IOStreams
	Manager func() *accounts.Manager
	Now     func() time.Time

	JSON bool
}

// NewCmdServeList returns `keyfob serve list`; runF replaces its run in tests.
func NewCmdServeList(f *Factory, runF func(*ServeListOptions) error) *cobra.Command {
	opts := &ServeListOptions{IO: f.IO, Manager: f.Manager, Now: f.now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the consumers of keyfob serve: name, account, created, last use, last address",
		Example: "  keyfob serve list\n  keyfob serve list --json",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runServeList(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array (schema in README)")
	return cmd
}

// consumerEntry is one consumer in `keyfob serve list --json`; a
// documented, stable schema (README). The credential is not in it: keyfob
// does not have it.
type consumerEntry struct {
	Name        string     `json:"name"`
	Account     string     `json:"account"`
	AccountID   string     `json:"account_id"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	LastAddress string     `json:"last_address"`
}

func runServeList(opts *ServeListOptions) error {
	m := opts.Manager()
	f, err := m.Snapshot(context.Background())
	if err != nil {
		return err
	}
	out := make([]consumerEntry, 0, len(f.Consumers))
	for _, c := range f.Consumers {
		e := consumerEntry{Name: c.Name, AccountID: c.AccountID, CreatedAt: c.CreatedAt,
			LastUsedAt: timePtr(c.LastUsedAt), LastAddress: c.LastAddress}
		if a := f.Find(c.AccountID); a != nil {
			e.Account = a.Name
		}
		out = append(out, e)
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		fprintln(opts.IO.Err, "No consumers yet. Add one with `keyfob serve add CONSUMER --account NAME`.")
		return nil
	}
	now := opts.Now()
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fprintln(tw, "NAME\tACCOUNT\tCREATED\tLAST USE\tLAST ADDRESS")
	for _, e := range out {
		used := "never"
		if e.LastUsedAt != nil {
			used = present.Relative(*e.LastUsedAt, now)
		}
		fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", present.Clean(e.Name), cmp.Or(present.Clean(e.Account), "-"),
			present.Relative(e.CreatedAt, now), used, cmp.Or(present.Clean(e.LastAddress), "-"))
	}
	return tw.Flush()
}

// ServeRemoveOptions are the options of `keyfob serve remove`.
type ServeRemoveOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Manager  func() *accounts.Manager
	Prompter func() *Prompter

	Consumer string
	Yes      bool
}

// NewCmdServeRemove returns `keyfob serve remove`; runF replaces its run in tests.
func NewCmdServeRemove(f *Factory, runF func(*ServeRemoveOptions) error) *cobra.Command {
	opts := &ServeRemoveOptions{IO: f.IO, Manager: f.Manager, Prompter: f.Prompter}
	cmd := &cobra.Command{
		Use:     "remove CONSUMER",
		Aliases: []string{"rm"},
		Short:   "Remove a consumer: its credential stops working at once",
		Example: "  keyfob serve remove teslamate --yes",
		Args:    exactlyOneConsumer,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Consumer = cmd.Context(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return runServeRemove(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "remove without asking (needed without a terminal)")
	completeConsumers(cmd, f)
	return cmd
}

func runServeRemove(opts *ServeRemoveOptions) error {
	m := opts.Manager()
	f, err := m.Snapshot(opts.Ctx)
	if err != nil {
		return err
	}
	found := f.FindConsumer(opts.Consumer)
	if found == nil {
		_, err := m.RemoveConsumer(opts.Ctx, opts.Consumer) // no such consumer: says so, as asking could not
		return err
	}
	name := present.Clean(found.Name)
	if err := confirm(opts.Ctx, opts.IO, opts.Prompter, opts.Yes, "Remove consumer "+name+"? Its credential stops working.",
		"remove consumer "+name, "nothing removed"); err != nil {
		return err
	}
	c, err := m.RemoveConsumer(opts.Ctx, opts.Consumer)
	if err != nil {
		return err
	}
	fprintf(opts.IO.Err, "Removed consumer %s.\n", present.Clean(c.Name))
	return nil
}
