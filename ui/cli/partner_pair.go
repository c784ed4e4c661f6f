package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/present"
)

// PairOptions are the options of `keyfob partner pair`.
type PairOptions struct {
	IO     *IOStreams
	Apps   func() fleetapp.Apps
	Getenv func(string) string

	Domain string
}

// NewCmdPartnerPair returns `keyfob partner pair`; runF replaces its run in
// tests.
func NewCmdPartnerPair(f *Factory, runF func(*PairOptions) error) *cobra.Command {
	opts := &PairOptions{IO: f.IO, Apps: f.Apps, Getenv: f.getenv}
	cmd := &cobra.Command{
		Use:   "pair --domain DOMAIN",
		Short: "Show the link (and QR code) that adds your app's virtual key to a car",
		Long: "pair prints https://tesla.com/_ak/DOMAIN and the same link as a QR code. Open it on the phone that has\n" +
			"the Tesla app (scan the code, or send yourself the link), choose the car, and confirm with the key card\n" +
			"on the car's console: the car then accepts commands signed with your app's private key. The domain\n" +
			"must be registered (keyfob partner register) and serve the public key. The link goes to stdout, then\n" +
			"the code; with one app known to keyfob, --domain may be left out.",
		Example: "  keyfob partner pair --domain app.example.com",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runPartnerPair(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Domain, "domain", "", "your app's domain (default: the one keyfob knows, if only one)")
	return cmd
}

func runPartnerPair(opts *PairOptions) error {
	domain := opts.Domain
	if strings.TrimSpace(domain) == "" {
		domain = opts.Apps().OnlyDomain()
		if domain == "" {
			return usagef("--domain is required: the domain your app is registered with (keyfob partner register --domain)")
		}
	}
	domain, err := fleetapi.CheckDomain(domain)
	if err != nil {
		return usageError{err: err}
	}
	link := fleetapp.PairingURL(domain)
	lines, err := present.QR(link, 4)
	if err != nil {
		return err
	}
	w := opts.IO.Out
	fprintln(w, link)
	fprintln(w)
	paint := opts.IO.OutTTY && opts.Getenv("NO_COLOR") == ""
	for _, l := range lines {
		if paint {
			// Light modules light on any terminal background.
			l = "\x1b[97;40m" + l + "\x1b[0m"
		}
		fprintln(w, "  "+l)
	}
	fprintln(opts.IO.Err, "\nScan the code with the phone that has the Tesla app (or open the link there),\n"+
		"choose the car, and confirm with the key card on the console: the car then\n"+
		"takes commands signed with your app's key.")
	return nil
}
