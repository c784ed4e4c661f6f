package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/present"
)

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
	targets, err := fleetapp.Targets(opts.Ctx, opts.Manager(), opts.Engine(), p, opts.Region)
	if err != nil {
		return err
	}
	var failed []string
	var last error
	for _, r := range fleetapp.Register(opts.Ctx, c, opts.Apps(), p.ClientID, domain, targets) {
		if r.Err != nil {
			failed, last = append(failed, r.Region), r.Err
			fprintf(opts.IO.Out, "Not registered in region %s (%s): %s\n", r.Region, present.Clean(r.Base), present.OneLine(r.Err.Error()))
			continue
		}
		printRegistration(opts.IO.Out, domain, r.Target, r.Account)
	}
	switch {
	case len(failed) == 0:
		return nil
	case len(failed) == len(targets):
		return partnerError(domain, p, last)
	}
	return fmt.Errorf("the registration failed in region %s (see above; nothing was changed there); once fixed, run keyfob partner register --domain %s --region %s",
		strings.Join(failed, ", "), domain, failed[0])
}

func printRegistration(w io.Writer, domain string, t fleetapp.Target, pa fleetapi.PartnerAccount) {
	fprintf(w, "Registered %s with Tesla in region %s (%s).\n", present.Clean(domain), t.Region, present.Clean(t.Base))
	for _, kv := range [][2]string{
		{"domain", pa.Domain}, {"client id", pa.ClientID}, {"account id", pa.AccountID}, {"public key", pa.PublicKey},
		{"key hash", pa.PublicKeyHash}, {"created", pa.CreatedAt}, {"updated", pa.UpdatedAt}, {"token from", t.From},
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
	c, w := opts.FleetAPI(), opts.IO.Out
	served, _, err := c.DomainKey(opts.Ctx, domain)
	if err != nil {
		return partnerError(domain, p, err)
	}
	shown := hex.EncodeToString(served)
	fprintf(w, "Domain key   %s\n             EC P-256 ✓ %s\n", present.Clean(fleetapi.KeyURL(domain)), shown)
	var problems []string
	if problem := compareKeyFile(w, opts.Keys(), shown, domain); problem != "" {
		problems = append(problems, problem)
	}
	targets, err := fleetapp.Targets(opts.Ctx, opts.Manager(), opts.Engine(), p, opts.Region)
	if err != nil {
		return err
	}
	var missing, differ []string
	for _, t := range targets {
		label := fmt.Sprintf("Tesla (%s)", t.Region)
		var point []byte
		err := t.Err
		if err == nil {
			point, _, err = c.PartnerPublicKey(opts.Ctx, t.Base, t.Token, domain)
		}
		switch {
		case errors.Is(err, fleetapi.ErrNotFound):
			fprintf(w, "%-12s none\n", label)
			missing = append(missing, t.Region)
		case err != nil && len(targets) == 1:
			return partnerError(domain, p, err)
		case err != nil:
			fprintf(w, "%-12s ? %s\n", label, present.OneLine(err.Error()))
			problems = append(problems, fmt.Sprintf("Tesla could not be asked in region %s (%s)", t.Region, present.OneLine(err.Error())))
		case hex.EncodeToString(point) == shown:
			fprintf(w, "%-12s %s ✓ same as the domain's\n", label, hex.EncodeToString(point))
		default:
			fprintf(w, "%-12s %s ✗ differs from the domain's\n", label, present.OneLine(hex.EncodeToString(point)))
			differ = append(differ, t.Region)
		}
	}
	if len(differ) > 0 {
		problems = append(problems, fmt.Sprintf("the key at %s is not the one Tesla holds for %s in region %s; register again to update it: keyfob partner register --domain %s",
			fleetapi.KeyURL(domain), domain, strings.Join(differ, ", "), domain))
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("Tesla holds no key for %s in region %s (404); register it with keyfob partner register --domain %s",
			domain, strings.Join(missing, ", "), domain))
	}
	if len(problems) == 0 {
		fprintln(w, "Result       ✓ match: the domain, the key file and Tesla hold the same key")
		return nil
	}
	fprintf(w, "Result       ✗ %s\n", resultWord(missing, differ))
	return errors.New(strings.Join(problems, "; "))
}

func resultWord(missing, differ []string) string {
	switch {
	case len(differ) > 0:
		return "mismatch"
	case len(missing) > 0:
		return "not registered"
	}
	return "difference"
}

// compareKeyFile shows keyfob's key file beside the domain's key (point,
// in hex) and returns the problem when they differ; having no key file is
// not one (the key may be kept elsewhere).
func compareKeyFile(w io.Writer, keys fleetapp.Keys, served, domain string) string {
	_, point, err := keys.Public()
	switch {
	case errors.Is(err, fleetapp.ErrNoKey):
		fprintf(w, "Key file     none in keyfob's directory (keyfob partner keygen makes one, or --import yours)\n")
		return ""
	case err != nil:
		fprintf(w, "Key file     ✗ %s\n", present.OneLine(err.Error()))
		return "keyfob's key file cannot be used (" + present.OneLine(err.Error()) + ")"
	case hex.EncodeToString(point) == served:
		fprintf(w, "Key file     %s ✓ same as the domain's\n", present.Clean(keys.PublicPath()))
		return ""
	}
	fprintf(w, "Key file     %s\n             %s ✗ differs from the domain's\n", present.Clean(keys.PublicPath()), hex.EncodeToString(point))
	return fmt.Sprintf("%s serves another key than keyfob's key file %s: publish that file there (keyfob serve serves it at %s), "+
		"or, if the domain's key is the right one, import its private key with keyfob partner keygen --import FILE --force",
		domain, keys.PublicPath(), fleetapi.KeyPath)
}
