package accounts_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/adrg/xdg"

	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// stateEnv marks the scratch $XDG_STATE_HOME of a run, so that the helper
// processes the tests start (this binary again) keep their parent's.
const stateEnv = "KEYFOB_TEST_STATE_HOME"

// TestMain gives the whole run one scratch $XDG_STATE_HOME, the second
// recovery location: each store has a directory of its own there, named
// after the store's path, so the tests keep out of the user's and out of
// each other's, and can run in parallel. Most parallel tests wait (for
// etcd, for locks, for the processes of TestEtcdTokenProcesses) rather
// than compute: eight of them run at once.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv(stateEnv) == "" {
		dir, err := os.MkdirTemp("", "keyfob-state-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		os.Setenv(stateEnv, dir)
		os.Setenv("XDG_STATE_HOME", dir)
		xdg.Reload()
	}
	keyfobtest.Parallel(8)
	return keyfobtest.Run(m)
}
