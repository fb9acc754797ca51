package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The CPU time of a whole start: every process a tool starts for one
// container (sandbox's command, monitor, init and clean-up; podman's
// command, conmon, runc and its clean-up command), wherever it went. The
// bench runs each sample through itself in the reaper role (argv[1] ==
// reaperRole): a child subreaper, which adopts every process of the sample
// that its parent leaves behind (a monitor in a session of its own, a
// daemonized conmon) and reaps it, so that the kernel adds its CPU time
// to the reaper's children's; the reaper reports on fd 3 the wall time
// until its own child's exit status, and, once every descendant has been
// reaped, their CPU time and how many processes ended. A process still
// alive when the sample is done (a keeper or pause process started by a
// cold start) is waited for only in waitAll mode.

// reaperRole is argv[1] of the bench in the reaper role:
// bench reaperRole WAIT-ALL ARGV...
const reaperRole = "-reaper-role"

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER of prctl(2), which package
// syscall does not name.
const prSetChildSubreaper = 36

// outlive is how long the processes of a sample may outlive it.
const outlive = 10 * time.Second

// reaped is one sample run by the reaper.
type reaped struct {
	wall time.Duration // fork of the command to its exit status
	cpu  time.Duration // user+system of every descendant reaped; 0 unless waitAll
	// procs counts the processes reaped by the reaper itself (its child
	// and the orphans it adopted), not those their parents reaped.
	procs int
}

// reaperMain is the reaper role; it exits.
func reaperMain(args []string) {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "bench reaper: WAIT-ALL ARGV...")
		os.Exit(2)
	}
	waitAll := args[0] == "1"
	out := os.NewFile(3, "result")
	if _, _, err := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); err != 0 {
		fmt.Fprintf(os.Stderr, "bench reaper: PR_SET_CHILD_SUBREAPER: %v\n", err)
		os.Exit(2)
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "bench reaper: %v\n", err)
		os.Exit(2)
	}
	code := 0
	procs := 0
	var ws syscall.WaitStatus
	for {
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench reaper: wait: %v\n", err)
			os.Exit(2)
		}
		procs++
		if pid == cmd.Process.Pid {
			if ws.ExitStatus() != 0 || ws.Signaled() {
				code = 1
			}
			break
		}
	}
	wall := time.Since(start)
	if waitAll {
		done := make(chan error, 1)
		go func() {
			for {
				_, err := syscall.Wait4(-1, &ws, 0, nil)
				if errors.Is(err, syscall.EINTR) {
					continue
				}
				if errors.Is(err, syscall.ECHILD) {
					done <- nil
					return
				}
				if err != nil {
					done <- err
					return
				}
				procs++
			}
		}()
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench reaper: wait: %v\n", err)
				os.Exit(2)
			}
		case <-time.After(outlive):
			// A process that stays (a keeper started by this sample) would
			// hold the figure for ever.
			fmt.Fprintf(os.Stderr, "bench reaper: a process of the sample still runs %s after it: its CPU time cannot be measured (is the tool's per-user process started by the sample?)\n", outlive)
			os.Exit(2)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		fmt.Fprintf(os.Stderr, "bench reaper: getrusage: %v\n", err)
		os.Exit(2)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if !waitAll {
		cpu = 0
	}
	if _, err := fmt.Fprintf(out, "%d %d %d\n", wall.Nanoseconds(), cpu.Nanoseconds(), procs); err != nil {
		os.Exit(2)
	}
	os.Exit(code)
}

// reap runs argv under the reaper (this binary in its reaper role) and
// returns what it measured; with waitAll, only once every process argv
// started has ended.
func reap(argv []string, waitAll bool) (reaped, error) {
	self, err := os.Executable()
	if err != nil {
		return reaped{}, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return reaped{}, err
	}
	defer r.Close()
	flag := "0"
	if waitAll {
		flag = "1"
	}
	cmd := exec.Command(self, append([]string{reaperRole, flag}, argv...)...)
	var outBuf strings.Builder
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return reaped{}, err
	}
	var line strings.Builder
	buf := make([]byte, 128)
	for {
		n, rerr := r.Read(buf)
		line.Write(buf[:n])
		if rerr != nil {
			break
		}
	}
	werr := cmd.Wait()
	if werr != nil {
		return reaped{}, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), werr, strings.TrimSpace(outBuf.String()))
	}
	return parseReaped(line.String())
}

// parseReaped parses the reaper's report: "WALL-NS CPU-NS PROCS\n".
func parseReaped(s string) (reaped, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return reaped{}, fmt.Errorf("reaper's report %q: want 3 fields", s)
	}
	var v [3]int64
	for i, x := range f {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil || n < 0 {
			return reaped{}, fmt.Errorf("reaper's report %q: field %d is not a count", s, i+1)
		}
		v[i] = n
	}
	return reaped{wall: time.Duration(v[0]), cpu: time.Duration(v[1]), procs: int(v[2])}, nil
}
