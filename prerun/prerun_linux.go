package prerun

/*
#cgo CFLAGS: -Wall -O2
extern int sandbox_hook_state;
extern int sandbox_hook_fallback;
extern int sandbox_hook_skipped;
extern int sandbox_hook_inherited_fds;
extern unsigned int sandbox_hook_host_uid;
extern unsigned int sandbox_hook_host_gid;
extern char sandbox_hook_runtime_dir[4096];
extern char sandbox_hook_error[512];
extern const char *sandbox_global_value_flag(int i);
extern int sandbox_early_pid;
extern int sandbox_early_fds[4];
extern char sandbox_early_id[65];
extern char sandbox_early_run_dir[4096];
extern char sandbox_early_binary[4096];
extern int sandbox_early_plan(const char *args, const char *end, const char **run_root, int *shape);
extern int sandbox_start_slot;
extern long sandbox_start_slot_waited_ms;
extern int sandbox_take_start_slot(const char *dir, int slots, int wait_ms);
#include <stdlib.h>
*/
import "C"

import (
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// KeeperState tells how the hook left this process.
type KeeperState int

const (
	// Unjoined: no live keeper was found (or joining it failed: see HookError).
	Unjoined KeeperState = iota
	// Joined: the hook joined the keeper's user and mount namespaces.
	Joined
	// Inherited: the process was started inside the keeper's namespaces.
	Inherited
)

// State reports what the hook did before the Go runtime started.
func State() KeeperState { return KeeperState(C.sandbox_hook_state) }

// RuntimeDir is the per-user runtime directory the hook used.
func RuntimeDir() string { return C.GoString(&C.sandbox_hook_runtime_dir[0]) }

// RuntimeDirFallback reports that XDG_RUNTIME_DIR was unset or not the user's.
func RuntimeDirFallback() bool { return C.sandbox_hook_fallback != 0 }

// HostIDs are the user's uid and gid outside every user namespace.
func HostIDs() (uid, gid int) {
	return int(C.sandbox_hook_host_uid), int(C.sandbox_hook_host_gid)
}

// Skipped reports that the hook found a live keeper and did not join it
// because the command is check (see the protocol above).
func Skipped() bool { return C.sandbox_hook_skipped != 0 }

// InheritedFds is how many descriptors from 3 on, without a gap, the
// process was started with: its caller's, not the Go runtime's.
func InheritedFds() int { return int(C.sandbox_hook_inherited_fds) }

// HookError is why the hook did not join a keeper it found, or "".
func HookError() string { return C.GoString(&C.sandbox_hook_error[0]) }

// GlobalValueFlags are the global flags of sandbox that take a value, as
// the hook knows them (--root, ...): it skips their values to find the
// command on the command line.
func GlobalValueFlags() []string {
	var flags []string
	for i := 0; ; i++ {
		f := C.sandbox_global_value_flag(C.int(i))
		if f == nil {
			return flags
		}
		flags = append(flags, C.GoString(f))
	}
}

// EarlyMonitor is the monitor of a container that the hook started for
// `sandbox run` before the Go runtime (early.c): its process, the
// container's id and run directory it was started for, its binary, and
// this process's ends of its pipes (close-on-exec).
type EarlyMonitor struct {
	Pid    int
	ID     string
	RunDir string
	Binary string
	// Sync is the read end of its sync pipe, Go and Options the write
	// ends of its go and options pipes, Attach this end of its attach
	// socket.
	Sync, Go, Options, Attach int
}

var (
	earlyTaken sync.Once
	// earlyEnding, guarded by earlyMu, are early monitors given up
	// (EarlyMonitor.Abandon), to reap at the command's end.
	earlyMu     sync.Mutex
	earlyEnding []int
)

// TakeEarlyMonitor returns the monitor the hook started, to the first
// caller only; nil when the hook started none (see early.c for when).
// The caller owns it: it adopts it, or gives it up (Abandon).
func TakeEarlyMonitor() *EarlyMonitor {
	var e *EarlyMonitor
	earlyTaken.Do(func() {
		if C.sandbox_early_pid <= 0 {
			return
		}
		e = &EarlyMonitor{
			Pid:     int(C.sandbox_early_pid),
			ID:      C.GoString(&C.sandbox_early_id[0]),
			RunDir:  C.GoString(&C.sandbox_early_run_dir[0]),
			Binary:  C.GoString(&C.sandbox_early_binary[0]),
			Sync:    int(C.sandbox_early_fds[0]),
			Go:      int(C.sandbox_early_fds[1]),
			Options: int(C.sandbox_early_fds[2]),
			Attach:  int(C.sandbox_early_fds[3]),
		}
	})
	return e
}

// Abandon gives up an early monitor: this process's ends of its pipes
// close, which it takes for there being no container, and it exits; it
// is reaped by EndEarlyMonitor.
func (e *EarlyMonitor) Abandon() {
	for _, fd := range []int{e.Sync, e.Go, e.Options, e.Attach} {
		syscall.Close(fd)
	}
	earlyMu.Lock()
	earlyEnding = append(earlyEnding, e.Pid)
	earlyMu.Unlock()
}

// EndEarlyMonitor gives up the early monitor if nothing took it (a run
// that failed at its flags, before the engine had it), and
// waits for the monitors given up to exit: a command leaves none behind.
// For the end of the command.
func EndEarlyMonitor() {
	if e := TakeEarlyMonitor(); e != nil {
		e.Abandon()
	}
	earlyMu.Lock()
	pids := earlyEnding
	earlyEnding = nil
	earlyMu.Unlock()
	for _, pid := range pids {
		for {
			if _, err := syscall.Wait4(pid, nil, 0, nil); err != syscall.EINTR {
				break
			}
		}
	}
}

// earlyPlan is what the hook decides for a command line (argv[0] left
// out): whether it starts the monitor early, for which run root ("" the
// default), and whether it asks that monitor for an early init. For
// tests of the hook's reading.
func earlyPlan(args []string) (early bool, runRoot string, earlyInit bool) {
	buf := ""
	if len(args) > 0 {
		buf = strings.Join(args, "\x00") + "\x00"
	}
	c := C.CString(buf)
	defer C.free(unsafe.Pointer(c))
	var shape C.int
	var root *C.char
	n := C.sandbox_early_plan(c, (*C.char)(unsafe.Add(unsafe.Pointer(c), len(buf))), &root, &shape)
	if root != nil {
		runRoot = C.GoString(root)
	}
	return n != 0, runRoot, shape != 0
}

var slotReleased sync.Once

// StartSlotWait is how long the hook waited for this process's turn to
// start a container, and whether it holds one (asked before
// ReleaseStartSlot): waited is negative when it did not wait (a turn was
// free, or the command is not run).
func StartSlotWait() (waited time.Duration, got bool) {
	waited = -1
	if ms := int64(C.sandbox_start_slot_waited_ms); ms >= 0 {
		waited = time.Duration(ms) * time.Millisecond
	}
	return waited, C.sandbox_start_slot >= 0
}

// ReleaseStartSlot gives back this process's turn to start a container,
// if it holds one: once the container has started, and before anything
// that waits on more than the CPUs (a pull). Later calls do nothing.
func ReleaseStartSlot() {
	slotReleased.Do(func() {
		if fd := int(C.sandbox_start_slot); fd >= 0 {
			C.sandbox_start_slot = -1
			syscall.Close(fd)
		}
	})
}

// takeStartSlot is the hook's taking of one of slots turns in dir, waiting
// up to wait: the descriptor that holds the turn, or -1. For tests.
func takeStartSlot(dir string, slots int, wait time.Duration) int {
	c := C.CString(dir)
	defer C.free(unsafe.Pointer(c))
	return int(C.sandbox_take_start_slot(c, C.int(slots), C.int(wait.Milliseconds())))
}
