package nsinit

import (
	"errors"
	"fmt"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// holdExec is ExecProcess with a pause just before the execve: it finds
// the command, tells the other end of the socket sock (Message{Exec}) and
// waits for its reply, then execs at once.
//
// The other end (the monitor for an init, the relaying command for sandbox
// exec) uses the pause to apply what the Go runtime of this process must
// not run under: the container's cgroup and its pids.max, which counts
// threads, of which the runtime has several. A thread the runtime cannot
// create kills the process, so a low --pids-limit in force any earlier
// could fail the start. From the reply on nothing but the execve is left
// to do, which leaves one thread.
func holdExec(sock int, p *spec.Process, filter []byte) error {
	path, err := command(p)
	if err != nil {
		return err
	}
	sendTo(sock, Message{Exec: true}, -1)
	buf := make([]byte, 512)
	for {
		n, _, _, _, err := unix.Recvmsg(sock, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait before exec: %w", err)
		}
		if n == 0 {
			return errors.New("the command of sandbox went away before the container's command started")
		}
		return execCommand(path, p, filter)
	}
}
