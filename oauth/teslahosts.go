package oauth

import (
	"net"
	"net/url"
	"strings"
	"sync"
)

// teslaHostSets are the hosts of Tesla's presets, every region: all of
// them, and the Fleet API bases alone.
var teslaHostSets = sync.OnceValues(func() (all, fleetAPI map[string]bool) {
	all, fleetAPI = map[string]bool{}, map[string]bool{}
	for _, r := range teslaRegions {
		for _, raw := range []string{r.auth, r.fleetToken, r.fleetAPI, r.ownerAPI} {
			all[hostOf(raw)] = true
		}
		fleetAPI[hostOf(r.fleetAPI)] = true
	}
	return all, fleetAPI
})

// TeslaHost reports whether the URL raw is on one of Tesla's hosts that
// keyfob's presets use (sign-in, token, Fleet API, owner-api), by exact
// host name — fleet-auth.prd.vn.cloud.tesla.com.attacker.example is not —
// over https on the default port.
func TeslaHost(raw string) bool {
	all, _ := teslaHostSets()
	return teslaURL(raw, all)
}

// FleetAPIHost reports whether the URL raw is on one of Tesla's Fleet API
// hosts, by exact host name, over https on the default port: what a
// Tesla account's audience may be.
func FleetAPIHost(raw string) bool {
	_, fleet := teslaHostSets()
	return teslaURL(raw, fleet)
}

func teslaURL(raw string, hosts map[string]bool) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	return hosts[strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")]
}

// HostPort is the host of the URL raw as one endpoint compares with
// another: lower case, with its port when it has one; "" when raw has no
// host.
func HostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if p := u.Port(); p != "" {
		return net.JoinHostPort(h, p)
	}
	return h
}
