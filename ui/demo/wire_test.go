package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// The demo's Fleet app, like a Tesla one, takes only its registered
// redirect URI, which the fleet preset carries; the audience is the
// sandbox's Fleet API base of the region, where check and the region
// logic find it.
func TestFleetPresetHasTheRegisteredRedirect(t *testing.T) {
	d := startDemo(t)
	for _, region := range oauth.Regions {
		a, err := d.Presets(accounts.KindFleet, region)
		if err != nil {
			t.Fatal(err)
		}
		if a.Endpoints.RedirectURI != d.RedirectURI || !strings.HasPrefix(d.RedirectURI, "http://127.0.0.1:") ||
			a.Audience != d.Server.FleetAPIBase(region) {
			t.Errorf("%s: redirect %q audience %q", region, a.Endpoints.RedirectURI, a.Audience)
		}
	}
	p, _ := d.Presets(accounts.KindPartner, "eu")
	if p.Audience != d.Server.FleetAPIBase("eu") {
		t.Errorf("partner audience %q", p.Audience)
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
		if a.Region != region || saved.RegionChange.Changed() || a.Audience != d.Server.FleetAPIBase(region) {
			t.Errorf("%s: region %q audience %q change %+v", region, a.Region, a.Audience, saved.RegionChange)
		}
		if cn := strings.HasPrefix(a.Endpoints.TokenURL, d.Server.CNURL()); cn != (region == "cn") {
			t.Errorf("%s: token URL %s", region, a.Endpoints.TokenURL)
		}
	}
	if got := d.Server.Stats().CodeExchanges; got != 3 {
		t.Errorf("%d code exchanges", got)
	}
}
