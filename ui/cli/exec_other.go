//go:build !unix

package cli

import (
	"os"
	"strings"
)

// execSignals are the signals keyfob exec catches while CMD runs: on
// Windows only the console's ctrl+c and ctrl+break, which the console
// delivers to every process attached to it, CMD included. keyfob catches
// them only so as to stay alive until CMD exits and clean up after it.
var execSignals = []os.Signal{os.Interrupt}

// forwardSignal does nothing: the console has already delivered the event
// to CMD, and Windows has no other signal to pass on.
func forwardSignal(*os.Process, os.Signal) {}

// exitCodeOf is CMD's exit code.
func exitCodeOf(ps *os.ProcessState) int { return ps.ExitCode() }

// sameEnvName compares variable names as Windows does: ignoring case.
func sameEnvName(a, b string) bool { return strings.EqualFold(a, b) }

// execLockOpenFlag opens the lock file of another exec's token directory
// to test its lock.
const execLockOpenFlag = os.O_RDONLY

// ownedByUser reports whether fi is the current user's: on Windows the
// directory's access list keeps others out, so any one found is.
func ownedByUser(os.FileInfo) bool { return true }
