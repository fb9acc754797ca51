package nsinit

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

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
//
// Steps 1 and 2 cost an lstat per component and pathrs-lite's checks of
// its procfs handles, twenty and more system calls a path. Most paths of
// most images hold no link and no "..", and for those the kernel gives
// the same answer in one openat2: resolving without following any link
// and without leaving the root (RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH), it
// succeeds only when no component is a link, and the resolved path is
// then the destination itself, cleaned. So the parent is first opened that
// way (the fast path); any failure of it (a link, a missing directory to
// create, a kernel without openat2) leaves the path to steps 1 and 2 (the
// slow path), unchanged. A last component found to be a link goes the
// slow way too: the link is resolved inside the root. Mounts made earlier
// (a /proc, a volume) are crossed by both walks alike: the fast one does
// not refuse mount crossings (no RESOLVE_NO_XDEV).

// rootfs is the container's root filesystem, with a handle every lookup
// under it starts from.
type rootfs struct {
	path string
	dir  *os.File // O_PATH, opened once the root is bound onto itself
	fd   int      // dir's descriptor, for the raw system calls
}

func openRootfs(root string) (*rootfs, error) {
	dir, err := os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root filesystem: %w", err)
	}
	return &rootfs{path: root, dir: dir, fd: int(dir.Fd())}, nil
}

func (r *rootfs) close() error { return r.dir.Close() }

// plainRel is dest as a path relative to the root for the kernel's walk
// of the fast path, or false when dest has a ".." component: the kernel
// would take ".." from where a link had led, and cleaning it away first
// would not; such a path is for securejoin alone.
func plainRel(dest string) (string, bool) {
	for rest := dest; rest != ""; {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		if c == ".." {
			return "", false
		}
	}
	clean := path.Clean("/" + dest)
	if clean == "/" {
		return ".", true
	}
	return clean[1:], true
}

