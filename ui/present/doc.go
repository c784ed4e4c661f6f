// Package present is how keyfob words and classifies what it shows, for
// both of its faces: durations and countdowns, an account's status with its
// symbol and tone, expiry texts, kind and region titles, scope names and
// their order, and the cleaning of text that came from outside keyfob.
//
// The command line prints these strings as they are; the TUI colours them
// by Tone. Neither face words any of this on its own, so `keyfob list` and
// the TUI cannot disagree. The package imports no UI library.
package present
