package oauth

import (
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// PartnerRegions lists the regions a partner account's app can reach with
// its client credentials, its own first: every Tesla region signed in at
// the same hosts (na and eu share fleet-auth.prd.vn.cloud.tesla.com; cn
// has its own). Each is a copy of a without tokens, with that region and
// its Fleet API audience and API base (moved as MoveBase moves them),
// ready for the client-credentials grant; a's own region keeps a as it
// is. An audience keyfob cannot map to another region (a proxy of the
// user's own) gives a's region alone.
func PartnerRegions(a accounts.Account) []accounts.Account {
	out := []accounts.Account{a}
	if a.Kind != accounts.KindPartner {
		return out
	}
	for _, r := range Regions {
		if r == a.Region || regionFamily(r) != regionFamily(a.Region) {
			continue
		}
		aud := otherRegionAudience(a, r)
		if aud == "" {
			continue
		}
		c := a
		c.Region, c.Audience = r, aud
		c.Endpoints.APIBaseURL = MoveBase(a.Endpoints.APIBaseURL, a.Region, r)
		c.AccessToken, c.RefreshToken, c.IDToken, c.Expiry, c.GrantedScopes = "", "", "", time.Time{}, nil
		out = append(out, c)
	}
	return out
}

// otherRegionAudience is the audience of region for an account whose
// audience is its own region's: Tesla's Fleet API base of the region, or
// the sandbox's loopback Fleet API with the region swapped (MoveBase); ""
// when keyfob cannot tell.
func otherRegionAudience(a accounts.Account, region string) string {
	aud := strings.TrimRight(a.Audience, "/")
	if moved := MoveBase(aud, a.Region, region); moved != aud {
		return moved
	}
	return ""
}
