// Package imagetools moves files into and out of containers and looks
// into images, on top of the engine (package container) and storage:
// cp, export and diff of a container's root filesystem, history of an
// image, and image prune. Every path inside a container is resolved
// inside its root (filepath-securejoin), and every tar stream read from
// or written into a container is made by containers/storage's
// chrootarchive, in a copy of this binary chrooted into the container's
// root, so that no link in the container can lead a copy to a host path
// (the CVE-2018-15664 class); that copy loads its name service libraries
// before the chroot, never the container's (the CVE-2019-14271 class).
// A stopped container's root filesystem is mounted for the operation and
// unmounted after it.
//
// It is imported by cmd/sandbox and by the Docker API (package api)
// only; container and storage must not import it.
package imagetools

import (
	"fmt"

	"sandbox/container"
)

// withRootfs mounts the root filesystem of the container c (in the
// keeper's mount namespace, where this process runs: a running
// container's is mounted already, and the store counts mounts) and calls
// fn with its path; the mount is dropped after.
func withRootfs(rt *container.Runtime, c *container.Container, fn func(rootfs string) error) (retErr error) {
	rootfs, err := rt.Store.Mount(c.ID, "")
	if err != nil {
		return fmt.Errorf("mount the root filesystem of %.12s: %w", c.ID, err)
	}
	defer func() {
		if _, err := rt.Store.Unmount(c.ID, false); err != nil && retErr == nil {
			retErr = fmt.Errorf("unmount the root filesystem of %.12s: %w", c.ID, err)
		}
	}()
	return fn(rootfs)
}
