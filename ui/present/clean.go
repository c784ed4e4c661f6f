package present

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Clean makes text that did not come from keyfob itself (names, emails,
// scopes, claims, server messages) safe to put on a terminal: escape
// sequences are removed whole, and every other control character,
// including line breaks, becomes a space, as do the invisible marks that
// reorder text (bidirectional overrides). Invalid UTF-8 becomes U+FFFD.
// JSON output needs none of this and never gets it.
func Clean(s string) string {
	if printableASCII(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.ContainsAny(s, "\x1b\u009b\u009d\u0090") {
		s = ansi.Strip(s)
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidiControl(r) {
			return ' '
		}
		return r
	}, s)
}

// OneLine is Clean with every run of white space folded into one space and
// the ends trimmed, for a status cell or a message.
func OneLine(s string) string {
	s = Clean(s)
	if !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// printableASCII reports whether s holds nothing but printable ASCII, the
// common case, which needs no cleaning.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// isBidiControl reports the marks that change the order in which text is
// shown, which can make a name or address read as something it is not.
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// Sentence is s in one line, cleaned, with its first letter made upper
// case, to start a sentence: "no browser could be opened: …" becomes
// "No browser could be opened: …".
func Sentence(s string) string {
	s = OneLine(s)
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}
