package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui"
	"github.com/keyfob/keyfob/ui/present"
)

// Exit codes, documented in README.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitNoAccount     = 3
	ExitLoginRequired = 4
)

// RootOptions are the options of `keyfob` alone: the TUI.
type RootOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager
	Engine  func() *oauth.Engine

	Theme string
}

// NewCmdRoot returns the keyfob command with every subcommand.
func NewCmdRoot(f *Factory) *cobra.Command {
	opts := &RootOptions{IO: f.IO, Manager: f.Manager, Engine: f.Engine}
	root := &cobra.Command{
		Use:   "keyfob",
		Short: "Keep the OAuth tokens of your Tesla accounts fresh, in one place",
		Long: "keyfob keeps the OAuth tokens of Tesla accounts (Fleet API, Owner API, partner and legacy tokens)\n" +
			"in one place: it logs in, shows every token's live expiry and scopes, refreshes and revokes them,\n" +
			"and hands scripts a valid access token. Run it without arguments for the terminal UI.",
		Example: "  # the terminal UI, and the same on a local sandbox (no Tesla account needed)\n" +
			"  keyfob\n  keyfob demo\n" +
			"  # a valid access token for scripts\n" +
			"  curl -H \"Authorization: Bearer $(keyfob token home)\" …",
		Args: noArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			// An empty --config-dir ("$DIR" unset in a script) would fall
			// back to the user's own store.
			fl := cmd.Flag("config-dir")
			given := fl != nil && fl.Changed
			if given && strings.TrimSpace(f.configDir) == "" {
				return usagef("--config-dir needs a directory; leave it out for $%s or the default", EnvConfigDir)
			}
			if dir, set := f.lookupEnv(EnvConfigDir); set && !given && strings.TrimSpace(dir) == "" {
				return usageError{err: fmt.Errorf("$%s is set but empty; set it to a directory, or unset it (unset %s) for the default",
					EnvConfigDir, EnvConfigDir), advised: true}
			}
			if f.etcd.timeout <= 0 {
				return usagef("--etcd-timeout must be more than zero")
			}
			if f.httpTimeout <= 0 {
				return usagef("--http-timeout must be more than zero: without a bound, a refresh that never gets an answer would hold its account's lock forever")
			}
			if fl := cmd.Flag("store"); fl != nil && fl.Changed && strings.TrimSpace(f.store) == "" {
				return usagef("--store needs a location (a directory or file://DIR); leave it out for $%s or the config directory", EnvStore)
			}
			_, err := f.OpenManager()
			return err
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			return runRoot(opts)
		},
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err: err} })
	root.PersistentFlags().StringVar(&f.configDir, "config-dir", "",
		"keyfob's directory (default $"+EnvConfigDir+", else $XDG_CONFIG_HOME/keyfob)")
	root.PersistentFlags().StringVar(&f.store, "store", "",
		"where the accounts are: a directory, file://DIR or etcd://HOST:PORT[,HOST:PORT...]/PREFIX (default $"+EnvStore+", else keyfob's directory)")
	root.PersistentFlags().StringVar(&f.etcd.keyFile, "store-key-file", "",
		"the key that seals the tokens of an etcd store: a 0600 file of 32 random bytes in base64 (openssl rand -base64 32) (default $"+EnvStoreKeyFile+")")
	root.PersistentFlags().BoolVar(&f.etcd.plaintext, "store-plaintext", false,
		"use an etcd store without a store key: etcd then holds the tokens in plain text")
	root.PersistentFlags().StringVar(&f.etcd.ca, "etcd-ca", "", "verify the etcd members with this PEM CA (speaks TLS to etcd)")
	root.PersistentFlags().StringVar(&f.etcd.cert, "etcd-cert", "", "the PEM client certificate keyfob shows etcd (with --etcd-key)")
	root.PersistentFlags().StringVar(&f.etcd.key, "etcd-key", "", "the PEM private key of --etcd-cert")
	root.PersistentFlags().DurationVar(&f.etcd.timeout, "etcd-timeout", accounts.DefaultEtcdTimeout,
		"give up on an etcd request that has not been answered within this (the cluster has no quorum)")
	root.PersistentFlags().DurationVar(&f.httpTimeout, "http-timeout", DefaultHTTPTimeout,
		"give up on a server that has not answered within this")
	root.Flags().StringVar(&opts.Theme, "theme", "", themeUsage())

	root.AddCommand(
		NewCmdDemo(f, nil), NewCmdList(f, nil), NewCmdLogin(f, nil), NewCmdImport(f, nil),
		NewCmdToken(f, nil), NewCmdRefresh(f, nil), NewCmdRevoke(f, nil), NewCmdRemove(f, nil),
		NewCmdExec(f, nil), NewCmdServe(f, nil),
		NewCmdVersion(f, nil), NewCmdSandbox(f, nil), NewCmdClipboardClear(f, nil),
		NewCmdCheck(f, nil), NewCmdEdit(f, nil), NewCmdPartner(f, nil), NewCmdStore(f),
	)
	completeFlags(root, f)
	unwrapHelp(root)
	return root
}

