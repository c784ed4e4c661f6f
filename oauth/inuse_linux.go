package oauth

import (
	"os"
	"strconv"
	"strings"
)

// portHolder finds the listening socket of port in the kernel's tables
// and the process that holds it among /proc's open files.
func portHolder(port int) string {
	inodes := listeningInodes(port)
	if len(inodes) == 0 {
		return ""
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return ""
	}
	for _, d := range procs {
		pid := d.Name()
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		fds, err := os.ReadDir("/proc/" + pid + "/fd")
		if err != nil {
			continue // another user's, or gone
		}
		for _, fd := range fds {
			link, err := os.Readlink("/proc/" + pid + "/fd/" + fd.Name())
			if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok && inodes[strings.TrimSuffix(inode, "]")] {
				comm, _ := os.ReadFile("/proc/" + pid + "/comm")
				name := cleanText(strings.TrimSpace(string(comm)), 40)
				if name == "" {
					return "pid " + pid
				}
				return "pid " + pid + " (" + name + ")"
			}
		}
	}
	return ""
}

// listeningInodes are the inodes of the sockets that listen on port, from
// /proc/net/tcp and /proc/net/tcp6 (local address in hex, state 0A is
// LISTEN, the inode in the tenth column).
func listeningInodes(port int) map[string]bool {
	out := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" {
				continue
			}
			i := strings.LastIndexByte(f[1], ':')
			if p, err := strconv.ParseUint(f[1][i+1:], 16, 16); err == nil && int(p) == port && f[9] != "0" {
				out[f[9]] = true
			}
		}
	}
	return out
}
