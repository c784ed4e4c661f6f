package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// printRegionChange tells of a region change of account name: a correction
// keyfob made, or one it refused.
func printRegionChange(w io.Writer, name string, c oauth.RegionChange) {
	if !c.Changed() {
		return
	}
	if c.Refused != nil {
		fprintln(w, "keyfob: warning: "+name+": "+present.OneLine(c.String())+"; "+regionAdvice(name))
		return
	}
	fprintln(w, "keyfob: note: "+name+": "+present.OneLine(c.String())+".")
}

// regionAdvice is what to do about a region keyfob refused to follow for
// account name ("" before the account is saved).
func regionAdvice(name string) string {
	if name == "" {
		return "if the account really is in the token's region, log in with --region set to it"
	}
	return "if the account really is in the token's region, keyfob edit " + name + " --region moves it to that region's hosts"
}

// isRegionHosts reports the refusal to move an account between Tesla's
// .com and .cn hosts.
func isRegionHosts(err error) bool { return errors.Is(err, oauth.ErrRegionHosts) }

// printNameNotUsed says that a login or import of an account already
// stored kept the account's name instead of the one asked for, and how to
// rename it.
func printNameNotUsed(w io.Writer, saved oauth.Saved) {
	if saved.NameNotUsed == "" {
		return
	}
	name, asked := present.Clean(saved.Account.Name), present.Clean(saved.NameNotUsed)
	fprintf(w, "keyfob: note: the account already exists as %s, so --name %s was not used; rename it with keyfob edit %s --name %s\n",
		name, asked, name, asked)
}

// listConsumers lists consumers' names for a message.
func listConsumers(cs []accounts.Consumer) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = present.Clean(c.Name)
	}
	return strings.Join(names, ", ")
}

// plural is n and the noun for it.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
