package present

import (
	"fmt"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QR draws text as a QR code in half-block characters, two rows of
// modules per line, with a quiet zone of quiet modules around it. Light
// modules (the quiet zone included) are drawn as blocks and dark ones as
// blanks, so on a dark terminal it reads as a QR code should, dark on
// light; the TUI also paints it light on dark, which makes it right on a
// light terminal. Error correction is low: a screen does not smudge, and
// a smaller code fits 80×24.
func QR(text string, quiet int) ([]string, error) {
	q, err := qrcode.New(text, qrcode.Low)
	if err != nil {
		return nil, fmt.Errorf("cannot make a QR code of %q: %w", text, err)
	}
	q.DisableBorder = true
	bm := q.Bitmap() // true: a dark module
	n := len(bm) + 2*quiet
	dark := func(row, col int) bool {
		row, col = row-quiet, col-quiet
		return row >= 0 && col >= 0 && row < len(bm) && col < len(bm) && bm[row][col]
	}
	lines := make([]string, 0, (n+1)/2)
	var b strings.Builder
	for row := 0; row < n; row += 2 {
		b.Reset()
		for col := range n {
			top, bottom := !dark(row, col), row+1 >= n || !dark(row+1, col)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		lines = append(lines, b.String())
	}
	return lines, nil
}
