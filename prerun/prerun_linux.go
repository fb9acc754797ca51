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
*/
import "C"

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
