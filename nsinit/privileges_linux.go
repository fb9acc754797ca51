package nsinit

// The last privilege steps before execve, on the init's locked thread:
// no_new_privs, the seccomp filter and the final capabilities, in the one
// order in which each can be taken (sandbox-nsenter takes the same steps
// for exec, in C).

import (
	"fmt"

	"sandbox/spec"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// finishPrivileges leaves the thread with the capabilities of the spec
// (effective and permitted for uid 0; none for other users, who keep only
// the bounding set, as in docker), no_new_privs when asked, and the
// seccomp filter (nil: none) loaded as late as it can be:
//   - with no_new_privs the filter needs no privilege: it comes last, so
//     that nothing but the execve runs under it;
//   - without, loading it needs CAP_SYS_ADMIN, which a uid change under
//     keep-caps cleared from the effective set: the permitted set is made
//     effective again, the filter loaded, then the final capabilities set
//     (capset, which docker's profile allows).
func finishPrivileges(p *spec.Process, filter []byte) error {
	last, err := capability.LastCap()
	if err != nil {
		return fmt.Errorf("read last capability: %w", err)
	}
	caps, err := capMask(p.Capabilities, last)
	if err != nil {
		return err
	}
	var final uint64
	if p.UID == 0 {
		final = caps
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		if err := setCaps(final); err != nil {
			return err
		}
		if err := loadSeccomp(filter); err != nil {
			return err
		}
	} else {
		if filter != nil {
			if err := raiseEffective(); err != nil {
				return err
			}
			if err := loadSeccomp(filter); err != nil {
				return err
			}
		}
		if err := setCaps(final); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}

// setCaps sets the effective and permitted sets to mask, the inheritable
// set to nothing.
func setCaps(mask uint64) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(mask), Permitted: uint32(mask)},
		{Effective: uint32(mask >> 32), Permitted: uint32(mask >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	return nil
}

// raiseEffective makes the permitted set effective.
func raiseEffective() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	data[0].Effective, data[1].Effective = data[0].Permitted, data[1].Permitted
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("raise capabilities to load the seccomp filter: %w", err)
	}
	return nil
}
