//go:build unix

package serve

import "syscall"

// fdLimit is the process's descriptor limit (RLIMIT_NOFILE, soft), or 0
// when unknown. Go raises the soft limit to the hard one at start-up.
func fdLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
