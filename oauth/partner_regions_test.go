package oauth

import (
	"testing"

	"github.com/keyfob/keyfob/accounts"
)

func TestPartnerRegions(t *testing.T) {
	na, _ := Preset(accounts.KindPartner, "na")
	na.AccessToken = "tok"
	cn, _ := Preset(accounts.KindPartner, "cn")
	sandboxEU := accounts.Account{Kind: accounts.KindPartner, Region: "eu", Audience: "http://127.0.0.1:4000/fleet-api/eu"}
	proxy := accounts.Account{Kind: accounts.KindPartner, Region: "na", Audience: "https://proxy.example.com"}
	fleet, _ := Preset(accounts.KindFleet, "na")
	for _, tc := range []struct {
		name string
		a    accounts.Account
		want map[string]string // region → audience, the account's own first
	}{
		{"Tesla na reaches eu", na, map[string]string{"na": teslaRegions["na"].fleetAPI, "eu": teslaRegions["eu"].fleetAPI}},
		{"China alone", cn, map[string]string{"cn": teslaRegions["cn"].fleetAPI}},
		{"the sandbox", sandboxEU, map[string]string{"eu": "http://127.0.0.1:4000/fleet-api/eu", "na": "http://127.0.0.1:4000/fleet-api/na"}},
		{"a proxy of the user's own", proxy, map[string]string{"na": "https://proxy.example.com"}},
		{"not a partner account", fleet, map[string]string{"na": teslaRegions["na"].fleetAPI}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PartnerRegions(tc.a)
			if len(got) != len(tc.want) || got[0].Region != tc.a.Region {
				t.Fatalf("%+v", got)
			}
			for i, c := range got {
				if tc.want[c.Region] != c.Audience {
					t.Errorf("%s: audience %q", c.Region, c.Audience)
				}
				if i > 0 && c.AccessToken != "" {
					t.Errorf("%s: carries the other region's token", c.Region)
				}
			}
		})
	}
}
