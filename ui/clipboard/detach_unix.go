//go:build unix

package clipboard

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own, so that the terminal's hang-up
// and ctrl+c do not reach it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
