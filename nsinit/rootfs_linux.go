package nsinit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// devices are bound from the host into the container's /dev.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

var devLinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
	{"pts/ptmx", "ptmx"},
	{"/proc/kcore", "core"},
}

// setupRootfs makes the root filesystem and what is mounted in it, with
// the trees staged while the init waited (stage_linux.go) where the spec
// asks for what they hold.
func setupRootfs(s *spec.Spec, staged []*stagedTree) error {
	sp := plan(staged, s)
	defer sp.close()
	root := s.Rootfs
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind root filesystem %s: %w", root, err)
	}
	r, err := openRootfs(root)
	if err != nil {
		return err
	}
	if err := setupPaths(r, s, sp); err != nil {
		r.close()
		return err
	}
	if err := r.close(); err != nil {
		return fmt.Errorf("close root filesystem: %w", err)
	}
	if err := pivotRoot(root); err != nil {
		return err
	}
	if s.ReadOnly {
		if err := remount("/", unix.MS_RDONLY); err != nil {
			return fmt.Errorf("make root filesystem read-only: %w", err)
		}
	}
	return nil
}

// setupPaths does what is done at paths of the image (mountpoint_linux.go
// says how they are resolved): the mounts, the working directory, the
// masked and read-only paths; those a staged tree holds (sp) come with
// it.
func setupPaths(r *rootfs, s *spec.Spec, sp *stagePlan) error {
	for i := range s.Mounts {
		if t, ok := sp.attach[i]; ok {
			delete(sp.attach, i)
			err := attachTree(r, &s.Mounts[i], t)
			if err == nil {
				unix.Close(t.fd)
				continue
			}
			// Made from the spec instead, the error (if any) is its.
			sp.drop(t)
		}
		if _, ok := sp.covered[i]; ok {
			continue
		}
		if err := mountOne(r, &s.Mounts[i]); err != nil {
			return err
		}
	}
	// The init changes into it after pivot_root, by path: the kernel then
	// resolves it inside the root.
	if err := r.mkdirAll(s.Process.Cwd); err != nil {
		return fmt.Errorf("create working directory %s: %w", s.Process.Cwd, err)
	}
	if s.Privileged {
		return nil
	}
	for _, p := range s.MaskedPaths {
		if sp.coversPath(p) {
			continue
		}
		if err := maskPath(r, p); err != nil {
			return err
		}
	}
	for _, p := range s.ReadonlyPaths {
		if sp.coversPath(p) {
			continue
		}
		if err := readonlyPath(r, p); err != nil {
			return err
		}
	}
	return nil
}

var flagNames = map[string]uintptr{
	"nosuid":      unix.MS_NOSUID,
	"nodev":       unix.MS_NODEV,
	"noexec":      unix.MS_NOEXEC,
	"strictatime": unix.MS_STRICTATIME,
	"relatime":    unix.MS_RELATIME,
	"noatime":     unix.MS_NOATIME,
}

func mountFlags(m *spec.Mount) (uintptr, error) {
	var flags uintptr
	for _, f := range m.Flags {
		v, ok := flagNames[f]
		if !ok {
			return 0, fmt.Errorf("mount %s: unknown flag %q", m.Destination, f)
		}
		flags |= v
	}
	if m.ReadOnly {
		flags |= unix.MS_RDONLY
	}
	return flags, nil
}

func mountOne(r *rootfs, m *spec.Mount) error {
	flags, err := mountFlags(m)
	if err != nil {
		return err
	}
	t, err := mountPoint(r, m)
	if err != nil {
		return err
	}
	defer t.close()
	if m.Type == "bind" {
		return bindMount(t, m, flags)
	}
	err = unix.Mount(m.Type, t.path(), m.Type, flags, m.Data)
	if err != nil && errors.Is(err, unix.EPERM) {
		// Without a network (or ipc) namespace of our own the kernel refuses
		// a new sysfs (mqueue): show the host's, read-only, instead.
		switch m.Type {
		case "sysfs":
			return bindMount(t, &spec.Mount{Type: "bind", Source: "/sys", Destination: m.Destination, ReadOnly: true}, flags)
		case "mqueue":
			return bindMount(t, &spec.Mount{Type: "bind", Source: "/dev/mqueue", Destination: m.Destination}, flags&^unix.MS_RDONLY)
		}
	}
	if err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.Type, mountedAt(m.Destination, t), err)
	}
	if m.Type == "tmpfs" && m.Destination == "/dev" {
		dev, err := t.top()
		if err != nil {
			return fmt.Errorf("open the new /dev: %w", err)
		}
		defer unix.Close(dev)
		return populateDev(dev)
	}
	return nil
}

