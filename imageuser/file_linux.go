package imageuser

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// maxFile caps what sandbox reads of a file of a container's image
// (its /etc/passwd and /etc/group): 4 MiB is some 50,000 users. A larger
// file is an error naming the file and the cap rather than a read of its
// first 4 MiB: a truncated passwd would find no user, or the wrong one,
// where docker and podman (which read it all) find the right one, and a
// clear refusal is better than a silently different identity.
const maxFile = 4 << 20

// ReadFile reads the file at name (absolute) in the container's root
// filesystem rootfs, as sandbox itself, outside the container, reads the
// image's /etc/passwd and /etc/group. The image may be an attacker's, so:
//   - name is resolved inside rootfs (openat2 RESOLVE_IN_ROOT, or
//     pathrs-lite's checked walk): a link to "/../../etc/passwd" names the
//     image's /etc/passwd, never the host's;
//   - it is opened O_PATH first and only a regular file is opened for
//     reading, O_NONBLOCK: a fifo or a device would block for ever;
//   - at most maxFile bytes are read.
//
// A missing file is an error wrapping fs.ErrNotExist.
func ReadFile(rootfs, name string) ([]byte, error) {
	h, err := pathrs.OpenInRoot(rootfs, name)
	if err != nil {
		return nil, fmt.Errorf("open the container's %s: %w", name, err)
	}
	defer h.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &st); err != nil {
		return nil, fmt.Errorf("stat the container's %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("read the container's %s: not a regular file (%s)", name, fileKind(st.Mode))
	}
	if st.Size > maxFile {
		return nil, fmt.Errorf("read the container's %s: %d bytes, more than the %d MiB sandbox reads", name, st.Size, maxFile>>20)
	}
	f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open the container's %s: %w", name, err)
	}
	defer f.Close()
	// The file may grow between the stat and the read.
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read the container's %s: %w", name, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("read the container's %s: more than the %d MiB sandbox reads", name, maxFile>>20)
	}
	return data, nil
}

// fileKind names the type bits of a mode for messages.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a fifo"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFLNK:
		return "a symbolic link"
	}
	return "a regular file"
}

// Files reads the container's /etc/passwd and /etc/group; a
// missing one has no entries, as for libc.
func Files(rootfs string) (passwd, group []byte, err error) {
	if passwd, err = ReadFile(rootfs, "/etc/passwd"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if group, err = ReadFile(rootfs, "/etc/group"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	return passwd, group, nil
}

// Resolve resolves a -u/USER value against the container's files.
func Resolve(rootfs, userSpec string) (User, error) {
	passwd, group, err := Files(rootfs)
	if err != nil {
		return User{}, err
	}
	return ResolveUser(userSpec, ParsePasswd(passwd), ParseGroup(group))
}
