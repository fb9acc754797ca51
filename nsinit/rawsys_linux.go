package nsinit

// The raw system calls of the last steps before execve, on the init's (or
// exec child's) locked thread: they act on that thread alone, which is
// what is wanted of a thread about to replace the whole process.

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// unignoreSignals resets every ignored signal to its default, so that none
// stays ignored across the execve of the container's command: execve resets
// caught signals to their defaults, while one ignored by whoever started
// sandbox (nohup, a shell's background job, make, which ignores 32 and 33)
// would stay ignored. os/signal cannot do it: the runtime leaves some
// signals as it found them and will not touch 32 and 33 at all. A read of
// each disposition costs well under a microsecond.
func unignoreSignals() {
	var old, dfl [4]uint64 // struct sigaction, sa_handler first; zero is SIG_DFL
	for sig := 1; sig <= 64; sig++ {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			continue
		}
		_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0)
		if e != 0 || old[0] != 1 { // not SIG_IGN
			continue
		}
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
}

// The ids of the calling thread only. Go's Setgroups, Setresgid and
// Setresuid change every thread of the process, by signalling each and
// waiting for all (a millisecond and more with the runtime's threads, on
// every container start); the thread that goes on to execve is the only
// one whose ids the command inherits, and execve ends the others.

func setThreadGroups(gids []uint32) error {
	var p unsafe.Pointer
	if len(gids) > 0 {
		p = unsafe.Pointer(&gids[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(p), 0); e != 0 {
		return e
	}
	return nil
}

func setThreadGID(gid uint32) error {
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return e
	}
	return nil
}

func setThreadUID(uid uint32) error {
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return e
	}
	return nil
}

// loadSeccomp loads a raw program (struct sock_filter[]) on the calling
// thread only: without SECCOMP_FILTER_FLAG_TSYNC the runtime's other
// threads stay unfiltered, and the execve of this thread ends them.
func loadSeccomp(filter []byte) error {
	if filter == nil {
		return nil
	}
	n := len(filter) / int(unsafe.Sizeof(unix.SockFilter{}))
	if n == 0 || n > 0xffff || len(filter)%int(unsafe.Sizeof(unix.SockFilter{})) != 0 {
		return fmt.Errorf("load the seccomp filter: a program of %d bytes", len(filter))
	}
	prog := unix.SockFprog{Len: uint16(n), Filter: (*unix.SockFilter)(unsafe.Pointer(&filter[0]))}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return fmt.Errorf("load the seccomp filter: %w", e)
	}
	return nil
}
