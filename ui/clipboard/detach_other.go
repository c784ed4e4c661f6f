//go:build !unix && !windows

package clipboard

import "os/exec"

// detach does nothing where processes have no sessions to leave.
func detach(*exec.Cmd) {}
