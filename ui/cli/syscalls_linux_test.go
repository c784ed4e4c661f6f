//go:build linux

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// TestStoreWritesAtTheSystemCallLevel runs the real keyfob under strace
// for a refresh (a record written through the write prepared before the
// request), a rename (the name index and a record, in one change of the
// store) and a consumer added (the consumers file), and reads the system
// calls themselves, so that no change of the code can hide from it what
// the hooks of the accounts tests see: every file that replaces one of the
// store's is created with O_CREAT|O_EXCL and mode 0600 (never made
// private afterwards with a chmod), is fsynced before its rename, and its
// directory is fsynced after the rename.
func TestStoreWritesAtTheSystemCallLevel(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is required by this test (apt-get install strace)")
	}
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", -time.Minute))
	store := e.storeDir()
	for _, args := range [][]string{{"refresh", "car"}, {"edit", "car", "--name", "garage"}, {"serve", "add", "tm", "--account", "garage"}} {
		trace := filepath.Join(t.TempDir(), "trace")
		cmd := exec.Command(strace, append([]string{"-f", "-y", "-qq", "-o", trace,
			"-e", "trace=openat,open,creat,fsync,fdatasync,rename,renameat,renameat2,chmod,fchmod,fchmodat",
			keyfobtest.Binary(t)}, args...)...)
		cmd.Env = e.environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("keyfob %q under strace: %v\n%s", args, err, out)
		}
		data, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		renames := checkWrites(t, strings.Join(args, " "), store, string(data))
		if renames == 0 {
			t.Errorf("keyfob %q renamed nothing into the store; the trace:\n%s", args, data)
		}
	}
}

var (
	// a call line of strace -f -y: [pid N] name(args) = result, or the
	// start of one that another thread interrupted.
	callLine = regexp.MustCompile(`^(?:\[pid +\d+\] |\d+ +)?(\w+)\((.*?)(?:\) += (.*)| <unfinished \.\.\.>)$`)
	quoted   = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
	fdPath   = regexp.MustCompile(`^-?\d+<(.*)>$`)
)

// checkWrites checks every rename into store in an strace log and returns
// how many there were.
func checkWrites(t *testing.T, what, store, log string) int {
	t.Helper()
	type created struct {
		at     int
		synced int // the line of the first fsync after creation, 0 if none
	}
	temps := map[string]*created{}
	renames := 0
	lines := strings.Split(log, "\n")
	for i, line := range lines {
		m := callLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		name, args, result := m[1], m[2], m[3]
		paths := quoted.FindAllStringSubmatch(args, -1)
		switch name {
		case "openat", "open", "creat":
			if len(paths) == 0 || !strings.Contains(args, "O_CREAT") {
				continue
			}
			p := paths[0][1]
			if !strings.HasPrefix(p, store) {
				continue
			}
			if !strings.Contains(args, "O_EXCL") || !strings.HasSuffix(strings.TrimSpace(args), "0600") {
				t.Errorf("%s: %s is created without O_EXCL and mode 0600: %s", what, p, line)
			}
			temps[p] = &created{at: i}
		case "fsync", "fdatasync":
			if fm := fdPath.FindStringSubmatch(strings.TrimSpace(args)); fm != nil {
				if c := temps[fm[1]]; c != nil && c.synced == 0 {
					c.synced = i
				}
			}
		case "chmod", "fchmod", "fchmodat":
			if strings.Contains(args, store) {
				t.Errorf("%s: a file of the store changes mode after its creation: %s", what, line)
			}
		case "rename", "renameat", "renameat2":
			if len(paths) < 2 || !strings.HasPrefix(paths[1][1], store) || !strings.HasPrefix(result, "0") {
				continue
			}
			renames++
			from, to := paths[0][1], paths[1][1]
			c := temps[from]
			switch {
			case c == nil:
				t.Errorf("%s: %s is renamed over %s but was not created by this process as a new file", what, from, to)
			case c.synced == 0 || c.synced > i:
				t.Errorf("%s: %s replaces %s without an fsync before the rename", what, from, to)
			}
			dir := filepath.Dir(to)
			synced := false
			for j := i + 1; j < len(lines) && !synced; j++ {
				if fm := callLine.FindStringSubmatch(strings.TrimSpace(lines[j])); fm != nil && (fm[1] == "fsync" || fm[1] == "fdatasync") {
					if d := fdPath.FindStringSubmatch(strings.TrimSpace(fm[2])); d != nil && d[1] == dir {
						synced = true
					}
				}
			}
			if !synced {
				t.Errorf("%s: the rename of %s into %s is not followed by an fsync of the directory", what, filepath.Base(to), dir)
			}
		}
	}
	return renames
}
