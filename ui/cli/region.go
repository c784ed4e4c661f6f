package cli

import (
	"errors"
	"io"
	"sync"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// regionNotes is the engine's OnRegion for the command line: a refresh
// whose token names another region than the account's says so on w, a
// correction as a note, a refused one as a warning with what to do. An
// import's refresh (its account has no id yet) stays quiet: the import
// reports the change itself (printRegionChange). Refreshes run in
// parallel, so the lines are written one at a time.
func regionNotes(w io.Writer) func(accounts.Account, oauth.RegionChange) {
	var mu sync.Mutex
	return func(a accounts.Account, c oauth.RegionChange) {
		if a.ID == "" || !c.Changed() {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		printRegionChange(w, present.Clean(a.Name), c)
	}
}

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
