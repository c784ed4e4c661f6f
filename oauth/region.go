package oauth

import (
	"cmp"
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
// (the Fleet API base URL of the region) and API base, to what its tokens
// say (ou_code and aud) or to where the sign-in's issuer sent it. The zero
// value means no change.
type RegionChange struct {
	From, To                 string // lower-case regions; From is "" when the account had none
	FromAudience, ToAudience string // equal when the audience stays
	// FromAPIBase and ToAPIBase are the account's own API base
	// (Endpoints.APIBaseURL, "" for the audience's), equal when it stays.
	FromAPIBase, ToAPIBase string
	// Refused is set (matching ErrRegionHosts) when the change would move
	// the account between the .com and .cn hosts without the sign-in's
	// issuer saying so: the account was left as it was.
	Refused error
}

// Changed reports whether c changes anything (or was refused).
func (c RegionChange) Changed() bool {
	return c.From != c.To || c.FromAudience != c.ToAudience || c.FromAPIBase != c.ToAPIBase || c.Refused != nil
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
	case c.From == c.To:
		return fmt.Sprintf("the tokens say the account is in region %s, whose Fleet API address is %s; keyfob corrected the account's to it",
			c.To, shownURL(c.ToAudience))
	case c.FromAudience != c.ToAudience:
		return fmt.Sprintf("the tokens say the account is in region %s, not %s; keyfob corrected its region and its Fleet API address to %s",
			c.To, c.From, shownURL(c.ToAudience))
	}
	return fmt.Sprintf("the tokens say the account is in region %s, not %s; keyfob corrected its region", c.To, c.From)
}

// apply makes the change on a (a refused one changes nothing).
func (c RegionChange) apply(a *accounts.Account) {
	if c.Refused == nil {
		a.Region, a.Audience, a.Endpoints.APIBaseURL = c.To, c.ToAudience, c.ToAPIBase
	}
}

