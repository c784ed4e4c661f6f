package keyfobtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/adrg/xdg"
)

// Home is a test's own home directory and the XDG directories in it.
type Home struct {
	Dir, ConfigHome, StateHome string
}

// HomeIn is the home directory dir/home, with its XDG directories.
func HomeIn(dir string) Home {
	home := filepath.Join(dir, "home")
	return Home{Dir: home, ConfigHome: filepath.Join(home, ".config"), StateHome: filepath.Join(home, ".state")}
}

// Env is the environment of a keyfob process in home: HOME and the XDG
// directories, PATH, a UTF-8 locale, and nothing else of the user's, so
// that nothing of the user's configuration is read or written. extra are
// more variables (KEY=VALUE).
func (h Home) Env(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + h.Dir, "LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + h.ConfigHome, "XDG_STATE_HOME=" + h.StateHome,
	}, extra...)
}

// UserVars are the variables through which a user configures keyfob
// (README): Isolate unsets them, and Home.Env passes none of them on.
var UserVars = []string{
	"KEYFOB_CONFIG_DIR", "KEYFOB_STORE", "KEYFOB_STORE_KEY_FILE", "KEYFOB_CLIENT_SECRET", "KEYFOB_AUTH_CODE",
	"KEYFOB_ETCD_USERNAME", "KEYFOB_ETCD_PASSWORD", "NO_COLOR",
}

// Isolate gives the test process a home of its own in a new temporary
// directory (HOME, XDG_CONFIG_HOME, XDG_STATE_HOME, seen by xdg at once)
// and unsets the user's keyfob variables (UserVars), so that a file keyfob
// writes outside its directory is the test's to see and the user's
// settings play no part. All is restored when the test ends. Tests that
// call it cannot run in parallel (t.Setenv).
func Isolate(t testing.TB) Home {
	t.Helper()
	return IsolateIn(t, t.TempDir())
}

// IsolateIn is Isolate with the home in dir/home.
func IsolateIn(t testing.TB, dir string) Home {
	t.Helper()
	h := HomeIn(dir)
	t.Cleanup(xdg.Reload) // runs after t.Setenv restores the environment
	t.Setenv("HOME", h.Dir)
	t.Setenv("XDG_CONFIG_HOME", h.ConfigHome)
	t.Setenv("XDG_STATE_HOME", h.StateHome)
	for _, k := range UserVars {
		t.Setenv(k, "") // restored at the end
		os.Unsetenv(k)
	}
	xdg.Reload()
	return h
}

// IsolateState points the XDG state directory (where keyfob keeps a
// second recovery file) at a new temporary directory for the test.
func IsolateState(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(xdg.Reload)
	t.Setenv("XDG_STATE_HOME", dir)
	xdg.Reload()
	return dir
}
