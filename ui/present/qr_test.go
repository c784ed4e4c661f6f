package present

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keyfob/keyfob/ui/present/qrtest"
)

func TestQRDecodesBack(t *testing.T) {
	for _, tc := range []struct {
		text  string
		quiet int
	}{
		{"https://tesla.com/_ak/app.example.com", 4},
		{"https://tesla.com/_ak/app.example.com", 2},
		{"https://tesla.com/_ak/a-rather-longer-subdomain.of-a-home-lab.example.org", 2},
	} {
		lines, err := QR(tc.text, tc.quiet)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range lines {
			if utf8.RuneCountInString(l) != utf8.RuneCountInString(lines[0]) {
				t.Fatalf("line %d is not as wide as the first", i)
			}
		}
		if got, err := qrtest.Decode(lines); err != nil || got != tc.text {
			t.Fatalf("decoded %q (%v), want %q\n%s", got, err, tc.text, strings.Join(lines, "\n"))
		}
	}
}

// TestQRFitsTheDetailScreen: the pairing link of a domain of up to 40
// characters fits 80×24 with the lines around it.
func TestQRFitsTheDetailScreen(t *testing.T) {
	lines, err := QR("https://tesla.com/_ak/"+strings.Repeat("d", 36)+".com", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) > 19 || utf8.RuneCountInString(lines[0]) > 40 {
		t.Fatalf("%d lines of %d", len(lines), utf8.RuneCountInString(lines[0]))
	}
}