// onGrant puts the change into g, relative to a: the Grant's Region,
// Audience and APIBaseURL are set where they differ from a's, which
// accounts.Account.Apply then stores. A refused change sets none.
func (c RegionChange) onGrant(a accounts.Account, g accounts.Grant) accounts.Grant {
	g.Region, g.Audience, g.APIBaseURL = "", "", ""
	if c.Refused != nil {
		return g
	}
	if c.To != a.Region {
		g.Region = c.To
	}
	if c.ToAudience != a.Audience {
		g.Audience = c.ToAudience
	}
	if c.ToAPIBase != a.Endpoints.APIBaseURL {
		g.APIBaseURL = c.ToAPIBase
	}
	return g
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

// RegionCheck is the one place that decides what region an account's
// tokens put it in, and with the region its audience and API base. It
// compares a's region with the ou_code of its access token (else of its id
// token) and returns the correction they ask for:
//   - fleet and owner accounts take the token's region, except that a
//     move between Tesla's .com and .cn hosts comes back Refused: the
//     hosts would have to change too, which only the sign-in's issuer may
//     decide;
//   - a fleet account's audience becomes the region's Fleet API base
//     (regionBase): the entry of the token's aud whose host names the
//     region, as vehicle-command picks it, else the region's preset; its
//     API base follows (the sandbox's per-region address);
//   - the other Tesla kinds only learn a region they do not have; a
//     custom account has none.
//
// Refreshes (Engine.Refresh), code exchanges and imports all ask it, and
// the Grant they return carries its answer.
func RegionCheck(a accounts.Account) RegionChange {
	return regionCheck(a, false)
}

// regionCheck is RegionCheck; trustFamily lets the token move the region
// to the other family: the sign-in's issuer moved the account to hosts
// whose family keyfob cannot tell (loopback), and the token came from
// them.
func regionCheck(a accounts.Account, trustFamily bool) RegionChange {
	c := RegionChange{From: a.Region, To: a.Region, FromAudience: a.Audience, ToAudience: a.Audience,
		FromAPIBase: a.Endpoints.APIBaseURL, ToAPIBase: a.Endpoints.APIBaseURL}
	claims, ok := Inspect(a.AccessToken)
	to := knownRegion(claims.OUCode)
	if id, idOK := Inspect(a.IDToken); to == "" && idOK {
		to = knownRegion(id.OUCode)
	}
	switch {
	case to == "" || a.Kind == accounts.KindCustom:
		return c
	case !userKind(a):
		if a.Region == "" {
			c.To = to
		}
		return c
	case to != a.Region && a.Region != "" && regionFamily(to) != regionFamily(a.Region) && !trustFamily:
		c.Refused = fmt.Errorf("%w: the tokens say the account is in region %s, but it signs in at %s; log in again and let Tesla's sign-in page send keyfob to the right hosts",
			ErrRegionHosts, to, hostOf(a.Endpoints.TokenURL))
		return c
	}
	c.To = to
	if a.Kind == accounts.KindFleet && ok && (a.Audience != "" || to != a.Region) {
		// An empty audience is filled only when the region moves.
		c.ToAudience = regionBase(cmp.Or(a.Audience, teslaRegions[to].fleetAPI), a.Region, to, claims.Audience)
		c.ToAPIBase = regionBase(a.Endpoints.APIBaseURL, a.Region, to, nil)
	}
	return c
}

// regionBase is base, a Fleet API base URL of region from, moved to
// region to: one of Tesla's Fleet API hosts becomes the entry of aud (the
// token's audiences) whose host names the region (".eu."), else the
// region's preset; one of the sandbox's per-region bases (a loopback URL
// ending in /from) ends in /to instead; any other (a proxy of the user's
// own, or "") stays.
func regionBase(base, from, to string, aud []string) string {
	switch {
	case teslaFleetBase(base):
		for _, cand := range aud {
			if teslaFleetBase(cand) && strings.Contains(strings.ToLower(hostOf(cand)), "."+to+".") {
				return strings.TrimRight(cand, "/")
			}
		}
		return teslaRegions[to].fleetAPI
	case from != "" && LoopbackHost(hostOf(base)) && strings.HasSuffix(strings.TrimRight(base, "/"), "/"+from):
		return strings.TrimSuffix(strings.TrimRight(base, "/"), from) + to
	}
	return base
}

// MoveBase is base, the audience or API base of an account of region
// from, as it moves to region to: Tesla's Fleet API base becomes the
// region's, one of the sandbox's per-region addresses takes the region's
// path, and any other stays. The region correction and `keyfob edit
// --region` move the bases alike with it.
func MoveBase(base, from, to string) string { return regionBase(base, from, to, nil) }

// teslaFleetBase reports whether raw is one of Tesla's Fleet API base
// URLs: a bare https URL on one of Tesla's Fleet API hosts, by exact name
// (FleetAPIHost), as a token's aud may be trusted.
func teslaFleetBase(raw string) bool {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	return err == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && FleetAPIHost(raw)
}

// RegionOfBase is the Tesla region a Fleet API base URL serves: the region
// its host names (fleet-api.prd.eu.vn.cloud.tesla.com is eu), or the last
// path segment of one of the sandbox's loopback bases; "" when it names
// none.
func RegionOfBase(base string) string {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if teslaFleetBase(base) {
		for _, r := range Regions {
			if strings.Contains(strings.ToLower(hostOf(base)), "."+r+".") {
				return r
			}
		}
		return ""
	}
	if LoopbackHost(hostOf(base)) {
		return knownRegion(base[strings.LastIndex(base, "/")+1:])
	}
	return ""
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
	if a.Kind == accounts.KindFleet {
		a.Audience = regionBase(a.Audience, a.Region, region, nil)
		a.Endpoints.APIBaseURL = regionBase(a.Endpoints.APIBaseURL, a.Region, region, nil)
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
