package present

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// PasteHelp says where to find the address to paste: a web address is in
// the address bar; a tesla:// one only in the browser's developer tools,
// caught before signing in, for each browser, and every form keyfob reads
// is named. Outside text (the redirect) is cleaned.
func TestPasteHelp(t *testing.T) {
	web := PasteHelp("https://app.example.com/callback")
	if len(web) != 2 || !strings.Contains(web[0], "https://app.example.com/callback") || !strings.Contains(web[1], "address bar") {
		t.Fatalf("a web redirect: %q", web)
	}
	tesla := strings.Join(PasteHelp("tesla://auth/callback"), "\n")
	for _, want := range []string{
		"Browsers cannot open tesla:// addresses", "before signing in",
		"Chrome or Edge", "Console", "Failed to launch 'tesla://…' because the scheme does not have a registered handler.",
		"Preserve log", "Request URL", "location", "Firefox", "Safari", "uncertain",
		"the address alone", "code=…&state=…", "just the code",
	} {
		if !strings.Contains(tesla, want) {
			t.Errorf("the tesla:// help lacks %q:\n%s", want, tesla)
		}
	}
	if got := PasteHelp("myapp://cb"); !strings.Contains(got[0], "myapp://") {
		t.Errorf("another scheme is named as it is: %q", got[0])
	}
	for _, l := range PasteHelp("https://evil.example/\x1b]0;pwned\x07cb\nsecond") {
		if strings.ContainsAny(l, "\x1b\x07\n") {
			t.Errorf("a control character reached the help: %q", l)
		}
	}
}

// The detail view marks the scopes Tesla is not known to grant to
// third-party tokens, for the accounts whose tokens are third-party.
func TestScopeLineMarksUnconfirmedScopes(t *testing.T) {
	const mark = "(unconfirmed for third-party tokens)"
	for _, k := range []accounts.Kind{accounts.KindFleet, accounts.KindOwner} {
		if got := ScopeLine(k, "vehicle_specs"); !strings.HasSuffix(got, mark) || !strings.HasPrefix(got, "Vehicle specs — ") {
			t.Errorf("%s vehicle_specs: %q", k, got)
		}
		if got := ScopeLine(k, "vehicle_cmds"); strings.Contains(got, mark) {
			t.Errorf("%s vehicle_cmds: %q", k, got)
		}
	}
	if got := ScopeLine(accounts.KindPartner, "vehicle_specs"); strings.Contains(got, mark) {
		t.Errorf("a partner token's vehicle_specs: %q", got)
	}
}

func TestRegionNote(t *testing.T) {
	for _, tc := range []struct {
		c    oauth.RegionChange
		want string
		tone Tone
	}{
		{oauth.RegionChange{}, "", ToneOK},
		{oauth.RegionChange{From: "na", To: "eu", FromAudience: "a", ToAudience: "a"}, "region na → eu (its tokens say so)", ToneOK},
		{oauth.RegionChange{From: "na", To: "eu", FromAudience: "a", ToAudience: "b"}, "region na → eu (its tokens say so), Fleet API address too", ToneOK},
		{oauth.RegionChange{To: "eu"}, "region eu (its tokens say so)", ToneOK},
		{oauth.RegionChange{From: "eu", To: "eu", FromAudience: "na", ToAudience: "eu"}, "Fleet API address set to region eu's (its tokens say so)", ToneOK},
		{oauth.RegionChange{From: "cn", To: "cn", Refused: errors.New("x")}, "its tokens name a region on Tesla's other sign-in hosts; keyfob did not move it", ToneWarn},
	} {
		if got, tone := RegionNote(tc.c); got != tc.want || tone != tc.tone {
			t.Errorf("%+v: %q %v", tc.c, got, tone)
		}
	}
}

func TestFieldLabel(t *testing.T) {
	for f, want := range map[oauth.Field]string{
		oauth.FieldTokenURL: "Token URL", oauth.FieldClientID: "Client ID", oauth.FieldName: "Name",
		oauth.FieldRegion: "Region", oauth.FieldAudience: "Audience", oauth.FieldBaseURL: "Owner API",
	} {
		if got := FieldLabel(f); got != want {
			t.Errorf("%s: %q, want %q", f, got, want)
		}
	}
}
