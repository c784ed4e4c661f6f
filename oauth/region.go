package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/accounts"
)

// ErrRegionHosts matches (errors.Is) the refusal to move an account
// between Tesla's .com and .cn hosts on the word of a token alone: only
// the sign-in's issuer may send an account to the other hosts.
var ErrRegionHosts = errors.New("the token's region belongs to the other Tesla sign-in hosts")

// RegionChange is a correction of an account's region, and of its audience
// (the Fleet API base URL of the region), to what its tokens say (ou_code
// and aud) or to where the sign-in's issuer sent it. The zero value means
// no change.
type RegionChange struct {
	From, To                 string // lower-case regions; From is "" when the account had none
	FromAudience, ToAudience string // equal when the audience stays
	// Refused is set (matching ErrRegionHosts) when the change would move
	// the account between the .com and .cn hosts without the sign-in's
	// issuer saying so: the account was left as it was.
	Refused error
}

// Changed reports whether c changes anything (or was refused).
func (c RegionChange) Changed() bool {
	return c.From != c.To || c.FromAudience != c.ToAudience || c.Refused != nil
}

// String is one sentence for the faces.
func (c RegionChange) String() string {
	switch {
	case c.Refused != nil:
		return c.Refused.Error()
	case !c.Changed():
		return ""
	case c.From == "":
		return fmt.Sprintf("the tokens say the account is in region %s; keyfob recorded it", c.To)
	case c.FromAudience != c.ToAudience:
		return fmt.Sprintf("the tokens say the account is in region %s, not %s; keyfob corrected its region and its Fleet API address to %s",
			c.To, c.From, shownURL(c.ToAudience))
	}
	return fmt.Sprintf("the tokens say the account is in region %s, not %s; keyfob corrected its region", c.To, c.From)
}

// apply makes the change on a (a refused one changes nothing).
func (c RegionChange) apply(a *accounts.Account) {
	if c.Refused == nil {
		a.Region, a.Audience = c.To, c.ToAudience
	}
}

// teslaHosts are Tesla's sign-in hosts, by family: "com" or "cn".
var teslaHosts = map[string]string{
	"auth.tesla.com": "com", "fleet-auth.prd.vn.cloud.tesla.com": "com", "auth.tesla.cn": "cn",
}

// regionFamily is the host family of a Tesla region.
func regionFamily(region string) string {
	if region == "cn" {
		return "cn"
	}
	return "com"
}

// knownRegion returns the lower-case Tesla region of an ou_code, or "".
func knownRegion(ouCode string) string {
	r := strings.ToLower(strings.TrimSpace(ouCode))
	if _, ok := teslaRegions[r]; ok {
		return r
	}
	return ""
}

// userKind reports whether a's tokens act for a Tesla user, whose region
// they name.
func userKind(a accounts.Account) bool {
	return a.Kind == accounts.KindFleet || a.Kind == accounts.KindOwner
}

// RegionCheck compares a's region with its access token's ou_code and
// returns the correction the token asks for: the region, and for a fleet
// account whose audience is a Fleet API base, the audience (the Fleet API
// base among the token's aud, else the region's preset). Only fleet and
// owner accounts are checked, only for Tesla's regions (na, eu, cn). A
// change between .com and .cn regions comes back Refused: the hosts would
// have to change too, which only the sign-in's issuer may decide.
func RegionCheck(a accounts.Account) RegionChange {
	return regionCheck(a, false)
}

// regionCheck is RegionCheck; trustFamily lets the token move the region
// to the other family: the sign-in's issuer moved the account to hosts
// whose family keyfob cannot tell (loopback), and the token came from
// them.
func regionCheck(a accounts.Account, trustFamily bool) RegionChange {
	c := RegionChange{From: a.Region, To: a.Region, FromAudience: a.Audience, ToAudience: a.Audience}
	claims, ok := Inspect(a.AccessToken)
	if !userKind(a) || !ok {
		return c
	}
	to := knownRegion(claims.OUCode)
	if to == "" || to == a.Region {
		return c
	}
	if regionFamily(to) != regionFamily(a.Region) && !trustFamily {
		c.Refused = fmt.Errorf("%w: the tokens say the account is in region %s, but it signs in at %s; log in again and let Tesla's sign-in page send keyfob to the right hosts",
			ErrRegionHosts, to, hostOf(a.Endpoints.TokenURL))
		return c
	}
	c.To = to
	if a.Kind == accounts.KindFleet && fleetAudience(a.Audience) {
		c.ToAudience = regionAudience(a, claims.Audience, to)
	}
	return c
}

