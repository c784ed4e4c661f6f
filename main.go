// Command keyfob manages the OAuth tokens of Tesla accounts: a terminal UI
// that lists every account with its live expiry countdown and scopes, and a
// command line that hands scripts a valid access token.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"charm.land/fang/v2"
	"github.com/atotto/clipboard"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/oauthtest"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui"
	"github.com/keyfob/keyfob/ui/demo"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	s := &streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	err := fang.Execute(context.Background(), newRoot(s),
		fang.WithVersion(buildVersion()),
		fang.WithNotifySignal(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP),
		fang.WithErrorHandler(printError),
		fang.WithoutManpage(),
	)
	os.Exit(exitCode(err))
}

// Exit codes, documented in README.
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2
	exitNoAccount     = 3
	exitLoginRequired = 4
)

// usageError marks a mistake in how keyfob was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode maps an error to the exit code scripts branch on.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case isUsage(err):
		return exitUsage
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, accounts.ErrAmbiguous):
		return exitNoAccount
	case errors.Is(err, accounts.ErrLoginRequired):
		return exitLoginRequired
	}
	return exitError
}

func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
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

// printError writes err as one line on stderr, with the --help hint only
// for usage errors (fang's handler adds it by guessing from the text).
func printError(w io.Writer, _ fang.Styles, err error) {
	if errors.Is(err, context.Canceled) {
		err = errors.New("cancelled")
	}
	msg := err.Error()
	if a := advice(err); a != "" {
		msg += "; " + a
	}
	fmt.Fprintln(w, "keyfob: "+msg)
	if isUsage(err) {
		fmt.Fprintln(w, "Try 'keyfob --help' for usage.")
	}
}

// advice says, in the command line's terms, what to do about the errors
// whose packages leave the remedy to the face.
func advice(err error) string {
	var re *accounts.ResolveError
	var ce *accounts.CannotRefreshError
	switch {
	case errors.As(err, &re) && re.Ref == "" && re.Total == 0:
		return "add one with keyfob login or keyfob import"
	case errors.As(err, &re) && re.Ref == "":
		return "name one (keyfob list shows them) or set default_account in config.json"
	case errors.As(err, &re) && len(re.Matches) > 1:
		return "use more of the name, or the id from keyfob list"
	case errors.As(err, &re):
		return "keyfob list shows the accounts"
	case errors.As(err, &ce) && ce.State != accounts.StateRevoked && ce.State != accounts.StateLoginRequired:
		return "log in again with keyfob login, or import a refresh token with keyfob import"
	case errors.As(err, &ce):
		return "log in again with keyfob login"
	}
	return ""
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// streams are the command's standard streams.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(f.Fd())
}

// app is what every subcommand shares: the streams and, built lazily so
// that `keyfob token` does no work it does not need, the store and engine.
type app struct {
	io          *streams
	dir         string        // --config-dir
	httpTimeout time.Duration // --http-timeout
	engine      *oauth.Engine
	stdin       *bufio.Reader
	pendingLine chan stdinLine // see nextLine
}

func (a *app) store() *accounts.Store {
	dir := a.dir
	if dir == "" {
		dir = os.Getenv("KEYFOB_CONFIG_DIR")
	}
	if dir == "" {
		dir = accounts.DefaultDir()
	}
	s := accounts.Open(dir)
	s.Notice = func(msg string) { fmt.Fprintln(a.io.Err, "keyfob: note: "+msg) }
	return s
}

// oauth returns the engine, built on first use with --http-timeout.
func (a *app) oauth() *oauth.Engine {
	if a.engine == nil {
		// Go's default transport, so HTTP/2 stays negotiable.
		a.engine = &oauth.Engine{HTTPClient: &http.Client{Timeout: a.httpTimeout}}
	}
	return a.engine
}

func (a *app) manager() *accounts.Manager {
	return accounts.NewManager(a.store(), a.oauth())
}

func newRoot(s *streams) *cobra.Command {
	a := &app{io: s}
	var theme string
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := a.manager()
			cfg, err := m.Store.LoadConfig()
			if err != nil {
				return err
			}
			// A corrupt store is reported here, in plain text, rather than
			// on a screen that then has nothing to show.
			if _, err := m.Store.Load(); err != nil {
				return err
			}
			return ui.Run(cmd.Context(), ui.Options{
				Manager: m, Engine: a.oauth(), Config: cfg, Theme: theme,
				Input: s.In, Output: tuiOutput(s),
			})
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&a.dir, "config-dir", "",
		"keyfob's directory (default $KEYFOB_CONFIG_DIR, else $XDG_CONFIG_HOME/keyfob)")
	root.PersistentFlags().DurationVar(&a.httpTimeout, "http-timeout", 30*time.Second,
		"give up on a server that has not answered within this")
	root.Flags().StringVar(&theme, "theme", "", "theme of the terminal UI: "+strings.Join(themes.Names(), ", "))

	root.AddCommand(
		newDemoCmd(a), newListCmd(a), newLoginCmd(a), newImportCmd(a), newTokenCmd(a),
		newRefreshCmd(a), newRevokeCmd(a), newRemoveCmd(a), newVersionCmd(a), newSandboxCmd(a),
		newClipboardClearCmd(),
	)
	return root
}

