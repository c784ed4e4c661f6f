package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/present"
)

// fileFlags name a file: the shell completes file names for them.
var fileFlags = []string{secretFlag, authCodeFlag, "write", "tls-cert", "tls-key", "import"}

// completeFlags gives every flag of cmd and its subcommands that takes a
// value a completion, so that the shell never offers file names where a
// file makes no sense: the values of a closed set (kinds, regions, grants,
// themes, scopes), account names, a directory for --config-dir, file names
// for the flags that name a file, and nothing for the rest (a client id,
// a URL, a duration). A command's arguments complete nothing unless it
// says what (account names, say). A completion a command registered itself
// is kept.
func completeFlags(cmd *cobra.Command, f *Factory) {
	cmd.LocalFlags().VisitAll(func(fl *pflag.Flag) {
		if _, done := cmd.GetFlagCompletionFunc(fl.Name); done || fl.Value.Type() == "bool" {
			return
		}
		if fl.Name == "config-dir" {
			_ = cmd.MarkFlagDirname(fl.Name)
			return
		}
		if slices.Contains(fileFlags, fl.Name) {
			_ = cmd.MarkFlagFilename(fl.Name)
			return
		}
		_ = cmd.RegisterFlagCompletionFunc(fl.Name, flagValues(cmd, fl.Name, f))
	})
	if cmd.ValidArgsFunction == nil && len(cmd.ValidArgs) == 0 {
		// No arguments, or a new name (serve add CONSUMER): nothing to offer.
		cmd.ValidArgsFunction = cobra.NoFileCompletions
	}
	for _, sub := range cmd.Commands() {
		completeFlags(sub, f)
	}
}

// flagValues completes the values of flag name of cmd.
func flagValues(cmd *cobra.Command, name string, f *Factory) cobra.CompletionFunc {
	none := cobra.NoFileCompletions
	switch name {
	case "kind":
		kinds := accounts.Kinds
		if cmd.Name() == "import" {
			kinds = slices.DeleteFunc(slices.Clone(kinds), func(k accounts.Kind) bool {
				return oauth.Requirements(oauth.PurposeImport, k, "") == nil
			})
		}
		cs := make([]cobra.Completion, len(kinds))
		for i, k := range kinds {
			cs[i] = cobra.CompletionWithDesc(string(k), present.KindSummary(k))
		}
		return cobra.FixedCompletions(cs, cobra.ShellCompDirectiveNoFileComp)
	case "region":
		return fixed(oauth.Regions, present.RegionSummary)
	case "grant":
		return fixed([]string{accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials}, present.GrantSummary)
	case "theme":
		return fixed(themes.Names(), nil)
	case "scopes":
		return completeScopes
	case "account":
		kind := accounts.Kind("")
		if cmd.Parent() != nil && cmd.Parent().Name() == "partner" {
			kind = accounts.KindPartner // a partner token registers the app
		}
		return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return accountNames(f, nil, toComplete, kind)
		}
	}
	return none
}

// fixed completes one of values, each described by desc (nil: none).
func fixed(values []string, desc func(string) string) cobra.CompletionFunc {
	cs := make([]cobra.Completion, len(values))
	for i, v := range values {
		cs[i] = v
		if desc != nil {
			cs[i] = cobra.CompletionWithDesc(v, desc(v))
		}
	}
	return cobra.FixedCompletions(cs, cobra.ShellCompDirectiveNoFileComp)
}

// completeScopes completes the last scope of a comma-separated list with
// the scopes keyfob knows that the list does not hold yet; no space
// follows, so that another ",scope" may.
func completeScopes(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	head, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		head, last = toComplete[:i+1], toComplete[i+1:]
	}
	have := strings.Split(head, ",")
	var out []cobra.Completion
	for _, s := range present.KnownScopes() {
		if strings.HasPrefix(s, last) && !slices.Contains(have, s) {
			out = append(out, cobra.CompletionWithDesc(head+s, present.DescribeScope(s).Title))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
