package nsinit

import (
	"errors"
	"fmt"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// rlimitResources are the resources a container may limit (--ulimit), by
// their spec.Rlimit type: docker's list.
var rlimitResources = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

// RlimitResource is the resource number of a spec.Rlimit type, false for
// a type a container may not limit.
func RlimitResource(typ string) (int, bool) {
	r, ok := rlimitResources[typ]
	return r, ok
}

// setRlimits sets the limits of the calling process (all its threads:
// limits belong to the process). It is the last step before execve, after
// everything the init or exec child does with limits of its own: with a
// low nofile, reading /proc/self/fd would fail; with a low nproc, the Go
// runtime could not make a thread it needs, and would die. A hard limit
// above the process's own is refused (EPERM) to any process without
// CAP_SYS_RESOURCE in the host's user namespace: that error says so in
// --ulimit's words. unix.Prlimit also keeps the Go runtime from putting
// back, at execve, the soft nofile limit it found at its start.
func setRlimits(rs []spec.Rlimit) error {
	for _, r := range rs {
		res, ok := RlimitResource(r.Type)
		if !ok {
			return fmt.Errorf("--ulimit: unknown resource %q", r.Type)
		}
		err := unix.Prlimit(0, res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil)
		if errors.Is(err, unix.EPERM) {
			var own unix.Rlimit
			if gerr := unix.Getrlimit(res, &own); gerr == nil && r.Hard > own.Max {
				return spec.HardLimitError(r, own.Max)
			}
		}
		if err != nil {
			return fmt.Errorf("--ulimit %s: set %s: %w", r, r.Type, err)
		}
	}
	return nil
}
