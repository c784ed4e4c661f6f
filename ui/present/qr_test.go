package present

import (
	"image"
	"image/color"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decodeHalfBlocks reads a QR code drawn by QR back with a decoder that
// knows nothing of keyfob, as a phone's camera would: every character is
// two modules, a block light, a blank dark.
func decodeHalfBlocks(t *testing.T, lines []string) string {
	t.Helper()
	const scale = 6
	w := utf8.RuneCountInString(lines[0])
	img := image.NewGray(image.Rect(0, 0, w*scale, len(lines)*2*scale))
	for y, line := range lines {
		if utf8.RuneCountInString(line) != w {
			t.Fatalf("line %d is %d wide, not %d", y, utf8.RuneCountInString(line), w)
		}
		for x, r := range []rune(line) {
			var top, bottom bool // light
			switch r {
			case '█':
				top, bottom = true, true
			case '▀':
				top = true
			case '▄':
				bottom = true
			case ' ':
			default:
				t.Fatalf("unexpected %q in the code", r)
			}
			for dy := range scale * 2 {
				light := top
				if dy >= scale {
					light = bottom
				}
				c := color.Gray{0}
				if light {
					c = color.Gray{255}
				}
				for dx := range scale {
					img.SetGray(x*scale+dx, y*2*scale+dy, c)
				}
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the drawn code does not decode: %v\n%s", err, strings.Join(lines, "\n"))
	}
	return res.GetText()
}

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
		if got := decodeHalfBlocks(t, lines); got != tc.text {
			t.Fatalf("decoded %q, want %q", got, tc.text)
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
