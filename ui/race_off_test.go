//go:build !race

package ui

// raceEnabled: the race detector inflates memory and randomises sync.Pool,
// so allocation and memory figures are not measured under it.
const raceEnabled = false
