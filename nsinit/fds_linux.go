package nsinit

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// preservedFds is how many descriptors from 3 on the command is given
// (--preserve-fds), once preserveFds has put them there.
var preservedFds int

// preserveFds puts the n descriptors the monitor passed (at 4..3+n,
// behind the socket on 3) where the command expects them, at 3..2+n, in
// these steps:
//  1. the socket to the monitor moves above them (close-on-exec, as
//     before: its end at execve tells the monitor the command started);
//  2. each moves down one, lowest first, so that none is overwritten
//     before it has been copied; dup2 leaves the copies open across
//     execve;
//  3. the last old number, now a duplicate, is closed.
func preserveFds(n int) error {
	if n <= 0 {
		return nil
	}
	sock, err := unix.FcntlInt(uintptr(syncFd), unix.F_DUPFD_CLOEXEC, 4+n)
	if err != nil {
		return fmt.Errorf("move the monitor's socket above the preserved descriptors: %w", err)
	}
	syncFd = sock
	for fd := 3; fd < 3+n; fd++ {
		if err := unix.Dup2(fd+1, fd); err != nil {
			return fmt.Errorf("preserved descriptor %d: %w", fd, err)
		}
	}
	if err := unix.Close(3 + n); err != nil {
		return fmt.Errorf("preserved descriptors: close %d: %w", 3+n, err)
	}
	preservedFds = n
	return nil
}

// preserved reports whether fd is one of the command's preserved
// descriptors.
func preserved(fd int) bool { return fd >= 3 && fd < 3+preservedFds }
