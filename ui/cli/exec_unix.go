//go:build unix

package cli

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// execSignals are the signals keyfob exec catches while CMD runs.
var execSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2,
}

// forwardSignal passes sig on to p, except a SIGINT or SIGQUIT while keyfob
// is in its terminal's foreground process group: the terminal sends those
// (ctrl+c, ctrl+\) to the whole group, CMD included, so passing them on
// would deliver them twice. CMD stays in keyfob's group so that it can
// read the terminal and gets ctrl+z like any foreground program; the cost
// is that a `kill -INT` aimed at keyfob alone, while it is in the
// foreground, reaches only keyfob.
func forwardSignal(p *os.Process, sig os.Signal) {
	if (sig == syscall.SIGINT || sig == syscall.SIGQUIT) && inForeground() {
		return
	}
	_ = p.Signal(sig)
}

// inForeground reports whether keyfob's process group is the foreground
// group of its controlling terminal. Without one (a service, cron, setsid)
// no terminal sends signals, and every one is passed on.
func inForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// exitCodeOf is CMD's exit code, 128+N when signal N killed it (as shells
// report it).
func exitCodeOf(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// sameEnvName compares variable names as the system does: exactly.
func sameEnvName(a, b string) bool { return a == b }

// execLockOpenFlag opens the lock file of another exec's token directory
// to test its lock: read-only, never through a symlink.
const execLockOpenFlag = os.O_RDONLY | syscall.O_NOFOLLOW

// ownedByUser reports whether fi is the current user's: a sweep of a
// shared temporary directory (keyfob run as root) leaves others' alone.
func ownedByUser(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
