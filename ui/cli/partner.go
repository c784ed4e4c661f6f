package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
)

// PartnerOptions are the options of `keyfob partner register` and
// `keyfob partner check`.
type PartnerOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Manager  func() *accounts.Manager
	Engine   func() *oauth.Engine
	FleetAPI func() *fleetapi.Client
	Keys     func() fleetapp.Keys
	Apps     func() fleetapp.Apps

	// Action is "register" or "check".
	Action  string
	Domain  string
	Account string
	// Region limits the command to one region ("" is every region the
	// partner account can reach).
	Region string
}

// NewCmdPartner returns `keyfob partner` and its subcommands; runF replaces
// their run in tests.
func NewCmdPartner(f *Factory, runF func(*PartnerOptions) error) *cobra.Command {
	parent := &cobra.Command{
		Use:   "partner",
		Short: "Set up your own Fleet API app: its key pair, its domain's registration, vehicle pairing",
		Long: "A Fleet API app of your own needs an EC key pair (keyfob partner keygen), its public key published at\n" +
			"https://DOMAIN" + fleetapi.KeyPath + " (keyfob serve serves it),\n" +
			"the domain registered with Tesla in each region, with a partner token (keyfob partner register), and\n" +
			"its virtual key added to each car (keyfob partner pair). The partner token comes from a partner\n" +
			"account, added with keyfob login --kind partner. keyfob login --kind fleet --guide walks through it all.",
		// A command without a run of its own would take any word for its
		// help, and exit 0: a mistyped subcommand is a usage error.
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, action := range []string{"register", "check"} {
		parent.AddCommand(newCmdPartnerAction(f, action, runF))
	}
	parent.AddCommand(NewCmdPartnerKeygen(f, nil), NewCmdPartnerPair(f, nil))
	return parent
}

func newCmdPartnerAction(f *Factory, action string, runF func(*PartnerOptions) error) *cobra.Command {
	opts := &PartnerOptions{IO: f.IO, Manager: f.Manager, Engine: f.Engine, FleetAPI: f.FleetAPI, Keys: f.Keys, Apps: f.Apps, Action: action}
	cmd := &cobra.Command{
		Use:  action + " --domain DOMAIN [--account NAME] [--region R]",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			if action == "register" {
				return runPartnerRegister(opts)
			}
			return runPartnerCheck(opts)
		},
	}
	if action == "register" {
		cmd.Short = "Register your app's domain with Tesla in every region the partner account can reach"
		cmd.Long = "register checks the public key your domain hosts, then asks Tesla to register the domain\n" +
			"(POST {audience}/api/1/partner_accounts) in every region the partner account's app can reach — na and\n" +
			"eu share sign-in hosts; cn has its own — or in --region alone, and shows what Tesla answered in each.\n" +
			"A region without a partner account of its own gets a partner token from the same client id and\n" +
			"secret, which is not kept. Registering again updates the key Tesla holds."
		cmd.Example = "  keyfob partner register --domain app.example.com\n  keyfob partner register --domain app.example.com --region eu"
	} else {
		cmd.Short = "Compare the key your domain serves, keyfob's key file and the key Tesla holds"
		cmd.Long = "check fetches https://DOMAIN" + fleetapi.KeyPath + ",\n" +
			"checks that it is a PEM EC public key on secp256r1 (prime256v1), and compares it with the public key\n" +
			"in keyfob's directory (keyfob partner keygen) and with the key Tesla holds for the domain in every\n" +
			"region the partner account can reach (or --region), then says which differ and what to run.\n" +
			"Exit codes: 0 all agree; 1 a difference, not registered, or the key cannot be used; 2 usage;\n" +
			"3 no partner account; 4 the partner token was refused."
		cmd.Example = "  keyfob partner check --domain app.example.com"
	}
	cmd.Flags().StringVar(&opts.Domain, "domain", "", "your app's domain, e.g. app.example.com (required)")
	cmd.Flags().StringVar(&opts.Account, "account", "", "the partner account whose client credentials to use (default: the only one)")
	cmd.Flags().StringVar(&opts.Region, "region", "", "only this region: na, eu or cn (default: every region the partner account can reach)")
	return cmd
}

