package nsinit

import (
	"fmt"
	"os"
	"strings"

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
	caps, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	if err := caps.Load(); err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	want, err := capList(p.Capabilities)
	if err != nil {
		return err
	}
	caps.Clear(capability.BOUNDING)
	caps.Set(capability.BOUNDING, want...)
	if err := caps.Apply(capability.BOUNDING); err != nil {
		return fmt.Errorf("limit bounding set: %w", err)
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

// capList turns names like "CAP_CHOWN" into the capabilities this kernel
// knows; names it does not know are skipped, as runc does.
func capList(names []string) ([]capability.Cap, error) {
	last, err := capability.LastCap()
	if err != nil {
		return nil, fmt.Errorf("read last capability: %w", err)
	}
	byName := map[string]capability.Cap{}
	for _, c := range capability.List() {
		byName["CAP_"+strings.ToUpper(c.String())] = c
	}
	var out []capability.Cap
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("unknown capability %q", n)
		}
		if c <= last {
			out = append(out, c)
		}
	}
	return out, nil
}

func setgroupsDenied() bool {
	data, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(data)) == "deny"
}
