package demo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// The demo's Fleet app, like a Tesla one, takes only its registered
// redirect URI, which the fleet preset carries; the audience is Tesla's
// Fleet API base of the region, as the sandbox's Tesla-shaped tokens name
// it, and the API base the sandbox's, where check and partner call.
func TestFleetPresetHasTheRegisteredRedirect(t *testing.T) {
	d := startDemo(t)
	for _, region := range oauth.Regions {
		a, err := d.Presets(accounts.KindFleet, region)
		if err != nil {
			t.Fatal(err)
		}
		if a.Endpoints.RedirectURI != d.RedirectURI || !strings.HasPrefix(d.RedirectURI, "http://127.0.0.1:") ||
			a.Audience != sandbox.TeslaFleetAPIBase(region) || oauth.APIBase(a) != d.Server.FleetAPIBase(region) {
			t.Errorf("%s: redirect %q audience %q API base %q", region, a.Endpoints.RedirectURI, a.Audience, oauth.APIBase(a))
		}
	}
	p, _ := d.Presets(accounts.KindPartner, "eu")
	if p.Audience != sandbox.TeslaFleetAPIBase("eu") || oauth.APIBase(p) != d.Server.FleetAPIBase("eu") {
		t.Errorf("partner audience %q API base %q", p.Audience, oauth.APIBase(p))
	}
	// Any other redirect URI is refused at the sandbox.
	a, _ := d.Presets(accounts.KindFleet, "na")
	a.Endpoints.RedirectURI = "http://127.0.0.1:1/elsewhere"
	flow, err := d.Engine.StartCodeFlow(context.Background(), a)
	if err == nil {
		defer flow.Close()
		if _, err := d.Browse(context.Background(), flow.AuthURL()); err == nil {
			t.Error("the sandbox took a redirect URI that is not registered")
		}
	}
}

// Every region's fleet login in the demo ends in that region: a China
// login moves to the sandbox's China host, as one at Tesla moves to
// auth.tesla.cn.
func TestFleetLoginInEveryRegion(t *testing.T) {
	d := startDemo(t)
	ctx := context.Background()
	l := &oauth.Logins{Engine: d.Engine, Manager: d.Manager, Presets: d.Presets}
	for _, region := range oauth.Regions {
		p, err := l.Prepare(ctx, oauth.Request{Kind: accounts.KindFleet, Region: region, Inputs: oauth.Inputs{oauth.FieldName: "car-" + region}})
		if err != nil {
			t.Fatal(err)
		}
		at, err := l.Begin(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = d.Browse(ctx, at.Flow().AuthURL()) }()
		saved, err := at.Finish(ctx)
		at.Close()
		if err != nil {
			t.Fatalf("%s: %v", region, err)
		}
		a := saved.Account
		if a.Region != region || saved.RegionChange.Changed() || a.Audience != sandbox.TeslaFleetAPIBase(region) ||
			oauth.APIBase(a) != d.Server.FleetAPIBase(region) {
			t.Errorf("%s: region %q audience %q API base %q change %+v", region, a.Region, a.Audience, oauth.APIBase(a), saved.RegionChange)
		}
		if cn := strings.HasPrefix(a.Endpoints.TokenURL, d.Server.CNURL()); cn != (region == "cn") {
			t.Errorf("%s: token URL %s", region, a.Endpoints.TokenURL)
		}
	}
	if got := d.Server.Stats().CodeExchanges; got != 3 {
		t.Errorf("%d code exchanges", got)
	}
}

// Every demo account can be checked offline: each call of keyfob check
// goes to the sandbox on loopback, never to Tesla. The fleet and partner
// accounts pass; the owner account gets the Owner API's 403, as Tesla
// answers owner tokens since 2026-06-12.
func TestEveryDemoAccountChecksAtTheSandbox(t *testing.T) {
	d := startDemo(t)
	accts, err := d.Manager.List(context.Background())
	if err != nil || len(accts) == 0 {
		t.Fatal(accts, err)
	}
	c := &fleetapi.Client{}
	for _, a := range accts {
		r, err := c.Check(context.Background(), a)
		if len(r.Calls) == 0 {
			t.Errorf("%s: no call (%v)", a.Name, err)
		}
		for _, x := range r.Calls {
			if !strings.HasPrefix(x.URL, d.Server.URL()+"/") && !strings.HasPrefix(x.URL, d.Server.CNURL()+"/") {
				t.Errorf("%s: %s went to %s, not the sandbox", a.Name, x.Name, x.URL)
			}
		}
		switch {
		case a.Kind == accounts.KindOwner && a.ValidFor(time.Now(), 0) && !errors.Is(err, fleetapi.ErrOwnerAPIRefused):
			t.Errorf("%s: %v, want the Owner API's refusal", a.Name, err)
		case (a.Kind == accounts.KindFleet || a.Kind == accounts.KindPartner) && a.ValidFor(time.Now(), 0) && err != nil:
			t.Errorf("%s: %v", a.Name, err)
		}
	}
}
