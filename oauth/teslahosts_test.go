package oauth

import (
	"testing"

	"github.com/keyfob/keyfob/accounts"
)

// TestTeslaHostsMatchExactly: Tesla's hosts are matched by their exact
// names over https, never by a substring or a suffix.
func TestTeslaHostsMatchExactly(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token":                  true,
		"https://FLEET-AUTH.prd.vn.cloud.tesla.com./oauth2/v3/token":                 true,
		"https://fleet-auth.prd.vn.cloud.tesla.com:443/oauth2/v3/token":              true,
		"https://auth.tesla.cn/oauth2/v3/token":                                      true,
		"https://owner-api.teslamotors.com":                                          true,
		"https://fleet-api.prd.eu.vn.cloud.tesla.com":                                true,
		"https://fleet-auth.prd.vn.cloud.tesla.com.attacker.example/oauth2/v3/token": false,
		"https://attacker.example/fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token": false,
		"https://evil.tesla.com/oauth2/v3/token":                                     false,
		"http://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token":                   false,
		"https://fleet-auth.prd.vn.cloud.tesla.com:8443/oauth2/v3/token":             false,
		"https://user@fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token":             false,
		"https://xfleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token":                 false,
	} {
		if got := TeslaHost(raw); got != want {
			t.Errorf("TeslaHost(%q) = %v, want %v", raw, got, want)
		}
	}
	for raw, want := range map[string]bool{
		"https://fleet-api.prd.na.vn.cloud.tesla.com":       true,
		"https://fleet-api.prd.cn.vn.cloud.tesla.cn":        true,
		"https://fleet-auth.prd.vn.cloud.tesla.com":         false, // Tesla's, but not a Fleet API
		"https://fleet-api.x.tesla.com":                     false,
		"https://proxy.example.com/fleet-api":               false,
		"https://fleet-api.prd.na.vn.cloud.tesla.com.x.org": false,
	} {
		if got := FleetAPIHost(raw); got != want {
			t.Errorf("FleetAPIHost(%q) = %v, want %v", raw, got, want)
		}
	}
}

// TestRegionAudienceTrustsOnlyTeslaFleetHosts: a region correction takes
// the audience from the token's aud only when it names one of Tesla's
// Fleet API hosts exactly (any other *.tesla.com URL with "fleet-api" in
// it is not one) and the region, else the region's preset: another
// region's entry (Tesla lists North America's first for every user) is
// never the audience.
func TestRegionAudienceTrustsOnlyTeslaFleetHosts(t *testing.T) {
	a, _ := Preset(accounts.KindFleet, "na")
	eu := teslaRegions["eu"].fleetAPI
	for _, tc := range []struct {
		aud  []string
		want string
	}{
		{[]string{"https://fleet-api.evil.tesla.com", "https://x.tesla.com/fleet-api", "https://fleet-api.prd.eu.vn.cloud.tesla.com.attacker.example"}, eu},
		{[]string{"https://fleet-api.evil.tesla.com", teslaRegions["na"].fleetAPI + "/"}, eu},
		{[]string{teslaRegions["na"].fleetAPI, eu + "/", "https://auth.tesla.com/oauth2/v3/userinfo"}, eu},
		{[]string{"https://fleet-api.prd.na.vn.cloud.tesla.com/oauth2/v3/userinfo"}, eu},
	} {
		if got := regionBase(a.Audience, "na", "eu", tc.aud); got != tc.want {
			t.Errorf("aud %v: %q, want %q", tc.aud, got, tc.want)
		}
	}
}
