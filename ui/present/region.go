package present

import (
	"github.com/keyfob/keyfob/oauth"
)

// RegionNote is a region change in a few words, for a toast: "region na →
// eu (its tokens say so), Fleet API address too". The command line prints
// the whole sentence (oauth.RegionChange.String).
func RegionNote(c oauth.RegionChange) (text string, tone Tone) {
	switch {
	case c.Refused != nil:
		return "its tokens name a region on Tesla's other sign-in hosts; keyfob did not move it", ToneWarn
	case !c.Changed():
		return "", ToneOK
	case c.From == "":
		return "region " + c.To + " (its tokens say so)", ToneOK
	case c.From == c.To:
		return "Fleet API address set to region " + c.To + "'s (its tokens say so)", ToneOK
	case c.FromAudience != c.ToAudience:
		return "region " + c.From + " → " + c.To + " (its tokens say so), Fleet API address too", ToneOK
	}
	return "region " + c.From + " → " + c.To + " (its tokens say so)", ToneOK
}
