package accounts

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// idLen is the length of the ids newID makes: 4 random bytes in hex.
const idLen = 8

// MaxNameLength is the longest account name, in characters.
const MaxNameLength = 64

// ValidID reports whether id has the form of the ids keyfob makes: eight
// lowercase hexadecimal digits. Lock files are named after ids, so a store
// holding any other id is refused rather than used to name files.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// randomID makes an id: idLen/2 random bytes in hex. Stores check that
// no account has it yet (see tx.newID).
func randomID() string {
	var b [idLen / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidateName checks an account name as the user gives it: not blank, at
// most MaxNameLength characters, valid UTF-8 and no control characters
// (which a terminal would act on). The error is a *NameError.
func ValidateName(name string) error {
	if strings.TrimSpace(name) == "" {
		return &NameError{Name: name, Problem: "is blank"}
	}
	if !utf8.ValidString(name) {
		return &NameError{Name: name, Problem: "is not valid UTF-8 text"}
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return &NameError{Name: name, Problem: fmt.Sprintf("is %d characters long, over the limit of %d", n, MaxNameLength)}
	}
	for _, r := range name {
		if controlRune(r) {
			return &NameError{Name: name, Problem: fmt.Sprintf("contains the control character %U", r)}
		}
	}
	return nil
}

// controlRune reports characters that have no place in a name: control
// characters (escape sequences start with one), line and paragraph
// separators, and the invisible marks that reorder text on screen.
func controlRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

// defaultName derives a name for an account that was given none: the
// local part of its email (which comes from the server, so it is cleaned
// to a valid name), else its kind and region.
func defaultName(a Account) string {
	if at := strings.IndexByte(a.Email, '@'); at > 0 {
		local := strings.Map(func(r rune) rune {
			if r == utf8.RuneError || controlRune(r) {
				return -1
			}
			return r
		}, a.Email[:at])
		// Room for the "-N" that uniqueName may add.
		if r := []rune(strings.TrimSpace(local)); len(r) > 0 {
			return string(r[:min(len(r), MaxNameLength-8)])
		}
	}
	if a.Region != "" {
		return string(a.Kind) + "-" + a.Region
	}
	if a.Kind == "" {
		return "account"
	}
	return string(a.Kind)
}

// uniqueName is base, or base-2, base-3 … whichever no account has.
func uniqueName(t tx, base string) (string, error) { return uniqueNameFor(t, base, "") }

// uniqueNameFor is uniqueName for the account with id, which may keep a
// name it has.
func uniqueNameFor(t tx, base, id string) (string, error) {
	name := base
	for n := 2; ; n++ {
		other, taken, err := t.byName(name)
		if err != nil || !taken || (id != "" && other.ID == id) {
			return name, err
		}
		name = numberedName(base, n)
	}
}

// numberedName is base-n, base cut short when need be so that the name
// stays within MaxNameLength characters: a name given in full (a renamed
// account, an older store's) can be numbered too.
func numberedName(base string, n int) string {
	suffix := fmt.Sprintf("-%d", n)
	if r := []rune(base); len(r)+len(suffix) > MaxNameLength {
		base = strings.TrimSpace(string(r[:MaxNameLength-len(suffix)]))
	}
	return base + suffix
}
