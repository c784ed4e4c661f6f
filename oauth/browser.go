package oauth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/cli/browser"
)

// quietBrowser keeps what the system's opener prints off keyfob's own
// stdout and stderr, which belong to the terminal UI or to a script.
var quietBrowser sync.Once

// OpenBrowser opens url in the user's browser: $BROWSER first (a list of
// commands separated by the path-list separator; "%s" in a command is
// replaced by the url, else the url is appended as the last argument; the
// first command that starts wins), then, when $BROWSER is unset or none of
// its commands starts, the system's opener through github.com/cli/browser.
func OpenBrowser(url string) error {
	var envErr error
	if env := os.Getenv("BROWSER"); strings.TrimSpace(env) != "" {
		var errs []error
		for _, entry := range strings.Split(env, string(os.PathListSeparator)) {
			args := browserCommand(entry, url)
			if len(args) == 0 {
				continue
			}
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
			if err := cmd.Start(); err != nil {
				errs = append(errs, err)
				continue
			}
			// Reap it whenever it ends; keyfob does not wait for a browser.
			go func() { _ = cmd.Wait() }()
			return nil
		}
		envErr = errors.Join(errs...)
	}
	quietBrowser.Do(func() { browser.Stdout, browser.Stderr = io.Discard, io.Discard })
	err := browser.OpenURL(url)
	switch {
	case err == nil:
		return nil
	case envErr != nil:
		return fmt.Errorf("no browser could be opened: no command in $BROWSER could be started (%v), nor the system's opener (%s)", envErr, openerProblem(err))
	}
	return fmt.Errorf("no browser could be opened: %s, and $BROWSER is not set", openerProblem(err))
}

// openerProblem says why the system's opener did not start: which
// commands are missing, rather than Go's "exec: "a,b,c": executable file
// not found in $PATH".
func openerProblem(err error) string {
	var ee *exec.Error
	if errors.As(err, &ee) && errors.Is(ee.Err, exec.ErrNotFound) {
		names := strings.Split(ee.Name, ",")
		if len(names) == 1 {
			return names[0] + " is not installed"
		}
		return "none of " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + " is installed"
	}
	return err.Error()
}

// browserCommand splits one $BROWSER entry into arguments and places the
// url: in place of every "%s" (with "%%" meaning "%"), else at the end.
func browserCommand(entry, url string) []string {
	fields := strings.Fields(entry)
	if len(fields) == 0 {
		return nil
	}
	replaced := false
	out := make([]string, len(fields))
	for i, f := range fields {
		f = strings.ReplaceAll(f, "%%", "\x00")
		if strings.Contains(f, "%s") {
			replaced = true
		}
		f = strings.ReplaceAll(f, "%s", url)
		out[i] = strings.ReplaceAll(f, "\x00", "%")
	}
	if !replaced {
		out = append(out, url)
	}
	return out
}
