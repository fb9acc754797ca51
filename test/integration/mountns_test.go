package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The init lends its monitor the container's mount namespace
// (nsinit.lendMountNS), so that the kernel unmounts the container's file
// systems when the monitor lets go of it, after the exit status is out,
// rather than before the monitor hears of the exit. The monitor holds the
// namespace of the container's current process only: after a restart,
// the new one.
func TestMonitorHoldsMountNamespace(t *testing.T) {
	id := strings.TrimSpace(ok(t, "run", "-d", "--network", "none", "--restart", "on-failure",
		"busybox", "sh", "-c", "sleep 2; exit 3"))
	t.Cleanup(func() { sb(t, "rm", "-f", id) })
	first := ""
	eventually(t, 10*time.Second, func() error {
		var err error
		first, err = heldMountNS(t, id)
		return err
	})
	// After the exit and the restart, the monitor holds the new process's
	// namespace and no longer the old one's.
	eventually(t, 15*time.Second, func() error {
		ns, err := heldMountNS(t, id)
		if err != nil {
			return err
		}
		if ns == first {
			return fmt.Errorf("still the first process's namespace %s (no restart yet?)", ns)
		}
		return nil
	})
}

// heldMountNS checks that the monitor of the running container id holds
// exactly one mount namespace, the container's process's, and returns it.
func heldMountNS(t *testing.T, id string) (string, error) {
	t.Helper()
	pid := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.Pid}}", id))
	if pid == "" || pid == "0" {
		return "", fmt.Errorf("container %.12s not running (pid %q)", id, pid)
	}
	ns, err := os.Readlink(filepath.Join("/proc", pid, "ns", "mnt"))
	if err != nil {
		return "", err
	}
	stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return "", err
	}
	// pid (comm) state ppid ...: comm may hold spaces, not ")".
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return "", fmt.Errorf("/proc/%s/stat: %q", pid, stat)
	}
	monitor, err := strconv.Atoi(fields[1])
	if err != nil {
		return "", err
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", monitor)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return "", err
	}
	var held []string
	for _, e := range entries {
		if l, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && strings.HasPrefix(l, "mnt:") {
			held = append(held, l)
		}
	}
	if len(held) != 1 || held[0] != ns {
		return "", fmt.Errorf("monitor %d holds mount namespaces %q, want only the container's %s", monitor, held, ns)
	}
	return ns, nil
}