func themeUsage() string {
	return "theme of the terminal UI: " + strings.Join(themes.Names(), ", ")
}

// checkTheme refuses an unknown --theme as the usage error it is.
func checkTheme(name string) error {
	if _, err := themes.Get(name); err != nil {
		return usageError{err: err, advised: true}
	}
	return nil
}

func runRoot(opts *RootOptions) error {
	if err := checkTheme(opts.Theme); err != nil {
		return err
	}
	m := opts.Manager()
	cfg, err := m.Config()
	if err != nil {
		return err
	}
	// A corrupt store is reported here, in plain text, rather than on a
	// screen that then has nothing to show.
	if _, err := m.Snapshot(opts.Ctx); err != nil {
		return err
	}
	return ui.Run(opts.Ctx, ui.Options{
		Manager: m, Engine: opts.Engine(), Config: cfg, Theme: opts.Theme,
		Input: opts.IO.In, Output: opts.IO.TUIOutput(),
	})
}

// usageError marks a mistake in how keyfob was called. advised errors
// already say what to do: PrintError adds no advice of its own.
type usageError struct {
	err     error
	advised bool
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{err: fmt.Errorf(format, args...)} }

// ExitStatusError makes keyfob exit with Code: the exit code of the
// command keyfob exec ran, or the shell's 126/127 when it could not be
// started. Only Err, when set, is printed: CMD speaks for itself.
type ExitStatusError struct {
	Code int
	Err  error
}

func (e *ExitStatusError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

func (e *ExitStatusError) Unwrap() error { return e.Err }

// ExitCode maps an error to the exit code scripts branch on.
func ExitCode(err error) int {
	var es *ExitStatusError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &es):
		return es.Code
	case isUsage(err):
		return ExitUsage
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, accounts.ErrAmbiguous),
		errors.Is(err, accounts.ErrConsumerNotFound):
		return ExitNoAccount
	case errors.Is(err, accounts.ErrLoginRequired):
		return ExitLoginRequired
	}
	return ExitError
}

func isUsage(err error) bool {
	var u usageError
	var fe *oauth.FieldError
	if errors.As(err, &u) || errors.As(err, &fe) {
		return true
	}
	// Cobra's own argument and command errors carry no type.
	s := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag",
		"flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// PrintError is keyfob's fang error handler: err as one line on stderr,
// cleaned for the terminal, with what to do about it, and the --help hint
// only for usage errors (fang's own handler guesses from the text).
func PrintError(w io.Writer, _ fang.Styles, err error) {
	if es := (*ExitStatusError)(nil); errors.As(err, &es) && es.Err == nil {
		return
	}
	if errors.Is(err, context.Canceled) {
		err = errors.New("cancelled")
	}
	msg := err.Error()
	if a := advice(err); a != "" {
		msg += "; " + a
	}
	fprintln(w, "keyfob: "+present.OneLine(msg))
	if isUsage(err) {
		fprintln(w, "Try 'keyfob --help' for usage.")
	}
}

// advice says, in the command line's terms, what to do about the errors
// whose packages leave the remedy to the face.
func advice(err error) string {
	var re *accounts.ResolveError
	var ce *accounts.CannotRefreshError
	var ne *accounts.NameError
	var ue usageError
	var de *defaultAccountError
	switch {
	case errors.As(err, &ue) && ue.advised:
		return ""
	case errors.As(err, &de):
		return "name an account, or set default_account to one that keyfob list shows"
	case errors.Is(err, oauth.ErrInsecureHTTP):
		return "give the account its https address with keyfob edit, or log in again with --insecure-http to accept that risk"
	case isRegionHosts(err):
		return regionAdvice("")
	case errors.As(err, &ne):
		return "choose another with --name"
	case errors.As(err, &re) && re.Ref == "" && re.Total == 0:
		return "add one with keyfob login or keyfob import"
	case errors.As(err, &re) && re.Ref == "":
		return "name one (keyfob list shows them) or set default_account in config.json"
	case errors.As(err, &re) && len(re.Matches) > 1:
		return "use more of the name, or the id from keyfob list"
	case errors.As(err, &re):
		return "keyfob list shows the accounts"
	case errors.Is(err, accounts.ErrConsumerNotFound):
		return "keyfob serve list shows the consumers"
	case errors.As(err, &ce) && ce.State != accounts.StateRevoked && ce.State != accounts.StateLoginRequired:
		return "log in again with keyfob login, or import a refresh token with keyfob import"
	case errors.As(err, &ce):
		return "log in again with keyfob login"
	}
	return ""
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

func maxNames(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("accepts at most %d account name, got %d: %s", n, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

func exactlyOneName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s needs exactly one account name", cmd.Name())
	}
	return nil
}
