package clipboard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/atotto/clipboard"
)

// Native is the system clipboard outside the terminal (X11, Wayland,
// macOS, Windows).
type Native interface {
	ReadAll() (string, error)
	WriteAll(text string) error
}

type system struct{}

func (system) ReadAll() (string, error) { return clipboard.ReadAll() }
func (system) WriteAll(s string) error  { return clipboard.WriteAll(s) }

// System returns the system clipboard, or nil where there is none (on Linux
// without xclip, xsel or wl-clipboard).
func System() Native {
	if clipboard.Unsupported {
		return nil
	}
	return system{}
}

// ClearCommand is the name of the hidden keyfob command that clears the
// clipboard (see Serve).
const ClearCommand = "clipboard-clear"

// request is what a clearer reads on its standard input.
type request struct {
	After  time.Duration `json:"after"`
	SHA256 string        `json:"sha256"`
}

// Clearer starts clearing processes. The zero value runs this executable's
// ClearCommand.
type Clearer struct {
	// Path and Args name the clearing command; empty means the running
	// executable with the argument ClearCommand.
	Path string
	Args []string
}

// Schedule starts a detached clearer that empties the clipboard after
// `after` if it still holds secret. It returns once the process has
// started; the request waits in its standard input, so the caller may
// exit at once.
func (c Clearer) Schedule(secret string, after time.Duration) error {
	path, args := c.Path, c.Args
	if path == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot find keyfob's own executable to start the clipboard clearer: %w", err)
		}
		path, args = self, []string{ClearCommand}
	}
	body, err := json.Marshal(request{After: after, SHA256: digest(secret)})
	if err != nil {
		return err
	}
	// The request goes into a pipe before the child starts, so that it is
	// there even when this process exits right after (keyfob token --copy
	// does): a reader copied in by exec's goroutine would die with it.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("cannot start the clipboard clearer: %w", err)
	}
	defer r.Close()
	_, err = w.Write(append(body, '\n'))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot hand the clipboard clearer its request: %w", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = r
	cmd.Env = ChildEnv()
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start the clipboard clearer: %w", err)
	}
	// Reap the child whenever it ends; keyfob never waits for it.
	go func() { _ = cmd.Wait() }()
	return nil
}

// Serve is the body of the clearing command: it reads the request from r,
// waits for its delay (a cancelled ctx, such as a termination signal,
// cuts the wait short) and then empties cb if it still holds the secret.
// It reports whether it cleared anything.
func Serve(ctx context.Context, r io.Reader, cb Native) (cleared bool, err error) {
	if cb == nil {
		return false, errors.New("there is no system clipboard to clear")
	}
	var req request
	if err := json.NewDecoder(io.LimitReader(r, 4096)).Decode(&req); err != nil {
		return false, fmt.Errorf("the clipboard clearer got no valid request on stdin: %w", err)
	}
	if len(req.SHA256) != 2*sha256.Size {
		return false, errors.New("the clipboard clearer got no digest to compare the clipboard with")
	}
	t := time.NewTimer(max(req.After, 0))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return ClearIfHolds(cb, req.SHA256)
}

// ClearIfHolds empties cb when it holds the secret whose SHA-256 is sum
// (hex), and reports whether it did.
func ClearIfHolds(cb Native, sum string) (bool, error) {
	cur, err := cb.ReadAll()
	if err != nil {
		return false, fmt.Errorf("cannot read the clipboard: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(digest(cur)), []byte(strings.ToLower(sum))) != 1 {
		return false, nil
	}
	if err := cb.WriteAll(""); err != nil {
		return false, fmt.Errorf("cannot clear the clipboard: %w", err)
	}
	return true, nil
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// secretEnv names the environment variables that hold secrets: no child
// process of keyfob inherits them.
var secretEnv = []string{"KEYFOB_CLIENT_SECRET"}

// ChildEnv is this process's environment without the variables that hold
// secrets, for every process keyfob starts (the clearer, a browser).
func ChildEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		secret := false
		for _, s := range secretEnv {
			if strings.EqualFold(name, s) {
				secret = true
			}
		}
		if !secret {
			out = append(out, kv)
		}
	}
	return out
}
