package nsenter

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
// at the last moment: sandbox-nsenter's child finds its command, tells
// the relaying command (Run) over their socket and waits; Run moves it by
// the pid its intermediate reported, and lets it exec. Run makes the
// move, not the process, because by then the process is inside the
// container's mount namespace, without the cgroup filesystem, and has
// taken the container's user, which may not move a process under the
// cpuset controller (it asks whether the mover may reschedule the
// process). A move the kernel refuses for want of write access to the
// cgroup that the source and destination have in common (a relaying
// command outside the user's systemd subtree, for a container in a
// systemd scope) is handed to the request's MoveFallback.

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
	req.holdExec = true
	return f, nil
}

// joinCgroup moves the process pid into the cgroup.
func joinCgroup(req *Request, procs *os.File, pid int) error {
	if procs == nil {
		return errors.New("exec: the process waits for a cgroup it was not given")
	}
	if _, err := procs.Write([]byte(strconv.Itoa(pid))); err != nil {
		if !refused(err) || req.MoveFallback == nil {
			return fmt.Errorf("exec: move the process into the container's cgroup: %w", err)
		}
		if ferr := req.MoveFallback(pid); ferr != nil {
			return fmt.Errorf("exec: move the process into the container's cgroup: %w; nor could systemd: %w", err, ferr)
		}
	}
	return nil
}

// refused reports whether a write to cgroup.procs failed for want of
// permission, rather than because the process or the cgroup went away.
func refused(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}
