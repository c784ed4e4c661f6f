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
		return fmt.Errorf("no command in $BROWSER could be started (%v), nor the system's browser (%v); open the URL yourself", envErr, err)
	}
	return fmt.Errorf("cannot open a browser (%v); set $BROWSER or open the URL yourself", err)
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
