package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCommandCodePrefaulted: a process of the sandbox binary has the
// binary's code and constant data mapped whole from its start (prerun's
// prefault.c), not only the pages it ran through; the monitor, a binary
// of its own, keeps only what it touched (and sheds that when idle), which
// shows that the check can tell the two apart. Rootless tier.
func TestCommandCodePrefaulted(t *testing.T) {
	t.Parallel()
	waitPid, mon := waitingCommand(t)
	bin, err := filepath.EvalSymlinks(env.bin)
	if err != nil {
		t.Fatal(err)
	}
	// The hook runs before the Go runtime: once the runtime has started
	// threads, the binary is mapped as the hook left it.
	eventually(t, 10*time.Second, func() error {
		if n := threads(waitPid); n < 2 {
			return fmt.Errorf("sandbox wait (pid %d) has %d threads, want the Go runtime's", waitPid, n)
		}
		return nil
	})
	maps := readOnlyMappings(t, waitPid, bin)
	if len(maps) < 2 {
		t.Fatalf("sandbox wait: %d read-only mappings of %s, want its code and its constant data: %v", len(maps), bin, maps)
	}
	for _, m := range maps {
		if m.rss != m.size {
			t.Errorf("sandbox wait: mapping %s of %s has %d of its %d kB resident, want all", m.addr, bin, m.rss, m.size)
		}
	}

	// The monitor's binary is not populated: once it has shed its
	// start-up's pages (monitor.shedStartup), little of it is resident.
	monExe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", mon))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		var rss, size int
		for _, m := range readOnlyMappings(t, mon, monExe) {
			rss, size = rss+m.rss, size+m.size
		}
		if size == 0 || rss*2 > size {
			return fmt.Errorf("monitor %d: %d of %d kB of %s resident, want less than half: the check above would not tell populated from touched", mon, rss, size, monExe)
		}
		return nil
	})
}

// TestCommandHeapHugePages: a command of the sandbox binary has its heap
// backed by huge pages (internal/hugeheap, from its first package inits);
// the monitor, whose idle memory is a budget, has none. Rootless tier.
func TestCommandHeapHugePages(t *testing.T) {
	t.Parallel()
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skipf("no transparent huge pages on this kernel (%q, %v)", mode, err)
	}
	waitPid, mon := waitingCommand(t)
	// Its package inits have run once it opens its store: by then the
	// heap has taken a huge page.
	eventually(t, 10*time.Second, func() error {
		if n := anonHugeKB(t, waitPid); n < 2048 {
			return fmt.Errorf("sandbox wait (pid %d): AnonHugePages %d kB, want at least one huge page (2048 kB)", waitPid, n)
		}
		return nil
	})
	if n := anonHugeKB(t, mon); n != 0 {
		t.Errorf("monitor %d: AnonHugePages %d kB, want none", mon, n)
	}
}

// TestSysmonBatch: in a command of the sandbox binary and in a monitor,
// the Go runtime's sysmon (the first thread after the main one) runs
// under SCHED_BATCH (internal/batchsysmon) and the main thread does not.
// Rootless tier.
func TestSysmonBatch(t *testing.T) {
	t.Parallel()
	waitPid, mon := waitingCommand(t)
	for _, p := range []struct {
		what string
		pid  int
	}{{"sandbox wait", waitPid}, {"monitor", mon}} {
		eventually(t, 10*time.Second, func() error {
			tids, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.pid))
			if err != nil {
				return err
			}
			first := 0
			for _, e := range tids {
				tid, err := strconv.Atoi(e.Name())
				if err == nil && tid > p.pid && (first == 0 || tid < first) {
					first = tid
				}
			}
			if first == 0 {
				return fmt.Errorf("%s (pid %d): no thread after the main one", p.what, p.pid)
			}
			if pol := schedPolicy(t, p.pid, first); pol != 3 {
				return fmt.Errorf("%s (pid %d): thread %d (sysmon) has policy %d, want SCHED_BATCH (3)", p.what, p.pid, first, pol)
			}
			if pol := schedPolicy(t, p.pid, p.pid); pol != 0 {
				return fmt.Errorf("%s (pid %d): main thread has policy %d, want SCHED_OTHER (0)", p.what, p.pid, pol)
			}
			return nil
		})
	}
}

// schedPolicy is the scheduling policy of thread tid of process pid
// (field 41 of its stat).
func schedPolicy(t *testing.T, pid, tid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 39 {
		t.Fatalf("stat of %d/%d: %q", pid, tid, s)
	}
	p, err := strconv.Atoi(f[38])
	if err != nil {
		t.Fatalf("stat of %d/%d: %q: %v", pid, tid, s, err)
	}
	return p
}

// anonHugeKB is AnonHugePages of /proc/PID/smaps_rollup, in kB.
func anonHugeKB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("smaps_rollup of %d: %q: %v", pid, line, err)
			}
			return n
		}
	}
	t.Fatalf("smaps_rollup of %d has no AnonHugePages line", pid)
	return 0
}

// waitingCommand starts a detached container and a `sandbox wait` for
// it, and returns that command's pid and the container's monitor's; the
// command is killed when the test ends.
func waitingCommand(t *testing.T) (waitPid, monitor int) {
	t.Helper()
	id := detached(t, "--network", "none", "busybox", "sleep", "300")
	st := waitState(t, id, "running")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	wait := command(ctx, nil, "wait", id)
	if err := wait.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		wait.Process.Kill()
		wait.Wait()
		cancel()
	})
	mon, err := parentOf(strconv.Itoa(st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	return wait.Process.Pid, mon
}

// mappingUse is one mapping's size and resident size, in kB.
type mappingUse struct {
	addr      string
	size, rss int
}

// readOnlyMappings reads /proc/PID/smaps for the mappings of the file exe
// that are not writable.
func readOnlyMappings(t *testing.T, pid int, exe string) []mappingUse {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []mappingUse
	var cur *mappingUse
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			cur = nil
			if len(f) >= 6 && f[5] == exe && !strings.Contains(f[1], "w") {
				out = append(out, mappingUse{addr: f[0]})
				cur = &out[len(out)-1]
			}
			continue
		}
		if cur == nil || len(f) != 3 || f[2] != "kB" {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("smaps of %d: %q: %v", pid, sc.Text(), err)
		}
		switch f[0] {
		case "Size:":
			cur.size = n
		case "Rss:":
			cur.rss = n
		}
	}
	return out
}

// threads is the Threads: line of /proc/PID/status, 0 when unreadable.
func threads(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
