package fleetapp

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
)

// PartnerMinValid is how long a partner token must stay valid for the
// partner calls; a shorter-lived one is fetched again first.
const PartnerMinValid = 5 * time.Minute

// Target is one region to register or check an app's domain in.
type Target struct {
	Region string
	// Base is the region's Fleet API base; Token a partner token for it.
	Base, Token string
	// From names where the token came from, for a report.
	From string
	// Err is why no token could be had for the region.
	Err error
}

// Targets are the regions the partner account p's app can reach (or
// region alone, when not ""), each with a partner token: p's own (p holds
// a valid one), that of a partner account of the same app in the region,
// or one fetched with p's client credentials and not kept.
func Targets(ctx context.Context, m *accounts.Manager, auth accounts.Authority, p accounts.Account, region string) ([]Target, error) {
	accts, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Target
	for i, c := range oauth.PartnerRegions(p) {
		if region != "" && c.Region != region {
			continue
		}
		t := Target{Region: c.Region, Base: APIBase(c), Token: p.AccessToken, From: p.Name}
		if i > 0 {
			t = otherRegion(ctx, m, auth, accts, p, c)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the partner account %q (region %s) cannot reach region %s; add a partner account there: "+
			"KEYFOB_CLIENT_SECRET=… keyfob login --kind partner --client-id %s --region %s",
			p.Name, cmp.Or(p.Region, "-"), region, p.ClientID, region)
	}
	return out, nil
}

// otherRegion is the target of region c.Region for p's app.
func otherRegion(ctx context.Context, m *accounts.Manager, auth accounts.Authority, accts []accounts.Account, p, c accounts.Account) Target {
	t := Target{Region: c.Region, Base: APIBase(c)}
	for _, a := range accts {
		if a.Kind == accounts.KindPartner && a.ClientID == p.ClientID && a.Region == c.Region && a.ID != p.ID && a.AuthCode == "" {
			got, err := m.Token(ctx, a.ID, PartnerMinValid)
			t.Token, t.Base, t.From, t.Err = got.Account.AccessToken, APIBase(got.Account), a.Name, err
			return t
		}
	}
	g, err := auth.Refresh(ctx, c)
	t.Token, t.From, t.Err = g.AccessToken, "a partner token of "+p.Name+"'s app for "+c.Region+", not kept", err
	return t
}

// APIBase is where the partner calls of a go: the account's API base
// (oauth.APIBase), the Fleet API base of its region unless the account
// calls elsewhere, as the sandbox's accounts do.
func APIBase(a accounts.Account) string { return oauth.APIBase(a) }

// Registration is the outcome of registering a domain in one region.
type Registration struct {
	Target
	Account fleetapi.PartnerAccount
	Err     error
}

// Register registers domain with Tesla in every target, and remembers the
// regions it worked in for the app of clientID. It goes on after a region
// fails; each outcome is in its Registration.
func Register(ctx context.Context, c *fleetapi.Client, apps Apps, clientID, domain string, targets []Target) []Registration {
	out := make([]Registration, 0, len(targets))
	for _, t := range targets {
		r := Registration{Target: t, Err: t.Err}
		if r.Err == nil {
			r.Account, _, r.Err = c.RegisterPartner(ctx, t.Base, t.Token, domain)
		}
		if r.Err == nil {
			if _, err := apps.Registered(ctx, clientID, domain, t.Region); err != nil {
				r.Err = fmt.Errorf("registered, but keyfob could not remember it: %w", err)
			}
		}
		out = append(out, r)
	}
	return out
}
