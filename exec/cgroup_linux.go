package exec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// A process exec'd into a container joins the container's cgroup, so
// that its limits hold it and pause, stop and rm take it along. It joins
// at the last moment: it finds its command, tells the relaying command
// (Run) over their socket and waits (nsinit.HoldExec); Run moves it by
// its pid, which the kernel attaches to the message (SO_PASSCRED), and
// lets it exec. Not sooner, because pids.max counts threads and the Go
// runtime of the process has several: a runtime that cannot make a thread
// dies, so starting in the cgroup (as runc's exec does) fails under a low
// --pids-limit, while a move is not refused by pids.max and execve leaves
// one thread. Run makes the move, not the process, because by then the
// process has taken the container's user and capabilities, which may not
// move a process under the cpuset controller (it asks whether the mover
// may reschedule the process). A move the kernel refuses for want of
// write access to the cgroup that the source and destination have in
// common (a relaying command outside the user's systemd subtree, for a
// container in a systemd scope) is handed to the request's MoveFallback.

// openCgroup opens the container's cgroup.procs for the process of req,
// which is told to wait for the move; nil without a cgroup.
func openCgroup(req *Request) (*os.File, error) {
	if req.Cgroup == "" {
		return nil, nil
	}
	f, err := os.OpenFile(filepath.Join(req.Cgroup, "cgroup.procs"), os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("exec: open the container's cgroup: %w", err)
	}
	req.HoldExec = true
	return f, nil
}

// joinCgroup moves the process that sent the message whose control data
// is oob (its credentials) into the cgroup, and lets it exec.
func joinCgroup(req *Request, procs, sock *os.File, oob []byte) error {
	if procs == nil {
		return errors.New("exec: the process waits for a cgroup it was not given")
	}
	pid, err := senderPid(oob)
	if err != nil {
		return err
	}
	if _, err := procs.Write([]byte(strconv.Itoa(pid))); err != nil {
		if !refused(err) || req.MoveFallback == nil {
			return fmt.Errorf("exec: move the process into the container's cgroup: %w", err)
		}
		if ferr := req.MoveFallback(pid); ferr != nil {
			return fmt.Errorf("exec: move the process into the container's cgroup: %w; nor could systemd: %w", err, ferr)
		}
	}
	if err := unix.Sendmsg(int(sock.Fd()), []byte("{}"), nil, nil, 0); err != nil {
		return fmt.Errorf("exec: start the process: %w", err)
	}
	return nil
}

// senderPid is the pid in the credentials of a message's control data.
func senderPid(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, fmt.Errorf("exec: control message: %w", err)
	}
	for i := range msgs {
		if msgs[i].Header.Level == unix.SOL_SOCKET && msgs[i].Header.Type == unix.SCM_CREDENTIALS {
			cred, err := unix.ParseUnixCredentials(&msgs[i])
			if err != nil {
				return 0, fmt.Errorf("exec: credentials: %w", err)
			}
			if cred.Pid <= 0 {
				return 0, errors.New("exec: the process's pid is not visible here")
			}
			return int(cred.Pid), nil
		}
	}
	return 0, errors.New("exec: the process's message came without its credentials")
}

// refused reports whether a write to cgroup.procs failed for want of
// permission, rather than because the process or the cgroup went away.
func refused(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}
