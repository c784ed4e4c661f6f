package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/ui/present"
)

// PartnerOptions are the options of `keyfob partner register` and
// `keyfob partner check`.
type PartnerOptions struct {
	IO       *IOStreams
	Ctx      context.Context
	Manager  func() *accounts.Manager
	FleetAPI func() *fleetapi.Client

	// Action is "register" or "check".
	Action  string
	Domain  string
	Account string
}

// partnerMinValid is how long a partner token must stay valid for the
// calls; a shorter-lived one is fetched again first.
const partnerMinValid = 5 * time.Minute

// NewCmdPartner returns `keyfob partner` and its subcommands; runF replaces
// their run in tests.
func NewCmdPartner(f *Factory, runF func(*PartnerOptions) error) *cobra.Command {
	parent := &cobra.Command{
		Use:   "partner",
		Short: "Set up your own Fleet API app: its key pair, its domain's registration, vehicle pairing",
		Long: "Fleet API apps register their domain with Tesla once per region, with a partner token: Tesla then\n" +
			"fetches the app's public key from https://DOMAIN" + fleetapi.KeyPath + "\n" +
			"(a PEM EC public key on secp256r1). The partner token comes from a partner account, added with\n" +
			"keyfob login --kind partner; its region is the one registered.",
		// A command without a run of its own would take any word for its
		// help, and exit 0: a mistyped subcommand is a usage error.
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, action := range []string{"register", "check"} {
		parent.AddCommand(newCmdPartnerAction(f, action, runF))
	}
	parent.AddCommand(NewCmdPartnerKeygen(f, nil))
	return parent
}

func newCmdPartnerAction(f *Factory, action string, runF func(*PartnerOptions) error) *cobra.Command {
	opts := &PartnerOptions{IO: f.IO, Manager: f.Manager, FleetAPI: f.FleetAPI, Action: action}
	cmd := &cobra.Command{
		Use:  action + " --domain DOMAIN [--account NAME]",
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
		cmd.Short = "Register your app's domain with Tesla in the partner account's region"
		cmd.Long = "register checks the public key your domain hosts, then asks Tesla to register the domain\n" +
			"(POST {audience}/api/1/partner_accounts) and shows what Tesla answered. Registering again\n" +
			"updates the key Tesla holds."
		cmd.Example = "  keyfob partner register --domain app.example.com\n  keyfob partner register --domain app.example.com --account biz-eu"
	} else {
		cmd.Short = "Compare the public key your domain hosts with the one Tesla holds"
		cmd.Long = "check fetches https://DOMAIN" + fleetapi.KeyPath + ",\n" +
			"checks that it is a PEM EC public key on secp256r1 (prime256v1), and compares it with the key Tesla\n" +
			"holds for the domain in the partner account's region. Exit codes: 0 match; 1 mismatch, not\n" +
			"registered, or the key cannot be used; 2 usage; 3 no partner account; 4 the partner token was refused."
		cmd.Example = "  keyfob partner check --domain app.example.com"
	}
	cmd.Flags().StringVar(&opts.Domain, "domain", "", "your app's domain, e.g. app.example.com (required)")
	cmd.Flags().StringVar(&opts.Account, "account", "", "the partner account whose token and region to use (default: the only one)")
	return cmd
}

// partnerSetup checks the domain and returns the partner account with a
// valid token.
func partnerSetup(opts *PartnerOptions) (string, accounts.Account, error) {
	if opts.Domain == "" {
		return "", accounts.Account{}, usagef("--domain is required: the domain your app's public key is hosted on")
	}
	domain, err := fleetapi.CheckDomain(opts.Domain)
	if err != nil {
		return "", accounts.Account{}, usageError{err: err}
	}
	m := opts.Manager()
	p, err := partnerAccount(m, opts.Account)
	if err != nil {
		return "", p, err
	}
	if p, err = m.Token(opts.Ctx, p.ID, partnerMinValid); err != nil {
		return "", p, fmt.Errorf("cannot get a partner token from %q: %w", p.Name, err)
	}
	if strings.TrimSpace(p.Audience) == "" {
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

// partnerAccount finds the partner account ref names, or the only one.
func partnerAccount(m *accounts.Manager, ref string) (accounts.Account, error) {
	accts, err := m.List()
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
		if a.Kind == accounts.KindPartner {
			names, found = append(names, a.Name), a
		}
	}
	switch len(names) {
	case 0:
		return accounts.Account{}, noPartnerError{}
	case 1:
		return found, nil
	}
	return accounts.Account{}, usagef("there are %d partner accounts (%s); name one with --account", len(names), strings.Join(names, ", "))
}

func runPartnerRegister(opts *PartnerOptions) error {
	domain, p, err := partnerSetup(opts)
	if err != nil {
		return err
	}
	c := opts.FleetAPI()
	// Tesla fetches the key itself; checking it first gives a clearer
	// answer than Tesla's refusal.
	if _, _, err := c.DomainKey(opts.Ctx, domain); err != nil {
		return partnerError(domain, p, err)
	}
	pa, _, err := c.RegisterPartner(opts.Ctx, p.Audience, p.AccessToken, domain)
	if err != nil {
		return partnerError(domain, p, err)
	}
	printRegistration(opts.IO.Out, domain, &p, pa)
	return nil
}

func printRegistration(w io.Writer, domain string, p *accounts.Account, pa fleetapi.PartnerAccount) {
	fprintf(w, "Registered %s with Tesla in region %s (%s).\n", present.Clean(domain), cmp.Or(present.Clean(p.Region), "-"), present.Clean(p.Audience))
	for _, kv := range [][2]string{
		{"domain", pa.Domain}, {"client id", pa.ClientID}, {"account id", pa.AccountID}, {"public key", pa.PublicKey},
		{"key hash", pa.PublicKeyHash}, {"created", pa.CreatedAt}, {"updated", pa.UpdatedAt},
	} {
		if kv[1] != "" {
			fprintf(w, "  %-12s%s\n", kv[0], present.OneLine(kv[1]))
		}
	}
}

func runPartnerCheck(opts *PartnerOptions) error {
	domain, p, err := partnerSetup(opts)
	if err != nil {
		return err
	}
	r, err := opts.FleetAPI().CheckPartnerKey(opts.Ctx, p.Audience, p.AccessToken, domain)
	if err != nil {
		return partnerError(domain, p, err)
	}
	w, region := opts.IO.Out, cmp.Or(present.Clean(p.Region), "-")
	fprintf(w, "Domain key   %s\n             EC P-256 ✓ %s\n", present.Clean(r.KeyURL), r.DomainKey)
	switch r.Outcome {
	case fleetapi.KeyMatch:
		fprintf(w, "Tesla (%s)    %s\nResult       ✓ match: Tesla holds the key your domain serves\n", region, present.OneLine(r.TeslaKey))
		return nil
	case fleetapi.KeyMismatch:
		fprintf(w, "Tesla (%s)    %s\nResult       ✗ mismatch\n", region, present.OneLine(r.TeslaKey))
		return fmt.Errorf("the key at %s is not the one Tesla holds for %s in region %s; register again to update it: keyfob partner register --domain %s",
			r.KeyURL, domain, region, domain)
	}
	fprintf(w, "Tesla (%s)    none\nResult       ✗ not registered\n", region)
	return fmt.Errorf("Tesla holds no key for %s in region %s (404); register it with keyfob partner register --domain %s", domain, region, domain)
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
