package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// ImportOptions are the options of `keyfob import`.
type ImportOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Logins   func() *oauth.Logins
	Prompter func() *Prompter
	Asker    func() Asker
	Getenv   func(string) string
	Now      func() time.Time

	Account AccountInputs
}

// NewCmdImport returns `keyfob import`; runF replaces its run in tests.
func NewCmdImport(f *Factory, runF func(*ImportOptions) error) *cobra.Command {
	opts := &ImportOptions{IO: f.IO, Logins: f.Logins, Prompter: f.Prompter, Asker: f.Ask, Getenv: f.getenv, Now: f.now}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Add an account from a refresh token read on stdin",
		Long: "import adds an account from a refresh token you already have. The token is read from stdin\n" +
			"(or a prompt without echo), never from the command line. keyfob refreshes it at once, which\n" +
			"proves it works and learns the expiry, scopes and email. Tesla refresh tokens are single use:\n" +
			"once keyfob refreshes it, the tool you took it from must not use it again. An import takes only\n" +
			"what a refresh needs: a flag that only a login uses is refused. In a terminal, import with no flag\n" +
			"asks what the TUI's import form asks.",
		Example: "  keyfob import --kind fleet --client-id YOUR_APP_ID --name car < refresh_token.txt\n" +
			"  pbpaste | keyfob import --kind owner --name home",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			opts.Account.collect(cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return runImport(opts)
		},
	}
	opts.Account.register(cmd.Flags())
	return cmd
}

func runImport(opts *ImportOptions) error {
	ctx, l := opts.Ctx, opts.Logins()
	ask := opts.Asker()
	if ask != nil && opts.Account.bare() {
		if err := opts.Account.askAll(ctx, ask, l, oauth.PurposeImport); err != nil {
			return err
		}
	}
	prep, err := opts.Account.prepareAsking(ctx, l, oauth.PurposeImport, inputSource{opts.Getenv, opts.Prompter}, oauth.LoginOptions{}, ask)
	if err != nil {
		return err
	}
	opts.Account.notePrepared(opts.IO.Err, prep)
	if prep.Account.UsesClientCredentials() {
		return usagef("accounts with --grant %s have no refresh token; use keyfob login", prep.Account.Grant)
	}
	rt := prep.Account.RefreshToken // asked for in the terminal's form
	if rt == "" {
		if rt, err = opts.Prompter().Secret("Refresh token: "); err != nil {
			return err
		}
	}
	// A token pasted over several lines is one token.
	prep.Account.RefreshToken = strings.Join(strings.Fields(rt), "")
	saved, err := l.Import(ctx, prep)
	if err != nil {
		return opts.Account.withFieldFix(err, oauth.PurposeImport)
	}
	verb := "Imported"
	if saved.Replaced {
		verb = "Updated"
	}
	fprintf(opts.IO.Err, "%s %s\n", verb, present.Summary(&saved.Account, opts.Now()))
	printRegionChange(opts.IO.Err, present.Clean(saved.Account.Name), saved.RegionChange)
	printNameNotUsed(opts.IO.Err, saved)
	noteLoginConsumers(opts.IO.Err, l.Manager, saved.Account, saved.Replaced)
	return nil
}
