// Package qrtest reads back the QR codes keyfob draws in half blocks, with
// a QR decoder that knows nothing of keyfob, as a phone's camera would.
// Only tests import it.
package qrtest

import (
	"errors"
	"image"
	"image/color"
	"strings"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Decode finds the code among lines of text (a whole screen will do: the
// code is the block of lines holding half blocks, cut to the columns
// between its first and last block), draws it as an image, a block light
// and a blank dark, two modules a character, and decodes it.
func Decode(screen []string) (string, error) {
	code := crop(screen)
	if len(code) == 0 {
		return "", errors.New("no QR code on the screen")
	}
	const scale = 6
	w := len(code[0])
	img := image.NewGray(image.Rect(0, 0, w*scale, len(code)*2*scale))
	for y, line := range code {
		for x, r := range line {
			top, bottom := strings.ContainsRune("█▀", r), strings.ContainsRune("█▄", r)
			for dy := range 2 * scale {
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
		return "", err
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// crop keeps the lines that hold half blocks, from the first column any
// of them starts a block in to the last it ends one in.
func crop(screen []string) [][]rune {
	var rows [][]rune
	from, to := -1, -1
	for _, l := range screen {
		r := []rune(l)
		first := strings.IndexFunc(l, isBlock)
		if first < 0 {
			if len(rows) > 0 {
				break
			}
			continue
		}
		f := utf8.RuneCountInString(l[:first])
		last := len(r) - 1
		for last >= 0 && !isBlock(r[last]) {
			last--
		}
		if from < 0 || f < from {
			from = f
		}
		to = max(to, last)
		rows = append(rows, r)
	}
	var out [][]rune
	for _, r := range rows {
		line := make([]rune, to-from+1)
		for i := range line {
			line[i] = ' '
			if from+i < len(r) {
				line[i] = r[from+i]
			}
		}
		out = append(out, line)
	}
	return out
}

func isBlock(r rune) bool { return r == '█' || r == '▀' || r == '▄' }
