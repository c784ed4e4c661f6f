package cli

import (
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// completeNames makes the shell complete cmd's NAME arguments with the
// names of the accounts in the store, up to limit names (0: any number). A
// command that takes NAME gets it with one call.
func completeNames(cmd *cobra.Command, f *Factory, limit int) {
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if limit > 0 && len(args) >= limit {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return accountNames(f, args, toComplete, "")
	}
}

// accountNames are the names of the accounts (of kind, unless it is "")
// that start with toComplete and are not in args, each described by its
// kind, region and email.
func accountNames(f *Factory, args []string, toComplete string, kind accounts.Kind) ([]cobra.Completion, cobra.ShellCompDirective) {
	none := cobra.ShellCompDirectiveNoFileComp
	accts, err := f.Manager().List(context.Background())
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, a := range accts {
		// A name the terminal would show differently cannot be typed
		// back; keyfob never writes one, but the file is the user's.
		if present.Clean(a.Name) != a.Name || slices.Contains(args, a.Name) || (kind != "" && a.Kind != kind) ||
			!strings.HasPrefix(strings.ToLower(a.Name), strings.ToLower(toComplete)) {
			continue
		}
		desc := present.KindRegion(&a)
		if a.Email != "" {
			desc += " · " + present.OneLine(a.Email)
		}
		out = append(out, cobra.CompletionWithDesc(a.Name, desc))
	}
	return out, none
}

// completeConsumers makes the shell complete cmd's CONSUMER argument with
// the names of keyfob serve's consumers.
func completeConsumers(cmd *cobra.Command, f *Factory) {
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		none := cobra.ShellCompDirectiveNoFileComp
		if len(args) > 0 {
			return nil, none
		}
		file, err := f.Manager().Snapshot(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, c := range file.Consumers {
			if present.Clean(c.Name) != c.Name || !strings.HasPrefix(strings.ToLower(c.Name), strings.ToLower(toComplete)) {
				continue
			}
			desc := "a consumer"
			if a := file.Find(c.AccountID); a != nil {
				desc = "gets the tokens of " + present.OneLine(a.Name)
			}
			out = append(out, cobra.CompletionWithDesc(c.Name, desc))
		}
		return out, none
	}
}

// completeCommandAfterName leaves what follows exec's NAME (the --, then
// CMD and its arguments) to the shell's own completion of commands and
// files. Cobra's count of the words before -- cannot be trusted while
// completing, but exec takes nothing else after NAME.
func completeCommandAfterName(cmd *cobra.Command) {
	names := cmd.ValidArgsFunction
	cmd.ValidArgsFunction = func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return names(c, args, toComplete)
	}
}
