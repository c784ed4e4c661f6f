// Command keyfob manages the OAuth tokens of Tesla accounts: a terminal UI
// that lists every account with its live expiry countdown and scopes, and a
// command line that hands scripts a valid access token.
package main

import (
	"context"
	"os"
	"syscall"

	"charm.land/fang/v2"

	"github.com/keyfob/keyfob/ui/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	// The factory builds the store, the HTTP client and the OAuth engine
	// only when a command needs them.
	f := cli.NewFactory(cli.BuildVersion(version))
	err := fang.Execute(context.Background(), cli.NewCmdRoot(f),
		fang.WithVersion(f.Version),
		fang.WithErrorHandler(cli.PrintError),
		fang.WithNotifySignal(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP),
	)
	os.Exit(cli.ExitCode(err))
}