// fleetAudience reports whether aud is a Fleet API base keyfob may
// replace: empty, a preset's, or one naming the Fleet API. An audience of
// the user's own (a proxy) stays.
func fleetAudience(aud string) bool {
	if aud == "" || strings.Contains(aud, "fleet-api") {
		return true
	}
	for _, r := range teslaRegions {
		if aud == r.fleetAPI {
			return true
		}
	}
	return false
}

// regionAudience is the audience of a in region: the Fleet API base among
// the token's aud that keyfob may trust (a Fleet API base on one of
// Tesla's Fleet API hosts, by exact name; or a loopback one when a's
// token endpoint is on loopback, as the sandbox's), else the region's
// preset.
func regionAudience(a accounts.Account, aud []string, region string) string {
	loopback := LoopbackHost(hostOf(a.Endpoints.TokenURL))
	for _, cand := range aud {
		cand = strings.TrimSuffix(cand, "/")
		u, err := url.Parse(cand)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			continue
		}
		tesla := FleetAPIHost(cand) && u.Path == ""
		sandbox := loopback && LoopbackHost(u.Host) && strings.Contains(u.Path, "/fleet-api") && !strings.HasSuffix(u.Path, "/userinfo")
		if tesla || sandbox {
			return cand
		}
	}
	return teslaRegions[region].fleetAPI
}

// hostOf is raw's host, or "" when it has none.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// switchIssuer returns a as the callback's issuer leaves it: when the
// sign-in sent a fleet or owner login to another host than its
// authorization URL's (Tesla sends China's users to auth.tesla.cn), that
// host becomes the account's, for every endpoint on the sign-in hosts
// (authorization, token, revocation, userinfo), and the code goes there.
// Only a switch between Tesla's sign-in hosts (https), or between loopback
// hosts when the configured one is loopback (the sandbox), is followed;
// an issuer anywhere else means the answer is not this login's (a mix-up,
// RFC 9207) and is refused. switched reports a switch.
func switchIssuer(a accounts.Account, issuer string) (out accounts.Account, switched bool, err error) {
	if issuer == "" || !userKind(a) || sameOrigin(issuer, a.Endpoints.AuthURL) {
		return a, false, nil
	}
	iu, err1 := url.Parse(issuer)
	au, err2 := url.Parse(a.Endpoints.AuthURL)
	if err1 != nil || err2 != nil || iu.Host == "" {
		return a, false, issuerRefused(issuer, a)
	}
	from, to := teslaHosts[strings.ToLower(au.Host)], teslaHosts[strings.ToLower(iu.Host)]
	switch {
	case from != "" && to != "" && au.Scheme == "https" && iu.Scheme == "https":
		if from == to {
			return a, false, nil // one family: the configured hosts serve it
		}
	case LoopbackHost(au.Host) && LoopbackHost(iu.Host) && au.Scheme == iu.Scheme:
	default:
		return a, false, issuerRefused(issuer, a)
	}
	return moveHosts(a, iu, to), true, nil
}

// moveHosts puts every endpoint of a that is on a sign-in host on the
// issuer's origin instead, and sets the region and audience of the new
// hosts: "cn" for auth.tesla.cn and for a loopback switch (the sandbox's
// China host; the token may say otherwise), "na" for Tesla's .com hosts
// until the token says.
func moveHosts(a accounts.Account, issuer *url.URL, family string) accounts.Account {
	old := []string{origin(a.Endpoints.AuthURL), origin(a.Endpoints.TokenURL)}
	move := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || raw == "" {
			return raw
		}
		if !slices.Contains(old, origin(raw)) && teslaHosts[strings.ToLower(u.Host)] == "" {
			return raw
		}
		u.Scheme, u.Host = issuer.Scheme, issuer.Host
		return u.String()
	}
	ep := &a.Endpoints
	ep.AuthURL, ep.TokenURL, ep.RevokeURL, ep.UserInfoURL = move(ep.AuthURL), move(ep.TokenURL), move(ep.RevokeURL), move(ep.UserInfoURL)
	region := "cn"
	if family == "com" {
		region = "na"
	}
	if a.Kind == accounts.KindFleet && fleetAudience(a.Audience) {
		a.Audience = teslaRegions[region].fleetAPI
	}
	a.Region = region
	return a
}

// issuerRefused is the error of a callback naming an issuer keyfob does
// not send a's code to.
func issuerRefused(issuer string, a accounts.Account) error {
	return fmt.Errorf("the sign-in answer names the issuer %s, but this login was sent to %s, so its code was not used; start the login again",
		shownURL(issuer), hostOf(a.Endpoints.AuthURL))
}
