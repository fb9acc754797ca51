package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunEarlyMonitor: `sandbox run` starts its container's monitor from
// the pre-runtime hook (prerun's early.c), which tells it, in its
// environment, whether to clone the init before its options
// (_SANDBOX_EARLY_INIT=1, monitor.EarlyInit); the container is the same
// either way, and the monitor has the init as its only child: an early
// init that does not fit is gone. A run the hook leaves to Go (here
// --preserve-fds) has a monitor without that variable. Rootless tier.
func TestRunEarlyMonitor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		flags []string
		// early is the variable's value, "" for none (Go started it).
		early string
		// hostNet: the container shares the monitor's network namespace.
		hostNet bool
	}{
		{"default shape", []string{"--network", "none"}, "1", false},
		{"default network", nil, "1", false},
		{"terminal", []string{"-t", "--network", "none"}, "0", false},
		{"host network", []string{"--network", "host"}, "0", true},
		{"preserved descriptor", []string{"--preserve-fds", "1", "--network", "none"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"run", "-d"}, tc.flags...), "busybox", "sleep", "300")
			cmd := command(context.Background(), nil, args...)
			if slices.Contains(tc.flags, "--preserve-fds") {
				f, err := os.Open(os.DevNull)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.ExtraFiles = []*os.File{f}
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sandbox %s: %v", strings.Join(args, " "), err)
			}
			id := strings.TrimSpace(string(out))
			t.Cleanup(func() { sb(t, "rm", "-f", id) })
			pid := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.Pid}}", id))
			mon, err := parentOf(pid)
			if err != nil {
				t.Fatal(err)
			}
			env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", mon))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, kv := range strings.Split(string(env), "\x00") {
				if v, found := strings.CutPrefix(kv, "_SANDBOX_EARLY_INIT="); found {
					got = v
				}
			}
			if got != tc.early {
				t.Errorf("monitor %d: _SANDBOX_EARLY_INIT=%q, want %q", mon, got, tc.early)
			}
			// Its children: the init, and the network's helper (slirp4netns
			// or pasta) for the default network; no second init.
			eventually(t, 5*time.Second, func() error {
				kids, err := childrenOf(mon)
				if err != nil {
					return err
				}
				for _, k := range kids {
					if strconv.Itoa(k) == pid {
						continue
					}
					comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", k))
					if c := strings.TrimSpace(string(comm)); c != "slirp4netns" && c != "pasta" && c != "passt" {
						return fmt.Errorf("monitor %d has child %d (%s) besides the init %s", mon, k, c, pid)
					}
				}
				if !slices.Contains(kids, mustAtoi(t, pid)) {
					return fmt.Errorf("the init %s is not a child of monitor %d (%v)", pid, mon, kids)
				}
				return nil
			})
			initNet, err := os.Readlink(filepath.Join("/proc", pid, "ns", "net"))
			if err != nil {
				t.Fatal(err)
			}
			monNet, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", mon))
			if err != nil {
				t.Fatal(err)
			}
			if (initNet == monNet) != tc.hostNet {
				t.Errorf("container's network namespace %s, monitor's %s: shared %t, want %t", initNet, monNet, initNet == monNet, tc.hostNet)
			}
			if got := strings.TrimSpace(ok(t, "exec", id, "echo", "in")); got != "in" {
				t.Errorf("exec printed %q", got)
			}
		})
	}
}

// TestRunEarlyMonitorForeground: a foreground run through the monitor the
// hook started returns the container's status and output, and a run that
// fails after the hook started its monitor leaves no monitor. Rootless
// tier.
func TestRunEarlyMonitorForeground(t *testing.T) {
	r := sb(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7")
	if r.code != 7 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("%s\nwant exit 7, out, err", r)
	}
	before := monitorPids()
	fails(t, 125, []string{"nosuch/image:1"}, "run", "--rm", "--pull=never", "nosuch/image:1", "true")
	if r := sb(t, "run", "--no-such-flag", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "--no-such-flag") {
		t.Errorf("%s\nwant exit 125 naming --no-such-flag", r)
	}
	noMonitorsLeft(t, before)
}

// parentOf is the parent of process pid.
func parentOf(pid string) (int, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid ...: comm may hold spaces, not ")".
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 2 {
		return 0, fmt.Errorf("/proc/%s/stat: %q", pid, stat)
	}
	return strconv.Atoi(fields[1])
}

// childrenOf lists the children of process pid, from every thread.
func childrenOf(pid int) ([]int, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(s); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids, nil
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