// openPlain opens rel (from plainRel) under the root, O_PATH plus flags,
// with the kernel's walk: it fails (ELOOP, EXDEV) rather than follow any
// symbolic link or step out of the root.
func (r *rootfs) openPlain(rel string, flags int) (int, error) {
	return unix.Openat2(r.fd, rel, &unix.OpenHow{
		Flags:   uint64(unix.O_PATH | unix.O_CLOEXEC | flags),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// plain reports whether dest exists and no component of it, the last
// included, is a symbolic link, so that it resolves to itself. flags is
// added to the open: O_DIRECTORY asks for a directory.
func (r *rootfs) plain(dest string, flags int) bool {
	rel, ok := plainRel(dest)
	if !ok {
		return false
	}
	fd, err := r.openPlain(rel, flags)
	if err != nil {
		return false
	}
	// An O_PATH descriptor's close cannot fail in a way that matters.
	unix.Close(fd)
	return true
}

// resolve resolves p inside the root, as the container will see it: every
// symbolic link followed with the root as "/" and ".." stopping at the
// root. The result is absolute, clean, free of links, and may not exist.
func (r *rootfs) resolve(p string) (string, error) {
	if r.plain(p, 0) {
		return path.Clean("/" + p), nil
	}
	return r.secureResolve(p)
}

// secureResolve is resolve by securejoin, for any path.
func (r *rootfs) secureResolve(p string) (string, error) {
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
	// An existing directory reached without links: nothing to create.
	if r.plain(p, unix.O_DIRECTORY) {
		return nil
	}
	return r.secureMkdirAll(p)
}

// secureMkdirAll is mkdirAll by securejoin and pathrs-lite, for any path.
func (r *rootfs) secureMkdirAll(p string) error {
	resolved, err := r.secureResolve(p)
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
	parent int
	name   string
	// parentFile owns parent when pathrs-lite opened it (the slow path);
	// nil when parent is a raw descriptor of the fast path.
	parentFile *os.File
	// fd is the mount point itself (O_PATH), to mount on; -1 until open.
	fd int
	// isDir: fd is a directory.
	isDir bool
}

// errSlowPath says the fast path cannot answer for a destination.
var errSlowPath = errors.New("not resolvable without securejoin")

// openTarget resolves dest inside the root, creates it as kind says, and
// opens it. With kind existing, an error for a missing path wraps
// fs.ErrNotExist.
func (r *rootfs) openTarget(dest string, kind targetKind) (*mountTarget, error) {
	t, err := r.openTargetFast(dest, kind)
	if errors.Is(err, errSlowPath) {
		return r.openTargetSlow(dest, kind)
	}
	return t, err
}

// openTargetFast is openTarget for a destination whose parent the kernel
// reaches with no link and no "..", and whose last component is no link;
// it fails with errSlowPath for any other.
func (r *rootfs) openTargetFast(dest string, kind targetKind) (*mountTarget, error) {
	rel, ok := plainRel(dest)
	if !ok || rel == "." {
		return nil, errSlowPath
	}
	dir, name := path.Dir(rel), path.Base(rel)
	parent, err := r.openPlain(dir, unix.O_DIRECTORY)
	if err != nil {
		return nil, errSlowPath
	}
	t := &mountTarget{resolved: "/" + rel, parent: parent, name: name, fd: -1}
	// What is there now decides: a link goes the slow way; anything else
	// is held as it is, nothing to create; a missing name is created, or
	// for kind existing is missing.
	fd, mode, err := openNoFollow(parent, name)
	switch {
	case err == nil && mode == unix.S_IFLNK:
		unix.Close(fd)
		t.close()
		return nil, errSlowPath
	case err == nil:
		t.fd, t.isDir = fd, mode == unix.S_IFDIR
		return t.checked(kind)
	case errors.Is(err, unix.ENOENT) && kind != existing:
		return t.createAndHold(kind)
	case errors.Is(err, unix.ENOENT):
		t.close()
		return nil, fmt.Errorf("open %s: %w", t.resolved, err)
	default:
		t.close()
		return nil, errSlowPath
	}
}

// openTargetSlow is openTarget by securejoin and pathrs-lite, for any
// destination.
func (r *rootfs) openTargetSlow(dest string, kind targetKind) (*mountTarget, error) {
	resolved, err := r.secureResolve(dest)
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
	t := &mountTarget{resolved: resolved, parent: int(parent.Fd()), parentFile: parent, name: name, fd: -1}
	return t.createAndHold(kind)
}

// createAndHold makes the mount point as kind says unless it exists,
// holds it and checks its kind; t is closed on failure.
func (t *mountTarget) createAndHold(kind targetKind) (*mountTarget, error) {
	if err := t.create(kind); err != nil {
		t.close()
		return nil, err
	}
	if err := t.hold(); err != nil {
		t.close()
		return nil, err
	}
	return t.checked(kind)
}

// checked returns t when its mount point is of the kind asked for, and
// closes it when not.
func (t *mountTarget) checked(kind targetKind) (*mountTarget, error) {
	if err := t.checkKind(kind); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// create makes the mount point in its parent unless it exists. Neither
// mkdirat nor openat with O_CREAT|O_EXCL follows a link at the last
// component.
func (t *mountTarget) create(kind targetKind) error {
	switch kind {
	case directory:
		if err := unix.Mkdirat(t.parent, t.name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create directory %s: %w", t.resolved, err)
		}
	case file:
		fd, err := unix.Openat(t.parent, t.name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
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

// hold opens the mount point into t.fd.
func (t *mountTarget) hold() error {
	fd, mode, err := t.openName()
	if err != nil {
		return err
	}
	t.fd, t.isDir = fd, mode == unix.S_IFDIR
	return nil
}

// checkKind refuses a mount point of the wrong kind.
func (t *mountTarget) checkKind(kind targetKind) error {
	switch {
	case kind == directory && !t.isDir:
		return fmt.Errorf("%s: %w", t.resolved, unix.ENOTDIR)
	case kind == file && t.isDir:
		return fmt.Errorf("%s: %w", t.resolved, unix.EISDIR)
	}
	return nil
}

// openNoFollow opens name in dirfd, O_PATH so that nothing of it (a fifo,
// a device) is opened for real, without following a link there, and says
// what it is (S_IFMT bits).
func openNoFollow(dirfd int, name string) (fd int, mode uint32, err error) {
	fd, err = unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, st.Mode & unix.S_IFMT, nil
}

// openName opens the name in the parent and refuses a symbolic link: the
// path was resolved free of links, so one there now was swapped in.
func (t *mountTarget) openName() (fd int, mode uint32, err error) {
	fd, mode, err = openNoFollow(t.parent, t.name)
	if err != nil {
		return -1, 0, fmt.Errorf("open %s: %w", t.resolved, err)
	}
	if mode == unix.S_IFLNK {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("%s became a symbolic link while being set up: %w", t.resolved, unix.ELOOP)
	}
	return fd, mode, nil
}

// path is the name to mount on: the inode held, whatever its path names
// now.
func (t *mountTarget) path() string { return fdPath(t.fd) }

// top opens what is at the mount point after a mount: the mounted
// file system's root, for a remount or to fill it. The caller closes it.
func (t *mountTarget) top() (int, error) {
	fd, _, err := t.openName()
	return fd, err
}

// close releases the descriptors; O_PATH ones and a directory's, whose
// close reports nothing worth handling.
func (t *mountTarget) close() {
	if t.fd >= 0 {
		unix.Close(t.fd)
	}
	if t.parentFile != nil {
		t.parentFile.Close()
	} else {
		unix.Close(t.parent)
	}
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
