//go:build !race

package accounts

// raceEnabled is set when the tests run with the race detector.
const raceEnabled = false
