package present

import (
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"driver@example.com", "driver@example.com"},
		{"evil\x1b]0;pwned\x07@example.com\x1b[2J", "evil@example.com"},
		{"red\x1b[31mtext\x1b[0m", "redtext"},
		{"two\nlines\tand\rcr", "two lines and cr"},
		{"c1\u009b2Jcsi", "c1 2Jcsi"},
		{"bidi\u202eevil", "bidi evil"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"naïve café", "naïve café"},
		{"del\x7fchar", "del char"},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := OneLine("  a \n\n b\x1b[2J  "); got != "a b" {
		t.Errorf("OneLine = %q", got)
	}
}

func TestCountdown(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{9 * time.Second, "9s"},
		{41*time.Minute + 9*time.Second, "41m 09s"},
		{7*time.Hour + 41*time.Minute + 9*time.Second, "7h 41m 09s"},
		{44*24*time.Hour + 23*time.Hour + 59*time.Minute, "44d 23h 59m"},
	} {
		if got := Countdown(tc.d); got != tc.want {
			t.Errorf("Countdown(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestApproxAndDelay(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:             "less than a minute",
		time.Minute:                  "1 minute",
		4*time.Hour + 48*time.Minute: "4h 48m",
		2 * time.Hour:                "2 hours",
		12 * 24 * time.Hour:          "12 days",
		-90 * 24 * time.Hour:         "3 months",
	} {
		if got := Approx(d); got != want {
			t.Errorf("Approx(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{30 * time.Second: "30 s", 2 * time.Minute: "2 min", 90 * time.Second: "1m30s"} {
		if got := Delay(d); got != want {
			t.Errorf("Delay(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	failed := &accounts.RefreshResult{At: now, Error: "server\x1b[2J down"}
	for _, tc := range []struct {
		name string
		a    accounts.Account
		want string
		tone Tone
	}{
		{"valid", accounts.Account{AccessToken: "t", Expiry: now.Add(8 * time.Hour)}, "✓ valid", ToneOK},
		{"expiring", accounts.Account{AccessToken: "t", Expiry: now.Add(30 * time.Minute)}, "! expiring", ToneWarn},
		{"expired", accounts.Account{AccessToken: "t", Expiry: now.Add(-time.Minute)}, "✗ expired", ToneDanger},
		{"refresh failed", accounts.Account{AccessToken: "t", Expiry: now.Add(time.Hour * 2), LastRefresh: failed}, "! refresh failed: server down", ToneWarn},
		{"error", accounts.Account{State: accounts.StateError, StateDetail: "boom\nagain"}, "✗ error: boom again", ToneDanger},
		{"login required", accounts.Account{State: accounts.StateLoginRequired}, "⊗ login required", ToneDanger},
		{"revoked", accounts.Account{State: accounts.StateRevoked}, "⊘ revoked", ToneMuted},
		// The refresh token's estimated end, at the boundary and against the
		// other warnings.
		{"refresh ending", accounts.Account{AccessToken: "t", Expiry: now.Add(8 * time.Hour), RefreshToken: "r",
			RefreshObtainedAt: ending(now, -time.Hour)}, "! refresh ending", ToneWarn},
		{"refresh not ending yet", accounts.Account{AccessToken: "t", Expiry: now.Add(8 * time.Hour), RefreshToken: "r",
			RefreshObtainedAt: ending(now, time.Hour)}, "✓ valid", ToneOK},
		{"refresh ending beats expiring", accounts.Account{AccessToken: "t", Expiry: now.Add(30 * time.Minute), RefreshToken: "r",
			RefreshObtainedAt: ending(now, -time.Hour)}, "! refresh ending", ToneWarn},
		{"refresh failed beats refresh ending", accounts.Account{AccessToken: "t", Expiry: now.Add(2 * time.Hour), RefreshToken: "r",
			RefreshObtainedAt: ending(now, -time.Hour), LastRefresh: failed}, "! refresh failed: server down", ToneWarn},
		{"expired beats refresh ending", accounts.Account{AccessToken: "t", Expiry: now.Add(-time.Minute), RefreshToken: "r",
			RefreshObtainedAt: ending(now, -time.Hour)}, "✗ expired", ToneDanger},
	} {
		s := StatusOf(&tc.a, now)
		if s.String() != tc.want || s.Tone != tc.tone {
			t.Errorf("%s: StatusOf = %q (tone %d), want %q (tone %d)", tc.name, s, s.Tone, tc.want, tc.tone)
		}
	}
}

func TestExpiresInAndSummary(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	a := accounts.Account{Name: "home", Email: "x\x1b[31m@y.z", Kind: accounts.KindFleet, Region: "na",
		AccessToken: "t", Expiry: now.Add(7*time.Hour + 41*time.Minute), GrantedScopes: []string{"openid", "vehicle\ncmds"}}
	if got := ExpiresIn(&a, now); got != "in 7h 41m" {
		t.Errorf("ExpiresIn = %q", got)
	}
	want := "home <x@y.z> (fleet/na): access token in 7h 41m; scopes openid vehicle cmds"
	if got := Summary(&a, now); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got := ShortScopes([]string{"openid", "offline_access", "vehicle_cmds", "user_data", "vehicle_device_data"}, 3); got != "vehicle_device_data,vehicle_cmds,user_data +2" {
		t.Errorf("ShortScopes = %q", got)
	}
}

// ending is when a refresh token was obtained whose estimated end is
// accounts.RefreshEndingWithin+d after now.
func ending(now time.Time, d time.Duration) time.Time {
	return now.Add(-accounts.RefreshTokenLifetime + accounts.RefreshEndingWithin + d)
}
