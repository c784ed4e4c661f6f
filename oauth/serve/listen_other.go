//go:build !unix

package serve

// withPrivateUmask runs fn: there is no umask outside Unix, and a socket
// file is private through its directory's access lists.
func withPrivateUmask(fn func() error) error { return fn() }

// makePrivate does nothing: Windows has no mode bits for a socket.
func makePrivate(string) error { return nil }
