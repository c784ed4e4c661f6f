package oauth

import "github.com/keyfob/keyfob/accounts"

// RegionChangeOf is how a refresh moved an account (before → after) to
// another region or audience, as its new token said, or which move keyfob
// refused (Refused: the token names a region on Tesla's other hosts). It is
// zero when nothing changed. Both faces word it with present.RegionNote.
func RegionChangeOf(before, after accounts.Account) RegionChange {
	c := RegionChange{From: before.Region, To: after.Region, FromAudience: before.Audience, ToAudience: after.Audience,
		FromAPIBase: before.Endpoints.APIBaseURL, ToAPIBase: after.Endpoints.APIBaseURL}
	if check := RegionCheck(after); check.Refused != nil {
		c.Refused = check.Refused
	}
	if !c.Changed() {
		return RegionChange{}
	}
	return c
}
