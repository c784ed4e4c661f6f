// Package cli is keyfob's command line: the root command (which opens the
// TUI), one file per subcommand (an options struct, a NewCmdX constructor
// and a runX function), and the one place where errors are printed and
// mapped to exit codes.
//
// Every command reaches the store, the OAuth engine and the login path
// through a Factory, which builds them on first use, so `keyfob token`
// does no work it does not need, and tests run commands in-process with
// buffers for streams.
package cli

import (
	"context"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/present"
)

// Environment variables keyfob reads.
const (
	EnvConfigDir    = "KEYFOB_CONFIG_DIR"
	EnvClientSecret = "KEYFOB_CLIENT_SECRET"
	EnvStore        = "KEYFOB_STORE"
	EnvStoreKeyFile = "KEYFOB_STORE_KEY_FILE"
	EnvEtcdUsername = "KEYFOB_ETCD_USERNAME"
	EnvEtcdPassword = "KEYFOB_ETCD_PASSWORD"
	// EnvAuthCode is a business's auth code, for a third-party business
	// token (a partner login).
	EnvAuthCode = "KEYFOB_AUTH_CODE"
)

// DefaultHTTPTimeout is the default of --http-timeout.
const DefaultHTTPTimeout = 30 * time.Second

// Factory gives commands their streams, settings and services. The
// services are built on first use from the global flags.
type Factory struct {
	IO *IOStreams
	// Version is what `keyfob version` and --version print.
	Version string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// LookupEnv tells a variable set empty from one not set; nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Environ is the environment keyfob exec's command starts from; nil
	// means os.Environ.
	Environ func() []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Browser opens a sign-in address; nil means $BROWSER, else the
	// system's browser.
	Browser func(url string) error
	// HTTPClient makes every request to a server (the OAuth engine's, the
	// Fleet API's, a partner domain's); nil means one bounded by
	// --http-timeout on Go's default transport. Tests set a client that
	// trusts their TLS servers.
	HTTPClient *http.Client
	// Asker asks in place of huh's forms (see Ask); tests set one that
	// answers from a script.
	Asker Asker
	// KeepRuntime leaves the garbage collector's settings, which belong to
	// the whole process, as they are: token, refresh and serve set their
	// own for a process of their own, not for one that runs them beside
	// other work (the tests).
	KeepRuntime bool

	configDir   string        // --config-dir
	store       string        // --store
	httpTimeout time.Duration // --http-timeout
	etcd        etcdFlags

	engine   *oauth.Engine
	manager  *accounts.Manager
	logins   *oauth.Logins
	prompter *Prompter
}

// NewFactory returns a factory over the process's streams and environment.
// It takes the client secret and a business auth code out of the
// environment at once, so that no
// process keyfob starts (a browser, a clipboard helper, the clipboard
// clearer, the command of keyfob exec) inherits it.
func NewFactory(version string) *Factory {
	// The etcd password likewise: keyfob exec's command has no use for it.
	secrets := map[string]string{}
	for _, name := range []string{EnvClientSecret, EnvAuthCode, EnvEtcdPassword} {
		secrets[name], _ = os.LookupEnv(name)
		_ = os.Unsetenv(name)
	}
	getenv := func(key string) string {
		if v, ok := secrets[key]; ok {
			return v
		}
		return os.Getenv(key)
	}
	return &Factory{IO: System(), Version: version, Getenv: getenv}
}

func (f *Factory) getenv(key string) string {
	if f.Getenv != nil {
		return f.Getenv(key)
	}
	return os.Getenv(key)
}

func (f *Factory) lookupEnv(key string) (string, bool) {
	if f.LookupEnv != nil {
		return f.LookupEnv(key)
	}
	return os.LookupEnv(key)
}

// tuneGC sets the garbage collector for a command that has the process to
// itself: percent, and a memory limit when limit > 0. It leaves it alone
// when the Factory keeps the runtime.
func (f *Factory) tuneGC(percent int, limit int64) {
	if f.KeepRuntime {
		return
	}
	debug.SetGCPercent(percent)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}

func (f *Factory) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// ConfigDir is keyfob's directory: --config-dir, else $KEYFOB_CONFIG_DIR,
// else $XDG_CONFIG_HOME/keyfob.
func (f *Factory) ConfigDir() string {
	switch {
	case f.configDir != "":
		return f.configDir
	case f.getenv(EnvConfigDir) != "":
		return f.getenv(EnvConfigDir)
	}
	return accounts.DefaultDir()
}

// StoreLocation is where the accounts are: --store, else $KEYFOB_STORE,
// else "" (the store in the config directory).
func (f *Factory) StoreLocation() string {
	if f.store != "" {
		return f.store
	}
	return f.getenv(EnvStore)
}

// Config reads config.json.
func (f *Factory) Config() (accounts.Config, error) {
	m, err := f.OpenManager()
	if err != nil {
		return accounts.Config{}, err
	}
	return m.Config()
}

