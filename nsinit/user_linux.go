package nsinit

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"sandbox/spec"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// setUser limits the bounding set and changes to the container's user and
// groups; the capabilities themselves are set by finishPrivileges, just
// before execve. The bounding set is cut first because that needs
// CAP_SETPCAP, and the user is changed with keep-caps so that the
// permitted set survives for the steps still to come. All of it applies
// to the calling thread only, as capabilities always do: the caller must
// be locked to its thread and go on to execve from it.
func setUser(p *spec.Process) error {
	last, err := capability.LastCap()
	if err != nil {
		return fmt.Errorf("read last capability: %w", err)
	}
	want, err := capMask(p.Capabilities, last)
	if err != nil {
		return err
	}
	if err := limitBounding(want, last); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keep capabilities: %w", err)
	}
	// With a single-id mapping setgroups(2) is denied for the whole user
	// namespace: the process keeps the groups it has (none of them mapped).
	if err := setThreadGroups(p.AdditionalGIDs); err != nil && !(err == unix.EPERM && setgroupsDenied()) {
		return fmt.Errorf("set groups %v: %w", p.AdditionalGIDs, err)
	}
	if err := setThreadGID(p.GID); err != nil {
		return fmt.Errorf("set gid %d: %w (is it mapped? see /etc/subgid)", p.GID, err)
	}
	if err := setThreadUID(p.UID); err != nil {
		return fmt.Errorf("set uid %d: %w (is it mapped? see /etc/subuid)", p.UID, err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keep-capabilities: %w", err)
	}
	return nil
}

// limitBounding drops from the bounding set every capability up to last
// that want (a mask, bit n for capability n) does not hold. It reads
// nothing first: a capability already out of the set drops again without
// error. One the kernel does not know (EINVAL) is skipped; any other
// failure (EPERM without CAP_SETPCAP) is an error, never a set left whole.
func limitBounding(want uint64, last capability.Cap) error {
	for c := capability.Cap(0); c <= last; c++ {
		if c < 64 && want&(1<<uint(c)) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("limit bounding set: drop %s: %w", c, err)
		}
	}
	return nil
}

// capMask turns names like "CAP_CHOWN" into a mask, bit n for capability
// n; names of capabilities above last (the kernel's) are skipped, as runc
// does, and a name no kernel has is an error.
func capMask(names []string, last capability.Cap) (uint64, error) {
	byName := capsByName()
	var mask uint64
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			return 0, fmt.Errorf("unknown capability %q", n)
		}
		if c <= last && c < 64 {
			mask |= 1 << uint(c)
		}
	}
	return mask, nil
}

// capsByName maps "CAP_CHOWN" and the like to their capability, built
// once: the init reads it twice, for the bounding set and for the final
// capabilities.
var capsByName = sync.OnceValue(func() map[string]capability.Cap {
	byName := map[string]capability.Cap{}
	for _, c := range capability.List() {
		byName["CAP_"+strings.ToUpper(c.String())] = c
	}
	return byName
})

func setgroupsDenied() bool {
	data, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(data)) == "deny"
}
