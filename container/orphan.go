package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sandbox/internal/lockfile"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// statusUnknown is a container whose state cannot be read (its state file
// garbage, or its run directory gone while its monitor runs): ps lists it
// as "unknown", with why, and rm -f removes it.
const statusUnknown = "unknown"

// unknownState is the state of a container whose state file cannot be
// read or is gone: unknown while a monitor of its run directory lives,
// else nil (the caller treats it as exited).
func unknownState(c *Container, why error) *spec.State {
	if len(monitorsOf(c.RunDir)) == 0 {
		return nil
	}
	return &spec.State{Status: statusUnknown, ExitCode: -1, Error: why.Error()}
}

// monitorsOf finds the monitors of a run directory by their command line
// ("sandbox-monitor monitor RUNDIR"), for when the state that names them
// is lost.
func monitorsOf(runDir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := "monitor\x00" + runDir + "\x00"
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(data), want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killOrphaned kills what runs of a container whose state is lost: each
// monitor of its run directory, and first the monitor's children (the
// init, whose end ends its pid namespace, and the network helpers).
func killOrphaned(runDir string) error {
	var errs []error
	for _, pid := range monitorsOf(runDir) {
		for _, child := range children(pid) {
			if err := unix.Kill(child, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("kill pid %d: %w", child, err))
			}
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("kill monitor %d: %w", pid, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// SIGKILL is delivered, not yet done: wait until they have ended (a
	// zombie has no command line, and so is not found).
	for deadline := time.Now().Add(10 * time.Second); len(monitorsOf(runDir)) > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the monitor of %s still runs 10s after SIGKILL", runDir)
		}
	}
	return nil
}

// children lists a process's children (from every thread's list).
func children(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		data, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// lockOp takes a container's operation lock, which start holds until the
// container runs (or has failed to) and rm holds while it removes: an
// rm -f during a start then removes the container the start has started,
// and a start after it finds the container gone, instead of each pulling
// the container from under the other. The lock (flock) goes with its
// process; the caller reads the container's state again once it holds it.
func lockOp(c *Container) (*lockfile.Lock, error) {
	if err := os.MkdirAll(c.RunDir, 0o700); err != nil {
		return nil, err
	}
	return lockfile.Acquire(filepath.Join(c.RunDir, "op.lock"))
}