// httpClient is HTTPClient, else oauth.NewHTTPClient's with --http-timeout
// on every request (HTTP/2 and TLS 1.3 negotiable, proxies from the
// environment).
func (f *Factory) httpClient() *http.Client {
	if f.HTTPClient == nil {
		timeout := f.httpTimeout
		if timeout <= 0 {
			timeout = DefaultHTTPTimeout
		}
		f.HTTPClient = oauth.NewHTTPClient(timeout)
	}
	return f.HTTPClient
}

// Engine is the OAuth engine, with --http-timeout on every request.
func (f *Factory) Engine() *oauth.Engine {
	if f.engine == nil {
		f.engine = &oauth.Engine{HTTPClient: f.httpClient(), OpenBrowser: f.Browser, Now: f.Now}
	}
	return f.engine
}

// FleetAPI calls the Fleet API, userinfo endpoints and partner domains.
func (f *Factory) FleetAPI() *fleetapi.Client {
	return &fleetapi.Client{HTTP: f.httpClient(), Now: f.Now}
}

// Keys are the app's key pair files in keyfob's directory.
func (f *Factory) Keys() fleetapp.Keys {
	return fleetapp.Keys{Dir: f.ConfigDir(), Now: f.Now}
}

// Apps is what keyfob remembers of the user's own Fleet API apps.
func (f *Factory) Apps() fleetapp.Apps {
	return fleetapp.Apps{Dir: f.ConfigDir(), Now: f.Now}
}

// OpenManager opens the one door to the accounts: the store that --store
// names, with its notices on stderr. Nothing is read before the first
// operation.
func (f *Factory) OpenManager() (*accounts.Manager, error) {
	if f.manager == nil {
		m, err := f.OpenStore(f.StoreLocation(), f.StoreKeyFile(), f.etcd.plaintext)
		if err != nil {
			return nil, err
		}
		f.manager = m
	}
	return f.manager, nil
}

// OpenStore opens another Manager on the store at location, sealed with
// the key in keyFile (for an etcd store), with the etcd TLS files and
// credentials of the global flags: what keyfob store migrate copies into.
func (f *Factory) OpenStore(location, keyFile string, plaintext bool) (*accounts.Manager, error) {
	errOut := f.IO.Err
	m, err := accounts.Open(location, accounts.Options{
		Dir: f.ConfigDir(), Auth: f.Engine(), Now: f.Now,
		Notice: func(msg string) { fprintln(errOut, "keyfob: note: "+present.OneLine(msg)) },
		Etcd: accounts.EtcdOptions{CA: f.etcd.ca, Cert: f.etcd.cert, Key: f.etcd.key,
			Username: f.getenv(EnvEtcdUsername), Password: f.getenv(EnvEtcdPassword),
			KeyFile: keyFile, Plaintext: plaintext, Timeout: f.etcd.timeout},
	})
	if err != nil {
		return nil, usageError{err: err}
	}
	return m, nil
}

// etcdFlags are the global flags of an etcd store.
type etcdFlags struct {
	ca, cert, key string        // --etcd-ca, --etcd-cert, --etcd-key
	keyFile       string        // --store-key-file
	plaintext     bool          // --store-plaintext
	timeout       time.Duration // --etcd-timeout
}

// StoreKeyFile is the store key of an etcd store: --store-key-file, else
// $KEYFOB_STORE_KEY_FILE.
func (f *Factory) StoreKeyFile() string {
	if f.etcd.keyFile != "" {
		return f.etcd.keyFile
	}
	return f.getenv(EnvStoreKeyFile)
}

// Manager is OpenManager for commands, which check the location before
// they run (the root's PersistentPreRunE); a location that cannot be used
// gives a manager whose every operation fails with why.
func (f *Factory) Manager() *accounts.Manager {
	m, err := f.OpenManager()
	if err != nil {
		return accounts.Unusable(err)
	}
	return m
}

// Logins is the one path from a user's inputs to a saved account. A fleet
// app's redirect URI is remembered in config.json once a login with it
// succeeded, and used when the next login of the app gives none.
func (f *Factory) Logins() *oauth.Logins {
	if f.logins == nil {
		m, errOut := f.Manager(), f.IO.Err
		f.logins = &oauth.Logins{Engine: f.Engine(), Manager: m, RedirectFor: m.RedirectFor,
			Remember: func(clientID, uri string) {
				if err := m.RememberRedirect(context.Background(), clientID, uri); err != nil {
					fprintln(errOut, "keyfob: note: the redirect URI could not be remembered for the next login: "+present.OneLine(err.Error()))
				}
			}}
	}
	return f.logins
}

// Prompter asks the user on stderr and reads stdin; there is one per
// process, since it may hold a line read ahead.
func (f *Factory) Prompter() *Prompter {
	if f.prompter == nil {
		f.prompter = NewPrompter(f.IO)
	}
	return f.prompter
}

// BuildVersion is the version to show: the one set at build time (ldflags),
// else the module version of `go install`, else "dev".
func BuildVersion(set string) string {
	if set != "" {
		return set
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