// tuiOutput keeps stdout free for results: when it is not a terminal the
// TUI draws on stderr.
func tuiOutput(s *streams) io.Writer {
	if isTerminal(s.Out) {
		return s.Out
	}
	return s.Err
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("accepts at most %d account name, got %d: %s", n, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// ---- demo ----

func newDemoCmd(a *app) *cobra.Command {
	var theme string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try keyfob on a local sandbox server with sample accounts (no Tesla account needed)",
		Long: "demo starts a sandbox authorization server on 127.0.0.1 that behaves like Tesla's, fills a\n" +
			"temporary keyfob directory with sample accounts in every state, and opens the UI on it.\n" +
			"Every flow works; your real accounts are never touched, and everything is deleted on exit.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := demo.Start(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			return ui.Run(cmd.Context(), d.Options(ui.Options{Theme: theme, Input: a.io.In, Output: tuiOutput(a.io)}))
		},
	}
	cmd.Flags().StringVar(&theme, "theme", "", "theme of the terminal UI: "+strings.Join(themes.Names(), ", "))
	return cmd
}

// ---- list ----

// listEntry is one account in `keyfob list --json`. The field names are a
// documented, stable schema (README); add fields, never rename them.
type listEntry struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Email             string     `json:"email"`
	Kind              string     `json:"kind"`
	Region            string     `json:"region"`
	Scopes            []string   `json:"scopes"`
	AccessExpiresAt   *time.Time `json:"access_expires_at"`
	RefreshObtainedAt *time.Time `json:"refresh_obtained_at"`
	RefreshExpiresAt  *time.Time `json:"refresh_expires_at"`
	Status            string     `json:"status"`
	LastRefreshError  string     `json:"last_refresh_error"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func newListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List accounts with their token expiry, scopes and status",
		Example: "  keyfob list\n  keyfob list --json | jq -r '.[] | select(.status != \"valid\") | .name'",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(a, asJSON, time.Now())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array (schema in README)")
	return cmd
}

func runList(a *app, asJSON bool, now time.Time) error {
	accts, err := a.manager().List()
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]listEntry, 0, len(accts))
		for _, ac := range accts {
			scopes := ac.Scopes()
			if scopes == nil {
				scopes = []string{}
			}
			out = append(out, listEntry{
				ID: ac.ID, Name: ac.Name, Email: ac.Email, Kind: string(ac.Kind), Region: ac.Region,
				Scopes: scopes, AccessExpiresAt: timePtr(ac.Expiry), RefreshObtainedAt: timePtr(ac.RefreshObtainedAt),
				RefreshExpiresAt: timePtr(ac.RefreshExpiresAt()), Status: string(ac.Health(now)),
				LastRefreshError: ac.RefreshFailed(),
			})
		}
		enc := json.NewEncoder(a.io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(accts) == 0 {
		fmt.Fprintln(a.io.Err, "No accounts yet. Add one with `keyfob login` or `keyfob import`, or try `keyfob demo`.")
		return nil
	}
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tEMAIL\tKIND\tEXPIRES\tSCOPES\tSTATUS\tID")
	for _, ac := range accts {
		kind := string(ac.Kind)
		if ac.Region != "" {
			kind += "/" + ac.Region
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ac.Name, orDash(ac.Email), kind, expiresIn(ac, now),
			orDash(shortScopes(ac.Scopes())), statusText(ac, now), ac.ID)
	}
	return tw.Flush()
}

// shortScopes lists the first scopes that matter and counts the rest;
// openid and offline_access go last since nearly every token has them.
func shortScopes(scopes []string) string {
	const shown = 3
	var main, common []string
	for _, sc := range scopes {
		if sc == "openid" || sc == "offline_access" {
			common = append(common, sc)
		} else {
			main = append(main, sc)
		}
	}
	all := append(main, common...)
	if len(all) <= shown {
		return strings.Join(all, ",")
	}
	return fmt.Sprintf("%s +%d", strings.Join(all[:shown], ","), len(all)-shown)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func statusText(ac accounts.Account, now time.Time) string {
	h := ac.Health(now)
	switch {
	case h == accounts.HealthError && ac.StateDetail != "":
		return "error: " + ac.StateDetail
	case ac.RefreshFailed() != "" && (h == accounts.HealthValid || h == accounts.HealthExpiring):
		return string(h) + " (last refresh failed)"
	}
	return strings.ReplaceAll(string(h), "_", " ")
}

func expiresIn(ac accounts.Account, now time.Time) string {
	switch {
	case ac.AccessToken == "":
		return "-"
	case ac.Expiry.IsZero():
		return "unknown"
	}
	d := ac.Expiry.Sub(now)
	if d <= 0 {
		return "expired " + roughDuration(-d) + " ago"
	}
	return "in " + roughDuration(d)
}

// roughDuration prints d to the minute ("7h 41m", "3d 2h", "45s").
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// ---- login and import ----

// accountFlags are the flags login and import share.
type accountFlags struct {
	name, kind, region, clientID, scopes, audience, redirectURI string
	authURL, tokenURL, revokeURL, userinfoURL, baseURL, issuer  string
	email, grant, clientSecretFile                              string
}

func (f *accountFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "name for the account (default: from its email)")
	fl.StringVar(&f.kind, "kind", "fleet", "account kind: fleet, owner, partner, legacy or custom")
	fl.StringVar(&f.region, "region", "na", "Tesla region: na, eu or cn")
	fl.StringVar(&f.clientID, "client-id", "", "OAuth client id (owner and legacy have defaults)")
	fl.StringVar(&f.scopes, "scopes", "", "scopes to request, space or comma separated (default: the kind's)")
	fl.StringVar(&f.audience, "audience", "", "audience (default: the region's Fleet API URL)")
	fl.StringVar(&f.redirectURI, "redirect-uri", "", "registered redirect URI (default: a loopback one)")
	fl.StringVar(&f.issuer, "issuer", "", "read every endpoint from ISSUER/.well-known/openid-configuration")
	fl.StringVar(&f.authURL, "auth-url", "", "authorization endpoint")
	fl.StringVar(&f.tokenURL, "token-url", "", "token endpoint")
	fl.StringVar(&f.revokeURL, "revoke-url", "", "revocation endpoint (RFC 7009)")
	fl.StringVar(&f.userinfoURL, "userinfo-url", "", "userinfo endpoint (used to learn the email)")
	fl.StringVar(&f.baseURL, "base-url", "", "legacy owner-api base URL")
	fl.StringVar(&f.email, "email", "", "email (legacy password login; login hint for owner)")
	fl.StringVar(&f.grant, "grant", accounts.GrantCode, "custom kind: code, password or client_credentials")
	fl.StringVar(&f.clientSecretFile, "client-secret-file", "",
		"read the client secret from this file (- for stdin); else $KEYFOB_CLIENT_SECRET")
}

// account builds the account to log in from the kind's preset, the
// issuer's discovery document and the flags, in that order of precedence.
// Preset and Validate check the kind, region and grant.
func (f *accountFlags) account(ctx context.Context, a *app, purpose oauth.Purpose) (accounts.Account, error) {
	acct, err := oauth.Preset(accounts.Kind(strings.ToLower(f.kind)), f.region)
	if err != nil {
		return acct, usageError{err}
	}
	if acct.Kind == accounts.KindCustom {
		acct.Grant = f.grant
	}
	if f.issuer != "" {
		ep, err := a.oauth().Discover(ctx, f.issuer)
		if err != nil {
			return acct, err
		}
		ep.RedirectURI = acct.Endpoints.RedirectURI
		// A legacy server's /oauth/token hangs off the issuer's host.
		ep.BaseURL = strings.TrimSuffix(strings.TrimRight(f.issuer, "/"), "/oauth2/v3")
		acct.Endpoints = ep
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&acct.Name, f.name)
	set(&acct.ClientID, f.clientID)
	set(&acct.Audience, f.audience)
	set(&acct.Email, f.email)
	set(&acct.Endpoints.RedirectURI, f.redirectURI)
	set(&acct.Endpoints.AuthURL, f.authURL)
	set(&acct.Endpoints.TokenURL, f.tokenURL)
	set(&acct.Endpoints.RevokeURL, f.revokeURL)
	set(&acct.Endpoints.UserInfoURL, f.userinfoURL)
	set(&acct.Endpoints.BaseURL, f.baseURL)
	if f.scopes != "" {
		acct.RequestedScopes = accounts.ParseScopes(f.scopes)
	}
	secret, err := a.clientSecret(f.clientSecretFile)
	if err != nil {
		return acct, err
	}
	set(&acct.ClientSecret, secret)
	if err := oauth.Validate(purpose, acct); err != nil {
		return acct, usageError{withFlagAdvice(err)}
	}
	return acct, nil
}

// withFlagAdvice adds to a field's problem the flag that fixes it.
func withFlagAdvice(err error) error {
	var fe *oauth.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	fix := map[oauth.Field]string{
		oauth.FieldKind:         "use one of fleet, owner, partner, legacy, custom",
		oauth.FieldClientID:     "pass --client-id (your app's id from the provider's developer site)",
		oauth.FieldClientSecret: "set KEYFOB_CLIENT_SECRET or pass --client-secret-file",
		oauth.FieldAudience:     "pass --audience or --region",
		oauth.FieldAuthURL:      "pass --auth-url (or --issuer)",
		oauth.FieldTokenURL:     "pass --token-url (or --issuer)",
		oauth.FieldRevokeURL:    "fix --revoke-url",
		oauth.FieldUserInfoURL:  "fix --userinfo-url",
		oauth.FieldBaseURL:      "pass --base-url",
		oauth.FieldRedirectURI:  "fix --redirect-uri",
		oauth.FieldGrant:        "pass --grant code, password or client_credentials",
	}[fe.Field]
	if fix == "" {
		return err
	}
	return fmt.Errorf("%w; %s", err, fix)
}

// clientSecret reads the client secret from a file, stdin or the
// environment — never from argv.
func (a *app) clientSecret(file string) (string, error) {
	switch file {
	case "":
		return strings.TrimSpace(os.Getenv("KEYFOB_CLIENT_SECRET")), nil
	case "-":
		b, err := io.ReadAll(a.io.In)
		if err != nil {
			return "", fmt.Errorf("cannot read the client secret from stdin: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read the client secret file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// readSecret reads a password or token: all of stdin when it is piped, else
// a prompt on stderr without echo.
func (a *app) readSecret(prompt string) (string, error) {
	if f, ok := a.io.In.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(a.io.Err, prompt)
		b, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(a.io.Err)
		if err != nil {
			return "", fmt.Errorf("cannot read from the terminal: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	b, err := io.ReadAll(io.LimitReader(a.io.In, 1<<20))
	if err != nil {
		return "", fmt.Errorf("cannot read stdin: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// readLine reads one line of stdin (with a prompt on stderr).
func (a *app) readLine(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(a.io.Err, prompt)
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case l := <-a.nextLine():
		a.pendingLine = nil
		if l.err == io.EOF {
			return "", errors.New("stdin closed before anything was pasted")
		}
		return l.text, l.err
	}
}

// stdinLine is one line read from stdin, trimmed.
type stdinLine struct {
	text string
	err  error
}

// nextLine starts reading the next line of stdin, unless a read is under
// way already, and returns where it arrives. The receiver clears
// pendingLine. One line is read at a time, so that a password prompt that
// reads the terminal itself gets its own input.
func (a *app) nextLine() <-chan stdinLine {
	if a.pendingLine == nil {
		if a.stdin == nil {
			a.stdin = bufio.NewReader(a.io.In)
		}
		ch := make(chan stdinLine, 1)
		a.pendingLine = ch
		go func() {
			s, err := a.stdin.ReadString('\n')
			if err == io.EOF && s != "" {
				err = nil
			}
			ch <- stdinLine{strings.TrimSpace(s), err}
		}()
	}
	return a.pendingLine
}

func newLoginCmd(a *app) *cobra.Command {
	var f accountFlags
	var noBrowser bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Add an account by logging in (browser, password or client-credentials flow)",
		Long: "login adds an account. Fleet accounts sign in in the browser and come back to a listener on\n" +
			"127.0.0.1; Owner accounts sign in in the browser and you paste the URL of the page you land on;\n" +
			"partner accounts use the client-credentials grant; legacy accounts the password grant.\n" +
			"Secrets never come from flags: the client secret comes from $KEYFOB_CLIENT_SECRET or\n" +
			"--client-secret-file, a password from stdin or a prompt.",
		Example: "  keyfob login --kind fleet --client-id YOUR_APP_ID --redirect-uri http://localhost:8080/callback\n" +
			"  keyfob login --kind owner --email you@example.com\n" +
			"  KEYFOB_CLIENT_SECRET=… keyfob login --kind partner --client-id YOUR_APP_ID --region eu\n" +
			"  keyfob login --kind custom --issuer http://127.0.0.1:8765 --client-id sandbox-fleet-app",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd.Context(), a, &f, noBrowser, timeout)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the browser sign-in")
	return cmd
}

func runLogin(ctx context.Context, a *app, f *accountFlags, noBrowser bool, timeout time.Duration) error {
	m := a.manager()
	acct, err := f.account(ctx, a, oauth.PurposeLogin)
	if err != nil {
		return err
	}
	// Fail before the sign-in, not after it.
	if err := m.CheckName(acct); err != nil {
		return err
	}
	var got accounts.Account
	switch {
	case acct.UsesClientCredentials():
		got, err = a.oauth().Login(ctx, acct, oauth.Credentials{})
	case acct.Kind == accounts.KindLegacy || acct.Grant == accounts.GrantPassword:
		got, err = a.passwordLogin(ctx, acct)
	default:
		got, err = a.browserLogin(ctx, acct, noBrowser, timeout)
	}
	if err != nil {
		return err
	}
	saved, replaced, err := m.Add(ctx, got)
	if err != nil {
		return err
	}
	verb := "Added"
	if replaced {
		verb = "Logged in again to"
	}
	fmt.Fprintf(a.io.Err, "%s %s\n", verb, describe(saved, time.Now()))
	return nil
}

func (a *app) passwordLogin(ctx context.Context, acct accounts.Account) (accounts.Account, error) {
	email := acct.Email
	if email == "" {
		if !isTerminal(a.io.In) {
			return acct, usagef("--email is required for a password login when stdin is not a terminal")
		}
		line, err := a.readLine(ctx, "Email: ")
		if err != nil {
			return acct, err
		}
		email = line
	}
	password, err := a.readSecret("Password for " + email + ": ")
	if err != nil {
		return acct, err
	}
	if password == "" {
		return acct, errors.New("no password given; pipe it on stdin or type it at the prompt")
	}
	return a.oauth().Login(ctx, acct, oauth.Credentials{Email: email, Password: password})
}

func (a *app) browserLogin(ctx context.Context, acct accounts.Account, noBrowser bool, timeout time.Duration) (accounts.Account, error) {
	flow, err := a.oauth().StartCodeFlow(ctx, acct)
	if err != nil {
		return acct, err
	}
	defer flow.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	opened := false
	if !noBrowser {
		if err := flow.OpenBrowser(); err != nil {
			fmt.Fprintf(a.io.Err, "Could not open a browser (%v).\n", err)
		} else {
			opened = true
		}
	}
	if opened {
		fmt.Fprintf(a.io.Err, "Opened your browser to sign in. If nothing happened, open this URL:\n\n  %s\n\n", flow.AuthURL())
	} else {
		fmt.Fprintf(a.io.Err, "Open this URL in a browser to sign in:\n\n  %s\n\n", flow.AuthURL())
	}
	if flow.Loopback() {
		fmt.Fprintf(a.io.Err, "Waiting for the browser to come back to %s (ctrl+c cancels; gives up after %v)…\n",
			flow.RedirectURI(), timeout)
		if !isTerminal(a.io.In) {
			return flow.Wait(ctx)
		}
		// The browser may run on another machine (keyfob over SSH): then
		// the user pastes the address it could not reach.
		fmt.Fprintln(a.io.Err, "If the browser runs on another machine, paste the address it lands on (or its code) here.")
		type waited struct {
			acct accounts.Account
			err  error
		}
		done := make(chan waited, 1)
		go func() {
			got, err := flow.Wait(ctx)
			done <- waited{got, err}
		}()
		pastes := a.nextLine()
		for {
			select {
			case w := <-done:
				return w.acct, w.err
			case l := <-pastes:
				a.pendingLine = nil
				if l.err != nil {
					pastes = nil // stdin is gone: only the browser can finish
					continue
				}
				pastes = a.nextLine()
				if l.text == "" {
					continue
				}
				got, err := flow.Complete(ctx, l.text)
				if err == nil {
					return got, nil
				}
				fmt.Fprintf(a.io.Err, "%v\nPaste the address again, or finish in the browser.\n", err)
			}
		}
	}
	fmt.Fprintln(a.io.Err, "After signing in, the browser lands on a page that may not load (for Owner accounts its")
	fmt.Fprintln(a.io.Err, "address starts with tesla://). Copy that address from the address bar and paste it here.")
	pasted, err := a.readLine(ctx, "Redirect URL or code: ")
	if errors.Is(err, context.DeadlineExceeded) {
		return acct, fmt.Errorf("nothing was pasted within %v; run keyfob login again (--timeout sets how long keyfob waits)", timeout)
	}
	if err != nil {
		return acct, err
	}
	return flow.Complete(ctx, pasted)
}

// describe sums an account up in one line for people.
func describe(ac accounts.Account, now time.Time) string {
	who := ac.Name
	if ac.Email != "" {
		who += " <" + ac.Email + ">"
	}
	s := fmt.Sprintf("%s (%s", who, ac.Kind)
	if ac.Region != "" {
		s += "/" + ac.Region
	}
	s += "): access token " + expiresIn(ac, now)
	if sc := ac.Scopes(); len(sc) > 0 {
		s += "; scopes " + strings.Join(sc, " ")
	}
	return s
}

func newImportCmd(a *app) *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Add an account from a refresh token read on stdin",
		Long: "import adds an account from a refresh token you already have. The token is read from stdin\n" +
			"(or a prompt without echo), never from the command line. keyfob refreshes it at once, which\n" +
			"proves it works and learns the expiry, scopes and email. Tesla refresh tokens are single use:\n" +
			"once keyfob refreshes it, the tool you took it from must not use it again.",
		Example: "  keyfob import --kind fleet --client-id YOUR_APP_ID --name car < refresh_token.txt\n" +
			"  pbpaste | keyfob import --kind owner --name home",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImport(cmd.Context(), a, &f)
		},
	}
	f.register(cmd)
	return cmd
}

func runImport(ctx context.Context, a *app, f *accountFlags) error {
	m := a.manager()
	acct, err := f.account(ctx, a, oauth.PurposeImport)
	if err != nil {
		return err
	}
	if acct.UsesClientCredentials() {
		return usagef("%s accounts have no refresh token; use keyfob login", acct.Kind)
	}
	rt, err := a.readSecret("Refresh token: ")
	if err != nil {
		return err
	}
	if rt == "" {
		return usagef("no refresh token on stdin; pipe it in, e.g. keyfob import --kind %s < token.txt", acct.Kind)
	}
	acct.RefreshToken = rt
	saved, replaced, err := m.Import(ctx, acct)
	if err != nil {
		return err
	}
	verb := "Imported"
	if replaced {
		verb = "Updated"
	}
	fmt.Fprintf(a.io.Err, "%s %s\n", verb, describe(saved, time.Now()))
	return nil
}

// ---- token ----

func newTokenCmd(a *app) *cobra.Command {
	var minValid time.Duration
	var refreshToken, copyIt bool
	cmd := &cobra.Command{
		Use:   "token [NAME]",
		Short: "Print a valid access token, refreshing it first when it is about to expire",
		Long: "token prints the account's access token and a newline on stdout, nothing else. If the token\n" +
			"expires within --min-valid it is refreshed first (once, even when many keyfob processes ask at\n" +
			"the same time). NAME is an account's name, email or id, or a unique prefix; it may be omitted\n" +
			"when there is one account or a default_account in config.json.\n" +
			"Exit codes: 0 ok, 1 error, 2 usage, 3 no such account, 4 login required.",
		Example: "  curl -H \"Authorization: Bearer $(keyfob token home)\" https://fleet-api.prd.na.vn.cloud.tesla.com/api/1/vehicles\n" +
			"  keyfob token work --min-valid 1h",
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runToken(cmd.Context(), a, name, minValid, refreshToken, copyIt)
		},
	}
	cmd.Flags().DurationVar(&minValid, "min-valid", 5*time.Minute, "refresh first if the token expires within this")
	cmd.Flags().BoolVar(&refreshToken, "refresh-token", false, "print the refresh token instead (it is single use: see --help)")
	cmd.Flags().BoolVar(&copyIt, "copy", false, "copy the token to the clipboard instead of printing it")
	return cmd
}

func runToken(ctx context.Context, a *app, name string, minValid time.Duration, refreshToken, copyIt bool) error {
	if minValid < 0 {
		return usagef("--min-valid cannot be negative")
	}
	// The process lives for a few milliseconds, most of them decoding the
	// store: collecting garbage halfway through would only cost time.
	debug.SetGCPercent(400)
	m := a.manager()
	if name == "" {
		cfg, err := m.Store.LoadConfig()
		if err != nil {
			return err
		}
		name = cfg.DefaultAccount
	}
	acct, err := m.Token(ctx, name, minValid)
	if err != nil {
		return err
	}
	tok, what := acct.AccessToken, "access token"
	if refreshToken {
		tok, what = acct.RefreshToken, "refresh token"
		if tok == "" {
			return fmt.Errorf("%q has no refresh token (%s accounts get none)", acct.Name, acct.Kind)
		}
		if isTerminal(a.io.Err) {
			fmt.Fprintln(a.io.Err, "keyfob: note: refresh tokens are single use; if another tool refreshes this one, keyfob's copy stops working.")
		}
	}
	if copyIt {
		return copyToClipboard(a, m.Store, acct, tok, what)
	}
	_, err = fmt.Fprintln(a.io.Out, tok)
	return err
}

// copyToClipboard puts tok on the system clipboard (or, without one, the
// terminal's through OSC 52) and starts a detached keyfob that clears it
// after the configured delay if it still holds tok.
func copyToClipboard(a *app, st *accounts.Store, acct accounts.Account, tok, what string) error {
	cfg, err := st.LoadConfig()
	if err != nil {
		return err
	}
	if clipboard.Unsupported {
		if !isTerminal(a.io.Err) {
			return errors.New("no clipboard here (install xclip, xsel or wl-clipboard, or run in a terminal that supports OSC 52); print the token instead")
		}
		fmt.Fprint(a.io.Err, ansi.SetSystemClipboard(tok))
		fmt.Fprintf(a.io.Err, "Copied the %s of %s through the terminal; clear your clipboard when done.\n", what, acct.Name)
		return nil
	}
	if err := clipboard.WriteAll(tok); err != nil {
		return fmt.Errorf("cannot write to the clipboard: %w", err)
	}
	after := cfg.ClearAfter()
	if after <= 0 {
		fmt.Fprintf(a.io.Err, "Copied the %s of %s.\n", what, acct.Name)
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	sum := sha256.Sum256([]byte(tok))
	clear := exec.Command(self, "clipboard-clear", "--after", after.String(), "--sha256", hex.EncodeToString(sum[:]))
	clear.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := clear.Start(); err != nil {
		fmt.Fprintf(a.io.Err, "Copied the %s of %s; it could not be scheduled for clearing (%v).\n", what, acct.Name, err)
		return nil
	}
	_ = clear.Process.Release()
	fmt.Fprintf(a.io.Err, "Copied the %s of %s — clears in %v.\n", what, acct.Name, after)
	return nil
}

// newClipboardClearCmd is the hidden helper copyToClipboard starts: it
// waits, then empties the clipboard if it still holds the token whose hash
// it was given (the token itself never reaches argv).
func newClipboardClearCmd() *cobra.Command {
	var after time.Duration
	var sum string
	cmd := &cobra.Command{
		Use:    "clipboard-clear",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			select {
			case <-time.After(after):
			case <-cmd.Context().Done():
			}
			cur, err := clipboard.ReadAll()
			if err != nil {
				return err
			}
			got := sha256.Sum256([]byte(cur))
			if hex.EncodeToString(got[:]) != sum {
				return nil
			}
			return clipboard.WriteAll("")
		},
	}
	cmd.Flags().DurationVar(&after, "after", accounts.DefaultClipboardClear, "")
	cmd.Flags().StringVar(&sum, "sha256", "", "")
	return cmd
}

// ---- refresh ----

func newRefreshCmd(a *app) *cobra.Command {
	var all bool
	var concurrency int
	var minValid time.Duration
	cmd := &cobra.Command{
		Use:   "refresh [NAME...]",
		Short: "Refresh access tokens now",
		Long: "refresh gets new access tokens now, saving each rotated refresh token before anything else.\n" +
			"With --all it refreshes every account that can be refreshed, --concurrency at a time.\n" +
			"With --min-valid it refreshes only tokens that expire within that time, which suits cron:\n" +
			"tokens another keyfob process refreshed meanwhile are left alone.",
		Example: "  keyfob refresh home\n  keyfob refresh --all --concurrency 16\n" +
			"  */10 * * * * keyfob refresh --all --min-valid 30m   # crontab: keep every token warm",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRefresh(cmd.Context(), a, args, all, concurrency, minValid)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "refresh every account")
	cmd.Flags().IntVar(&concurrency, "concurrency", 8, "refreshes in flight at once with --all")
	cmd.Flags().DurationVar(&minValid, "min-valid", 0, "only refresh tokens that expire within this (0: refresh all named)")
	return cmd
}

func runRefresh(ctx context.Context, a *app, names []string, all bool, concurrency int, minValid time.Duration) error {
	if all && len(names) > 0 {
		return usagef("give account names or --all, not both")
	}
	if concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if minValid < 0 {
		return usagef("--min-valid cannot be negative")
	}
	// The process lives for a few milliseconds, most of them decoding the
	// store: collecting garbage halfway through would only cost time.
	debug.SetGCPercent(400)
	m := a.manager()
	f, err := m.Store.Load()
	if err != nil {
		return err
	}
	var todo []accounts.Account
	switch {
	case all:
		for _, ac := range f.Accounts {
			if ac.State != accounts.StateRevoked && ac.Refreshable() {
				todo = append(todo, ac)
			}
		}
		if len(todo) == 0 {
			fmt.Fprintln(a.io.Err, "Nothing to refresh.")
			return nil
		}
	case len(names) == 0:
		cfg, err := m.Store.LoadConfig()
		if err != nil {
			return err
		}
		ac, err := accounts.Resolve(f.Accounts, cfg.DefaultAccount)
		if err != nil {
			return err
		}
		todo = append(todo, *ac)
	default:
		for _, n := range names {
			ac, err := accounts.Resolve(f.Accounts, n)
			if err != nil {
				return err
			}
			todo = append(todo, *ac)
		}
	}
	now := time.Now
	res := m.RefreshMany(ctx, todo, concurrency, minValid, func(i int, r accounts.RefreshResultFor) {
		switch {
		case r.Err != nil && len(todo) > 1: // a single error is the command's error
			fmt.Fprintf(a.io.Err, "✗ %s: %v\n", r.Account.Name, r.Err)
		case r.Err != nil:
		case r.Account.AccessToken == todo[i].AccessToken:
			fmt.Fprintf(a.io.Out, "· %s: still valid, access token %s\n", r.Account.Name, expiresIn(r.Account, now()))
		default:
			fmt.Fprintf(a.io.Out, "✓ %s: access token %s\n", r.Account.Name, expiresIn(r.Account, now()))
		}
	})
	var failed, loginRequired int
	for _, r := range res {
		if r.Err != nil {
			failed++
			if errors.Is(r.Err, accounts.ErrLoginRequired) {
				loginRequired++
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case len(res) == 1:
		return res[0].Err
	case failed == loginRequired:
		return fmt.Errorf("%w: %d of %d accounts need a new login", accounts.ErrLoginRequired, failed, len(res))
	}
	return fmt.Errorf("%d of %d refreshes failed (see above)", failed, len(res))
}

// ---- revoke and remove ----

func newRevokeCmd(a *app) *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an account's tokens at the server and mark it revoked",
		Long: "revoke asks the account's revocation endpoint (RFC 7009) to revoke the refresh token, then the\n" +
			"access token, and reports what the server did and what changed locally, separately. Tesla\n" +
			"documents no revocation endpoint: for Tesla accounts keyfob shows the consent page where you\n" +
			"can withdraw the app's access. The record stays, marked revoked, unless --remove.",
		Example: "  keyfob revoke home\n  keyfob revoke old-car --remove",
		Args:    exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRevoke(cmd.Context(), a, args[0], remove)
		},
	}
	cmd.Flags().BoolVar(&remove, "remove", false, "also forget the account locally")
	return cmd
}

func exactlyOneName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s needs exactly one account name", cmd.Name())
	}
	return nil
}

func runRevoke(ctx context.Context, a *app, name string, remove bool) error {
	m := a.manager()
	acct, err := m.Find(name)
	if err != nil {
		return err
	}
	rev, err := m.Revoke(ctx, acct.ID, remove)
	w := a.io.Out
	switch rev.Outcome {
	case accounts.RevokedAtServer:
		fmt.Fprintf(w, "Server: revoked (%s).\n", strings.Join(rev.Revoked, ", "))
	case accounts.RevokeUnsupported:
		fmt.Fprintf(w, "Server: not revoked — %s.\n", orDefault(rev.Detail, "this account has no revocation endpoint"))
	case accounts.RevokeFailed:
		fmt.Fprintf(w, "Server: revocation failed — %s.\n", orDefault(rev.Detail, "see below"))
	}
	if rev.ConsentURL != "" {
		fmt.Fprintf(w, "        To withdraw the app's access for good, open:\n        %s\n", rev.ConsentURL)
	}
	switch {
	case remove && rev.Outcome != "" && rev.Outcome != accounts.RevokeFailed:
		fmt.Fprintf(w, "Local:  %s removed.\n", acct.Name)
	case rev.Outcome == accounts.RevokedAtServer:
		fmt.Fprintf(w, "Local:  %s marked revoked; its tokens were deleted.\n", acct.Name)
	case rev.Outcome != "":
		fmt.Fprintf(w, "Local:  %s marked revoked; its tokens are kept so you can retry with keyfob revoke %s.\n", acct.Name, acct.Name)
	}
	return err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newRemoveCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Forget an account locally (its tokens stay valid at the server)",
		Example: "  keyfob remove old-car --yes",
		Args:    exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			m := a.manager()
			acct, err := m.Find(args[0])
			if err != nil {
				return err
			}
			if !yes && isTerminal(a.io.In) {
				line, err := a.readLine(cmd.Context(), fmt.Sprintf("Forget %s? Its tokens stay valid at the server (use keyfob revoke for that). [y/N] ", acct.Name))
				if err != nil {
					return err
				}
				if !strings.EqualFold(line, "y") && !strings.EqualFold(line, "yes") {
					return errors.New("nothing removed")
				}
			}
			if err := m.Remove(cmd.Context(), acct.ID); err != nil {
				return err
			}
			fmt.Fprintf(a.io.Err, "Removed %s.\n", acct.Name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// ---- version ----

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print keyfob's version",
		Args:  noArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(a.io.Out, "keyfob "+buildVersion())
		},
	}
}

// ---- sandbox ----

func newSandboxCmd(a *app) *cobra.Command {
	var addr string
	var opts oauthtest.Options
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the local sandbox authorization server in the foreground",
		Long: "sandbox runs a local authorization server that behaves like Tesla's (authorize, token, revoke,\n" +
			"the legacy /oauth/token, users/me) for trying keyfob and for tests. The first line of stdout is\n" +
			"its base URL; then the test user's credentials and example login commands. ctrl+c stops it.",
		Example: "  keyfob sandbox --addr 127.0.0.1:8765 --access-ttl 2m\n" +
			"  keyfob sandbox --latency 200ms --fail-rate 0.1",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSandbox(cmd.Context(), a, addr, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:0", "loopback address to listen on")
	fl.DurationVar(&opts.AccessTTL, "access-ttl", 8*time.Hour, "lifetime of access tokens")
	fl.DurationVar(&opts.RefreshGrace, "refresh-grace", 0, "how long a rotated-out refresh token keeps working")
	fl.DurationVar(&opts.Latency, "latency", 0, "delay added to every request")
	fl.Float64Var(&opts.FailRate, "fail-rate", 0, "share of token requests that fail with 503 (0–1)")
	fl.BoolVar(&opts.LoginForm, "login-form", false, "show a login form instead of approving at once")
	return cmd
}

func runSandbox(ctx context.Context, a *app, addr string, opts oauthtest.Options) error {
	if opts.FailRate < 0 || opts.FailRate > 1 {
		return usagef("--fail-rate must be between 0 and 1")
	}
	srv, err := oauthtest.StartAt(addr, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	u := srv.User()
	w := a.io.Out
	fmt.Fprintln(w, srv.URL())
	fmt.Fprintf(w, "\nTest user: %s  password: %s\n", u.Email, u.Password)
	fmt.Fprintf(w, "Partner client: %s  secret: %s\n\n", oauthtest.PartnerClientID, oauthtest.PartnerSecret)
	fmt.Fprintln(w, "Try, with an empty config directory:")
	fmt.Fprintf(w, "  export KEYFOB_CONFIG_DIR=$(mktemp -d)\n")
	fmt.Fprintf(w, "  keyfob login --kind fleet --issuer %s --client-id %s\n", srv.URL(), oauthtest.FleetClientID)
	fmt.Fprintf(w, "  keyfob login --kind owner --issuer %s --redirect-uri tesla://auth/callback --no-browser\n", srv.URL())
	fmt.Fprintf(w, "  KEYFOB_CLIENT_SECRET=%s keyfob login --kind partner --issuer %s --client-id %s\n",
		oauthtest.PartnerSecret, srv.URL(), oauthtest.PartnerClientID)
	fmt.Fprintf(w, "  echo %s | keyfob login --kind legacy --base-url %s --email %s\n", u.Password, srv.URL(), u.Email)
	fmt.Fprintln(w, "  keyfob list; keyfob token")
	fmt.Fprintln(w, "\nServing until ctrl+c.")
	<-ctx.Done()
	st := srv.Stats()
	fmt.Fprintf(a.io.Err, "sandbox: served %d code exchanges, %d refreshes, %d client-credentials, %d password grants, %d revocations\n",
		st.CodeExchanges, st.Refreshes+st.LegacyRefreshes, st.ClientCredentials, st.PasswordGrants, st.Revocations+st.LegacyRevocations)
	return nil
}
