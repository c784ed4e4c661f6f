//go:build !unix

package serve

// fdLimit is 0, unknown: Windows has no descriptor limit of this kind.
func fdLimit() int { return 0 }
