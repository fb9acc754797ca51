package main

// The system calls that the seccomp tests make and busybox cannot: each
// prints "NAME ok" or "NAME ERRNO" (EPERM, ENOSYS, ...).

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

var probes = map[string]func() error{
	"unshare-user": func() error { return unix.Unshare(unix.CLONE_NEWUSER) },
	"unshare-uts":  func() error { return unix.Unshare(unix.CLONE_NEWUTS) },
	"keyctl": func() error {
		_, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_PROCESS_KEYRING, 1, 0, 0)
		return err
	},
	"add_key": func() error {
		_, err := unix.AddKey("user", "sandbox-probe", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
		return err
	},
	"bpf": func() error {
		// BPF_MAP_CREATE of a tiny array map.
		attr := [5]uint32{2, 4, 4, 1, 0}
		return rawErr(unix.Syscall(unix.SYS_BPF, 0, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr)))
	},
	"userfaultfd": func() error {
		// UFFD_USER_MODE_ONLY: allowed to an unprivileged user otherwise.
		return rawErr(unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|1, 0, 0))
	},
	"perf_event_open": func() error {
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_TASK_CLOCK, Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{}))}
		fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err == nil {
			unix.Close(fd)
		}
		return err
	},
	"io_uring_setup": func() error {
		var params [120]byte
		return rawErr(unix.Syscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params)), 0))
	},
	"mkdir": func() error {
		dir := fmt.Sprintf("/tmp/probe-%d", os.Getpid())
		if err := unix.Mkdir(dir, 0o755); err != nil {
			return err
		}
		return unix.Rmdir(dir)
	},
	// A system call number above every one the kernel and the profile know.
	"nosys": func() error { return rawErr(unix.Syscall(1000, 0, 0, 0)) },
}

func rawErr(r, _ uintptr, e syscall.Errno) error {
	if e != 0 {
		return e
	}
	if int(r) > 2 {
		unix.Close(int(r))
	}
	return nil
}

// probe makes each named system call on one thread and prints its result.
func probe(names []string) error {
	runtime.LockOSThread()
	for _, n := range names {
		f, ok := probes[n]
		if !ok {
			return fmt.Errorf("no probe %q", n)
		}
		err := f()
		switch e, isErrno := err.(syscall.Errno); {
		case err == nil:
			fmt.Println(n, "ok")
		case isErrno:
			fmt.Println(n, unix.ErrnoName(e))
		default:
			fmt.Println(n, err)
		}
	}
	return nil
}