// partnerSetup checks the domain and the region, and returns the partner
// account with a valid token.
func partnerSetup(opts *PartnerOptions) (string, accounts.Account, error) {
	if opts.Domain == "" {
		return "", accounts.Account{}, usagef("--domain is required: the domain your app's public key is hosted on")
	}
	domain, err := fleetapi.CheckDomain(opts.Domain)
	if err != nil {
		return "", accounts.Account{}, usageError{err: err}
	}
	opts.Region = strings.ToLower(strings.TrimSpace(opts.Region))
	if opts.Region != "" && !slices.Contains(oauth.Regions, opts.Region) {
		return "", accounts.Account{}, usagef("unknown region %q; use na, eu or cn", opts.Region)
	}
	m := opts.Manager()
	p, err := partnerAccount(m, opts.Account, opts.Region)
	if err != nil {
		return "", p, err
	}
	got, err := m.Token(opts.Ctx, p.ID, fleetapp.PartnerMinValid)
	if err != nil {
		return "", p, fmt.Errorf("cannot get a partner token from %q: %w", p.Name, err)
	}
	warnStale(opts.IO.Err, got, time.Now())
	p = got.Account
	if oauth.APIBase(p) == "" {
		return "", p, fmt.Errorf("the partner account %q has no Fleet API base URL (its audience); set one with keyfob edit %s --region na|eu|cn", p.Name, p.Name)
	}
	return domain, p, nil
}

// noPartnerError says there is no partner account; it exits 3.
type noPartnerError struct{}

func (noPartnerError) Error() string {
	return "there is no partner account to get a partner token from; add one with " +
		"KEYFOB_CLIENT_SECRET=… keyfob login --kind partner --client-id YOUR_APP_ID --region na|eu|cn"
}

func (noPartnerError) Is(target error) bool { return target == accounts.ErrNotFound }

// partnerAccount finds the partner account ref names, or the only one
// (the only one of region, when given).
func partnerAccount(m *accounts.Manager, ref, region string) (accounts.Account, error) {
	accts, err := m.List(context.Background())
	if err != nil {
		return accounts.Account{}, err
	}
	if ref != "" {
		a, err := accounts.Resolve(accts, ref)
		if err != nil {
			return accounts.Account{}, err
		}
		if a.Kind != accounts.KindPartner {
			return *a, usagef("%q is a %s account, and partner commands need a partner token; name a partner account with --account, or add one with keyfob login --kind partner",
				a.Name, a.Kind)
		}
		return *a, nil
	}
	var names []string
	var found accounts.Account
	for _, a := range accts {
		if a.Kind == accounts.KindPartner && (region == "" || a.Region == region) {
			names, found = append(names, a.Name), a
		}
	}
	if len(names) == 0 && region != "" {
		// A partner account of another region reaches this one too.
		return partnerAccount(m, "", "")
	}
	switch len(names) {
	case 0:
		return accounts.Account{}, noPartnerError{}
	case 1:
		return found, nil
	}
	return accounts.Account{}, usagef("there are %d partner accounts (%s); name one with --account", len(names), strings.Join(names, ", "))
}

// partnerError says what went wrong in a partner call and what to do.
func partnerError(domain string, p accounts.Account, err error) error {
	var ne *fleetapi.NetError
	switch {
	case errors.Is(err, fleetapi.ErrBadKey):
		return fmt.Errorf("%v; Tesla would refuse it too", err)
	case errors.As(err, &ne) && strings.HasPrefix(ne.Endpoint, domain+"/"):
		return fmt.Errorf("cannot fetch the public key of %s (%v); check the domain's spelling, DNS and HTTPS certificate", domain, err)
	case errors.As(err, &ne):
		return fmt.Errorf("cannot reach Tesla (%v); %s", err, networkAdvice(ne))
	case errors.Is(err, fleetapi.ErrUnauthorized):
		return &loginNeeded{fmt.Sprintf("Tesla refused the partner token of %q (%v); get a new one with keyfob refresh %s, and check the app's client id and secret", p.Name, err, p.Name)}
	}
	return fmt.Errorf("%v; nothing was changed at Tesla", err)
}
