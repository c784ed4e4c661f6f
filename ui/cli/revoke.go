package cli

import (
	"cmp"
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// RevokeOptions are the options of `keyfob revoke`.
type RevokeOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Manager  func() *accounts.Manager
	Prompter func() *Prompter

	Name            string
	Remove          bool
	RemoveConsumers bool
	Yes             bool
}

// NewCmdRevoke returns `keyfob revoke`; runF replaces its run in tests.
func NewCmdRevoke(f *Factory, runF func(*RevokeOptions) error) *cobra.Command {
	opts := &RevokeOptions{IO: f.IO, Manager: f.Manager, Prompter: f.Prompter}
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an account's tokens at the server and mark it revoked",
		Long: "revoke asks the account's revocation endpoint (RFC 7009) to revoke the refresh token, then the\n" +
			"access token, and reports what the server did and what changed locally, separately. Tesla\n" +
			"documents no revocation endpoint: for Tesla accounts keyfob shows the consent page where you\n" +
			"can withdraw the app's access. The legacy owner-api's /oauth/revoke answers 200 without\n" +
			"revoking anything, so keyfob reports its answer as not confirmed and keeps the tokens.\n" +
			"The record stays, marked revoked, unless --remove. keyfob serve's consumers of the account keep\n" +
			"their credentials (revoke names them; a new login gives them the account's tokens again) unless\n" +
			"--remove-consumers, or --remove, which removes them with the account. It asks first; without a\n" +
			"terminal to ask at, it needs --yes.",
		Example: "  keyfob revoke home\n  keyfob revoke old-car --remove\n  keyfob revoke car --remove-consumers --yes",
		Args:    exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Name = cmd.Context(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return runRevoke(opts)
		},
	}
	completeNames(cmd, f, 1)
	cmd.Flags().BoolVar(&opts.Remove, "remove", false, "also forget the account locally (and its consumers of keyfob serve)")
	cmd.Flags().BoolVar(&opts.RemoveConsumers, "remove-consumers", false, "also remove the account's consumers of keyfob serve")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "revoke without asking (needed without a terminal)")
	return cmd
}

func runRevoke(opts *RevokeOptions) error {
	m := opts.Manager()
	acct, err := m.Find(opts.Ctx, opts.Name)
	if err != nil {
		return err
	}
	name := present.Clean(acct.Name)
	question := "Revoke " + name + "'s tokens at the server and mark it revoked? It needs a new login to work again."
	if opts.Remove {
		question = "Revoke " + name + "'s tokens at the server and forget it?"
	}
	if err := confirm(opts.Ctx, opts.IO, opts.Prompter, opts.Yes, question, "revoke "+name, "nothing revoked"); err != nil {
		return err
	}
	rev, err := m.Revoke(opts.Ctx, acct.ID, accounts.RevokeOptions{Remove: opts.Remove, RemoveConsumers: opts.RemoveConsumers})
	held := acct.AccessToken != "" || acct.RefreshToken != ""
	printRevocation(opts.IO.Out, name, rev.Revocation, opts.Remove, held)
	printRevokedConsumers(opts.IO.Out, name, rev)
	return err
}

// printRevokedConsumers says what became of the account's consumers of
// keyfob serve: removed (also when the server part failed: they are this
// machine's to cut off), or kept, and then a new login gives them its
// tokens again.
func printRevokedConsumers(w io.Writer, name string, rev accounts.Revoked) {
	if len(rev.Consumers) == 0 {
		return
	}
	list := listConsumers(rev.Consumers)
	switch {
	case rev.Removed:
		fprintf(w, "Consumers: %s removed with the account; their credentials no longer work.\n", list)
		return
	case rev.ConsumersRemoved:
		fprintf(w, "Consumers: removed %s; their credentials no longer work.\n", list)
		return
	}
	fprintf(w, "Consumers: %s keep their credentials, and a new login of %s gives them its tokens again;\n"+
		"        keyfob revoke %s --remove-consumers (or keyfob serve remove CONSUMER) removes them.\n", list, name, name)
}

// printRevocation reports the server's and the local outcome separately;
// held says whether the account had tokens before.
func printRevocation(w io.Writer, name string, rev accounts.Revocation, remove, held bool) {
	switch rev.Outcome {
	case accounts.RevokedAtServer:
		fprintf(w, "Server: revoked (%s).\n", present.OneLine(strings.Join(rev.Revoked, ", ")))
	case accounts.RevokeUnsupported:
		fprintf(w, "Server: not revoked — %s.\n", cmp.Or(present.OneLine(rev.Detail), "this account has no revocation endpoint"))
	case accounts.RevokeFailed:
		fprintf(w, "Server: revocation failed — %s.\n", cmp.Or(present.OneLine(rev.Detail), "see below"))
	case accounts.RevokeUnconfirmed:
		fprintf(w, "Server: not confirmed — %s.\n", cmp.Or(present.OneLine(rev.Detail),
			"the server answered 200, which this endpoint is known to answer without revoking anything"))
	}
	if rev.ConsentURL != "" {
		fprintf(w, "        To withdraw the app's access for good, open:\n        %s\n", present.Clean(rev.ConsentURL))
	}
	switch {
	case remove && rev.Outcome == accounts.RevokeUnconfirmed:
		fprintf(w, "Local:  %s removed; its tokens may still work until they expire.\n", name)
	case remove && rev.Outcome != "" && rev.Outcome != accounts.RevokeFailed:
		fprintf(w, "Local:  %s removed.\n", name)
	case rev.Outcome == accounts.RevokedAtServer:
		fprintf(w, "Local:  %s marked revoked; its tokens were deleted.\n", name)
	case rev.Outcome == "":
	case !held:
		fprintf(w, "Local:  %s marked revoked; it holds no tokens.\n", name)
	case rev.Outcome == accounts.RevokeUnconfirmed:
		fprintf(w, "Local:  %s marked revoked; its tokens were kept, since they may still work (keyfob remove %s forgets them).\n", name, name)
	case rev.Outcome == accounts.RevokeUnsupported:
		// Nothing here can revoke them: a retry would not either.
		fprintf(w, "Local:  %s marked revoked; its tokens were kept, since they still work (keyfob remove %s forgets them).\n", name, name)
	default:
		fprintf(w, "Local:  %s marked revoked; its tokens are kept so you can retry with keyfob revoke %s.\n", name, name)
	}
}
