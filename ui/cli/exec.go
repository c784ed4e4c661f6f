package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// EnvTokenFile is the variable tesla-control (and keyfob exec's children)
// read the access token's file from.
const EnvTokenFile = "TESLA_TOKEN_FILE"

// tokenFileName is the name of the token's file in its private directory.
const tokenFileName = "access_token"

// ExecOptions are the options of `keyfob exec`.
type ExecOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager
	// Environ is the environment CMD starts from (os.Environ when nil).
	Environ func() []string
	// Getenv reads $XDG_RUNTIME_DIR (os.Getenv when nil).
	Getenv func(string) string
	// TempDir is where the token's private directory is made: "" means
	// $XDG_RUNTIME_DIR when it exists (a per-user tmpfs on most Linux
	// systems, emptied at logout), else the system's temporary directory.
	TempDir string
	// RetryAfter is the first pause after a failed refresh (10 s when 0).
	RetryAfter time.Duration

	Name     string
	EnvVar   string
	MinValid time.Duration // 0: refresh_margin of config.json
	Command  []string
}

// NewCmdExec returns `keyfob exec`; runF replaces its run in tests.
func NewCmdExec(f *Factory, runF func(*ExecOptions) error) *cobra.Command {
	opts := &ExecOptions{IO: f.IO, Manager: f.Manager, Environ: f.Environ, Getenv: f.getenv}
	cmd := &cobra.Command{
		Use:   "exec NAME [--env VAR] -- CMD [ARGS...]",
		Short: "Run a command with a valid access token in $" + EnvTokenFile + ", kept fresh while it runs",
		Long: "exec runs CMD with the account's access token in a private file (0600, in a fresh 0700\n" +
			"directory) named by $" + EnvTokenFile + " — the variable tesla-control reads — and, with --env VAR,\n" +
			"also in $VAR. The token is never on a command line. While CMD runs, the file is replaced\n" +
			"atomically with a new token before the old one expires (refresh_margin of config.json, at most\n" +
			"half the token's lifetime). The file and its directory are removed when CMD exits, also when\n" +
			"keyfob is stopped by a signal it can catch; those of an exec killed with SIGKILL are removed by\n" +
			"the next exec (each exec holds a lock on its directory, which the kernel drops when it dies).\n\n" +
			"Signals: SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to keyfob are passed on to CMD. ctrl+c and\n" +
			"ctrl+\\ reach CMD from the terminal itself (CMD runs in keyfob's foreground process group), so\n" +
			"keyfob passes SIGINT and SIGQUIT on only when it is not in the terminal's foreground (started by\n" +
			"a service manager, a script or in the background); CMD never gets one twice.\n\n" +
			"Exit code: CMD's own; 128+N when a signal N killed it; 126 when it cannot be run, 127 when it is\n" +
			"not found; keyfob's own codes (1, 2, 3, 4) when no token could be had before starting it.",
		Example: "  keyfob exec car -- tesla-control -vin 5YJ3E7EB0KF000000 honk\n" +
			"  keyfob exec car --env TESLA_ACCESS_TOKEN -- ./my-script.sh",
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 || len(args) < 2 {
				return usagef("exec needs an account name, then -- and the command: keyfob exec NAME -- CMD [ARGS...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Name, opts.Command = cmd.Context(), args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return runExec(opts)
		},
	}
	completeNames(cmd, f, 1)
	completeCommandAfterName(cmd)
	cmd.Flags().StringVar(&opts.EnvVar, "env", "", "also put the access token in this environment variable of CMD")
	cmd.Flags().DurationVar(&opts.MinValid, "min-valid", 0, "replace the token this long before it expires (default: refresh_margin of config.json, 5m)")
	return cmd
}

func runExec(opts *ExecOptions) error {
	if opts.EnvVar != "" && !validEnvName(opts.EnvVar) {
		return usagef("--env %q is not a variable name (letters, digits and _, not starting with a digit)", opts.EnvVar)
	}
	if opts.EnvVar != "" && sameEnvName(opts.EnvVar, EnvTokenFile) {
		// CMD would find the token where it looks for the file's name.
		return usagef("--env %s would put the token itself in the variable that names its file; choose another variable", opts.EnvVar)
	}
	if opts.MinValid < 0 {
		return usagef("--min-valid cannot be negative")
	}
	m := opts.Manager()
	margin, err := marginOr(m, opts.MinValid)
	if err != nil {
		return err
	}
	got, err := m.Token(opts.Ctx, opts.Name, margin)
	if err != nil {
		return err
	}
	warnStale(opts.IO.Err, got, time.Now())
	acct := got.Account
	tf, err := newTokenDir(opts.tempBase())
	if err != nil {
		return err
	}
	defer tf.remove()
	if err := tf.write(acct.AccessToken); err != nil {
		return err
	}
	child := exec.Command(opts.Command[0], opts.Command[1:]...)
	child.Env = childEnv(opts.environ(), tf.path, opts.EnvVar, acct.AccessToken)
	child.Stdin, child.Stdout, child.Stderr = opts.IO.In, opts.IO.Out, opts.IO.Err
	// Caught from before the start, so that no signal in between ends
	// keyfob without its clean-up.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, execSignals...)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		return startError(opts.Command[0], err)
	}
	// The keeper outlives the command's context, which a ctrl+c cancels
	// although CMD may well go on.
	ctx, stop := context.WithCancel(context.WithoutCancel(opts.Ctx))
	k := &tokenKeeper{m: m, file: tf, acct: acct, margin: margin, io: opts.IO, retry: opts.RetryAfter, done: make(chan struct{})}
	go k.run(ctx)
	state := waitForwarding(child, sigs)
	stop()
	<-k.done
	if code := exitCodeOf(state); code != 0 {
		return &ExitStatusError{Code: code}
	}
	return nil
}

func (opts *ExecOptions) environ() []string {
	if opts.Environ != nil {
		return opts.Environ()
	}
	return os.Environ()
}

// waitForwarding waits for child to exit, passing on the signals keyfob
// receives meanwhile (see forwardSignal for which).
func waitForwarding(child *exec.Cmd, sigs <-chan os.Signal) *os.ProcessState {
	exited := make(chan struct{})
	go func() {
		_ = child.Wait() // its error is the exit status, read from ProcessState
		close(exited)
	}()
	for {
		select {
		case <-exited:
			return child.ProcessState
		case sig := <-sigs:
			forwardSignal(child.Process, sig)
		}
	}
}

// startError maps a command that could not be started to the shell's
// exit codes: 127 not found, 126 found but not runnable.
func startError(name string, err error) error {
	name = present.Clean(name)
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return &ExitStatusError{Code: 127, Err: fmt.Errorf("%s: command not found", name)}
	}
	return &ExitStatusError{Code: 126, Err: fmt.Errorf("cannot run %s: %w", name, err)}
}

// childEnv is env without any earlier TESLA_TOKEN_FILE (or VAR), plus the
// token file and, when varName is set, the token itself.
func childEnv(env []string, path, varName, token string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if sameEnvName(k, EnvTokenFile) || (varName != "" && sameEnvName(k, varName)) {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, EnvTokenFile+"="+path)
	if varName != "" {
		out = append(out, varName+"="+token)
	}
	return out
}

func validEnvName(s string) bool {
	for i, r := range s {
		letter := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}