// mountPoint resolves, creates and holds m's mount point in r.
func mountPoint(r *rootfs, m *spec.Mount) (*mountTarget, error) {
	kind := directory
	switch m.Type {
	case "bind":
		// A bind's mount point is of its source's kind.
		st, err := os.Stat(m.Source)
		if err != nil {
			return nil, fmt.Errorf("bind mount source %s: %w", m.Source, err)
		}
		if !st.IsDir() {
			kind = file
		}
	case "proc", "sysfs":
		// The kernel's files go where the image cannot redirect them: an
		// image whose /proc is a link would have the masked paths and the
		// read-only /proc/sys land elsewhere (as runc, refuse it).
		resolved, err := r.resolve(m.Destination)
		if err != nil {
			return nil, fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
		}
		if resolved != path.Clean(m.Destination) {
			return nil, fmt.Errorf("mount %s on %s: the image makes it a symbolic link (to %s); want a directory", m.Type, m.Destination, resolved)
		}
	}
	t, err := r.openTarget(m.Destination, kind)
	if err != nil {
		return nil, fmt.Errorf("mount point %s: %w", m.Destination, err)
	}
	return t, nil
}

// mountedAt names a mount point in messages: the destination, and where
// it resolved to when that differs.
func mountedAt(dest string, t *mountTarget) string {
	if path.Clean(dest) == t.resolved {
		return dest
	}
	return dest + " (" + t.resolved + ")"
}

// bindMount binds m.Source on the mount point t, then applies the flags
// with a remount (a bind ignores them).
func bindMount(t *mountTarget, m *spec.Mount, flags uintptr) error {
	if err := unix.Mount(m.Source, t.path(), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", m.Source, mountedAt(m.Destination, t), err)
	}
	if flags&^unix.MS_REC != 0 {
		if err := remountTop(t, flags); err != nil {
			return fmt.Errorf("remount %s: %w", mountedAt(m.Destination, t), err)
		}
	}
	return nil
}

// remountTop changes the flags of the mount just made on t.
func remountTop(t *mountTarget, flags uintptr) error {
	top, err := t.top()
	if err != nil {
		return err
	}
	defer unix.Close(top)
	return remount(fdPath(top), flags)
}

// remount changes the flags of the mount at target, keeping the flags the
// kernel locked on it (a mount from a more privileged namespace keeps its
// nosuid, nodev, noexec and atime flags, or the remount fails).
func remount(target string, flags uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return err
	}
	locked := map[int64]uintptr{
		unix.ST_NOSUID:     unix.MS_NOSUID,
		unix.ST_NODEV:      unix.MS_NODEV,
		unix.ST_NOEXEC:     unix.MS_NOEXEC,
		unix.ST_NOATIME:    unix.MS_NOATIME,
		unix.ST_NODIRATIME: unix.MS_NODIRATIME,
		unix.ST_RELATIME:   unix.MS_RELATIME,
		unix.ST_RDONLY:     unix.MS_RDONLY,
	}
	for st_, ms := range locked {
		if st.Flags&st_ != 0 {
			flags |= ms
		}
	}
	return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|flags, "")
}

// populateDev fills the new tmpfs of /dev, held by dirfd: nothing of the
// image is in it.
func populateDev(dirfd int) error {
	for _, name := range devices {
		fd, err := unix.Openat(dirfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
		if err != nil {
			return fmt.Errorf("create /dev/%s: %w", name, err)
		}
		err = unix.Mount("/dev/"+name, fdPath(fd), "", unix.MS_BIND, "")
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("bind /dev/%s: %w", name, err)
		}
	}
	for _, l := range devLinks {
		if err := unix.Symlinkat(l[0], dirfd, l[1]); err != nil {
			return fmt.Errorf("link /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// maskPath hides path, when it exists, under an empty read-only tmpfs (a
// directory) or /dev/null (anything else).
func maskPath(r *rootfs, p string) error {
	t, err := r.openTarget(p, existing)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	defer t.close()
	if t.isDir {
		err = unix.Mount("tmpfs", t.path(), "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0")
	} else {
		err = unix.Mount("/dev/null", t.path(), "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	return nil
}

// readonlyPath makes path, when it exists, a read-only bind of itself.
func readonlyPath(r *rootfs, p string) error {
	t, err := r.openTarget(p, existing)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read-only %s: %w", p, err)
	}
	defer t.close()
	if err := unix.Mount(t.path(), t.path(), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("read-only %s: %w", p, err)
	}
	if err := remountTop(t, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
		return fmt.Errorf("read-only %s: %w", p, err)
	}
	return nil
}

// pivotRoot makes root the root directory and detaches the old one, with
// the pivot_root(".", ".") idiom that needs no directory for the old root.
func pivotRoot(root string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root: %w", err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return fmt.Errorf("enter new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("enter old root: %w", err)
	}
	// Keep the detach of the old root from propagating anywhere.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root a slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}
