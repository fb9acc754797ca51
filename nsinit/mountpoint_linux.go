package nsinit

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// Every path the spec names under the root filesystem (mount points, the
// masked and read-only paths, the working directory) is a path of the
// image, and the image may be an attacker's: any component of it may be a
// symbolic link, absolute or full of "..", dangling or not. Docker's rule
// is that such a path means what it would mean to a process whose root is
// the container's: "/data -> /srv/data" puts a volume on /srv/data, and
// "/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf" puts the
// resolver file there, the missing directories created. Nothing may ever
// be looked up, created or mounted on outside the root.
//
// So a mount point is found in three steps:
//
//  1. resolve: the destination is resolved inside the root with securejoin,
//     the root standing for "/", giving a path free of symbolic links that
//     may not exist yet;
//  2. create: its parent directory is created and opened with pathrs-lite,
//     whose walk cannot leave the root whatever changes meanwhile; the last
//     component is created in that directory without following a link;
//  3. hold: the mount point is opened O_PATH|O_NOFOLLOW and checked, and the
//     mount goes onto /proc/self/fd/N, that very inode: a link swapped in
//     after the check (by a running container sharing a volume with this
//     one) is never followed.

// rootfs is the container's root filesystem, with a handle every lookup
// under it starts from.
type rootfs struct {
	path string
	dir  *os.File // O_PATH, opened once the root is bound onto itself
}

func openRootfs(root string) (*rootfs, error) {
	dir, err := os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root filesystem: %w", err)
	}
	return &rootfs{path: root, dir: dir}, nil
}

func (r *rootfs) close() error { return r.dir.Close() }

// resolve resolves p inside the root, as the container will see it: every
// symbolic link followed with the root as "/" and ".." stopping at the
// root. The result is absolute, clean, free of links, and may not exist.
func (r *rootfs) resolve(p string) (string, error) {
	full, err := securejoin.SecureJoin(r.path, p)
	if err != nil {
		return "", fmt.Errorf("resolve %s in the root filesystem: %w", p, err)
	}
	rel, err := filepath.Rel(r.path, full)
	if err != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
		return "", fmt.Errorf("resolve %s in the root filesystem: %s is outside it", p, full)
	}
	return path.Clean("/" + rel), nil
}

// mkdirAll creates the directory p, resolved inside the root, and its
// parents.
func (r *rootfs) mkdirAll(p string) error {
	resolved, err := r.resolve(p)
	if err != nil {
		return err
	}
	d, err := pathrs.MkdirAllHandle(r.dir, resolved, 0o755)
	if err != nil {
		return fmt.Errorf("create %s: %w", resolved, err)
	}
	return d.Close()
}

// targetKind says what openTarget wants at the path, and whether it may
// create it.
type targetKind int

const (
	existing  targetKind = iota // whatever is there; nothing is created
	directory                   // a directory, created with its parents
	file                        // anything but a directory; an empty file is created
)

// mountTarget is a mount point resolved inside the root and held open.
type mountTarget struct {
	// resolved is the mount point's path inside the root.
	resolved string
	// parent is the directory holding it, name its name there: looking
	// name up in parent after a mount reaches the mount's root (top).
	parent *os.File
	name   string
	// fd is the mount point itself (O_PATH), to mount on.
	fd *os.File
	// isDir: fd is a directory.
	isDir bool
}

// openTarget resolves dest inside the root, creates it as kind says, and
// opens it. With kind existing, an error for a missing path wraps
// fs.ErrNotExist.
func (r *rootfs) openTarget(dest string, kind targetKind) (*mountTarget, error) {
	resolved, err := r.resolve(dest)
	if err != nil {
		return nil, err
	}
	if resolved == "/" {
		return nil, fmt.Errorf("%s resolves to the root directory itself", dest)
	}
	dir, name := path.Dir(resolved), path.Base(resolved)
	var parent *os.File
	if kind == existing {
		parent, err = pathrs.OpenatInRoot(r.dir, dir)
	} else {
		parent, err = pathrs.MkdirAllHandle(r.dir, dir, 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	t := &mountTarget{resolved: resolved, parent: parent, name: name}
	if err := t.create(kind); err != nil {
		t.close()
		return nil, err
	}
	fd, err := t.openName()
	if err != nil {
		t.close()
		return nil, err
	}
	t.fd = fd
	var st unix.Stat_t
	if err := unix.Fstat(int(fd.Fd()), &st); err != nil {
		t.close()
		return nil, fmt.Errorf("stat %s: %w", resolved, err)
	}
	t.isDir = st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch {
	case kind == directory && !t.isDir:
		err = fmt.Errorf("%s: %w", resolved, unix.ENOTDIR)
	case kind == file && t.isDir:
		err = fmt.Errorf("%s: %w", resolved, unix.EISDIR)
	}
	if err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// create makes the mount point in its parent unless it exists. Neither
// mkdirat nor openat with O_CREAT|O_EXCL follows a link at the last
// component.
func (t *mountTarget) create(kind targetKind) error {
	dirfd := int(t.parent.Fd())
	switch kind {
	case directory:
		if err := unix.Mkdirat(dirfd, t.name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create directory %s: %w", t.resolved, err)
		}
	case file:
		fd, err := unix.Openat(dirfd, t.name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if errors.Is(err, unix.EEXIST) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("create file %s: %w", t.resolved, err)
		}
		if err := unix.Close(fd); err != nil {
			return fmt.Errorf("create file %s: %w", t.resolved, err)
		}
	}
	return nil
}

// openName opens the name in the parent, O_PATH so that nothing of it
// (a fifo, a device) is opened for real, and refuses a symbolic link: the
// path was resolved free of links, so one there now was swapped in.
func (t *mountTarget) openName() (*os.File, error) {
	fd, err := unix.Openat(int(t.parent.Fd()), t.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.resolved, err)
	}
	f := os.NewFile(uintptr(fd), t.resolved)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", t.resolved, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		f.Close()
		return nil, fmt.Errorf("%s became a symbolic link while being set up: %w", t.resolved, unix.ELOOP)
	}
	return f, nil
}

// path is the name to mount on: the inode held, whatever its path names
// now.
func (t *mountTarget) path() string { return fdPath(t.fd) }

// top opens what is at the mount point after a mount: the mounted
// file system's root, for a remount or to fill it.
func (t *mountTarget) top() (*os.File, error) { return t.openName() }

func (t *mountTarget) close() {
	if t.fd != nil {
		t.fd.Close()
	}
	t.parent.Close()
}

func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }
