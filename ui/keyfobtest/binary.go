package keyfobtest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// built is the keyfob binary, built once per test binary.
var built struct {
	once      sync.Once
	started   atomic.Bool // by Prebuild
	dir, path string
	err       error
}

// Binary is the path of the keyfob binary: $KEYFOB_BINARY when set, else
// keyfob built from this repository once per test binary (Run removes it).
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("KEYFOB_BINARY"); bin != "" {
		return bin
	}
	built.once.Do(build)
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// Prebuild starts building the binary in the background, for a test that
// has other work to do before it needs it: Binary waits for that build.
func Prebuild() {
	if os.Getenv("KEYFOB_BINARY") == "" {
		built.started.Store(true)
		go built.once.Do(build)
	}
}

func build() {
	built.dir, built.err = os.MkdirTemp("", "keyfob-bin-")
	if built.err != nil {
		return
	}
	_, file, _, _ := runtime.Caller(0)
	built.path = filepath.Join(built.dir, "keyfob")
	cmd := exec.Command("go", "build", "-o", built.path, ".")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		built.err = fmt.Errorf("building keyfob: %v\n%s", err, out)
	}
}

// Run runs the tests of m and removes the binary Binary built; a TestMain
// of a package that uses Binary returns its code: os.Exit(keyfobtest.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if built.started.Load() {
		built.once.Do(build) // waits for a build Prebuild started
	}
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	return code
}

// Need fails the test when the program tool is not installed and
// $KEYFOB_REQUIRE_<TOOL> is set (as CI sets it), and skips it otherwise;
// with -short it skips a test that runs real programs as well.
func Need(t testing.TB, tool string) {
	t.Helper()
	require := "KEYFOB_REQUIRE_" + strings.ToUpper(tool)
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv(require) != "" {
			t.Fatalf("%s is not installed, and %s says this test must run", tool, require)
		}
		t.Skipf("%s is not installed (set %s=1 to make this a failure)", tool, require)
	}
	if testing.Short() {
		t.Skip("runs real programs")
	}
}

// Parallel lets n parallel tests run at once unless -test.parallel is
// given (its default is the number of cores): for a package whose
// parallel tests mostly wait (for tokens to expire, for etcd, for other
// processes) rather than compute. A TestMain calls it before m.Run.
func Parallel(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(n))
	}
}
