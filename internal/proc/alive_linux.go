package proc

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// Alive reports whether pid is the process that started at start and has
// not ended, in the kernel's words: a pidfd of the process turns readable
// once every thread of it has exited, and not before.
//
// /proc alone cannot say it exactly. While a thread other than the leader
// runs execve (a Go program's syscall.Exec runs on whichever thread its
// goroutine is on: a monitor becoming its cleanup), the kernel ends the
// leader first, which then reads 'Z', and a moment later the executing
// thread takes over the leader's pid, its own entry in /proc/PID/task
// gone. A reader that saw the leader a zombie and then missed the other
// thread took the process for ended: a start went on while the previous
// run's cleanup had still to unmount the root it was setting up.
func Alive(pid int, start uint64) bool { return !AwaitEnd(pid, start, 0) }

// aliveInProc is Alive from /proc alone, for when no pidfd can be had: a
// leader that reads as a zombie with a thread that does not is alive. It
// can miss a process in the middle of an execve (see Alive).
func aliveInProc(pid int, start uint64) bool {
	st, err := ReadStat(pid)
	if err != nil || st.StartTime != start {
		return false
	}
	if st.State != 'Z' && st.State != 'X' {
		return true
	}
	return liveThread(pid)
}

// AwaitEnd waits at most timeout (0: not at all) for the process pid that
// started at start to end, and reports whether it has (see Alive).
func AwaitEnd(pid int, start uint64, timeout time.Duration) bool {
	if pid <= 0 {
		return true
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return true // reaped, or never was
	}
	if err != nil {
		return !aliveInProc(pid, start) // no pidfd to be had (EMFILE, ...)
	}
	defer unix.Close(fd)
	// The pidfd is of the process that started at start if the pid still
	// names it now: a pid is reused only once its process is reaped, and
	// the process that reuses it starts later.
	if st, err := ReadStat(pid); err != nil || st.StartTime != start {
		return true
	}
	deadline := time.Now().Add(timeout)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		ms := 0
		if left := time.Until(deadline); left > 0 {
			ms = int(left.Milliseconds()) + 1
		}
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n > 0 {
			// Readable: ended, unless the kernel was in the middle of
			// handing the pid to a thread that executes, which /proc
			// then shows (measured: 1 poll in about 36000 such hand-overs
			// read as ended on its own); then look again shortly.
			if !aliveInProc(pid, start) {
				return true
			}
			if !time.Now().Before(deadline) {
				return false
			}
			time.Sleep(time.Millisecond)
			continue
		}
		if !time.Now().Before(deadline) {
			return false
		}
	}
}
