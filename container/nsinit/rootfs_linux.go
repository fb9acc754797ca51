package nsinit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sandbox/container/spec"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/cyphar/filepath-securejoin/pathrs-lite"
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

func setupRootfs(s *spec.Spec) error {
	root := s.Rootfs
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind root filesystem %s: %w", root, err)
	}
	for i := range s.Mounts {
		if err := mountOne(root, &s.Mounts[i]); err != nil {
			return err
		}
	}
	if err := pathrs.MkdirAll(root, s.Process.Cwd, 0o755); err != nil {
		return fmt.Errorf("create working directory %s: %w", s.Process.Cwd, err)
	}
	if !s.Privileged {
		for _, p := range s.MaskedPaths {
			if err := maskPath(root, p); err != nil {
				return err
			}
		}
		for _, p := range s.ReadonlyPaths {
			if err := readonlyPath(root, p); err != nil {
				return err
			}
		}
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

func mountOne(root string, m *spec.Mount) error {
	flags, err := mountFlags(m)
	if err != nil {
		return err
	}
	target, err := securejoin.SecureJoin(root, m.Destination)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	if m.Type == "bind" {
		return bindMount(root, target, m, flags)
	}
	if err := pathrs.MkdirAll(root, m.Destination, 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", m.Destination, err)
	}
	err = unix.Mount(m.Type, target, m.Type, flags, m.Data)
	if err != nil && errors.Is(err, unix.EPERM) {
		// Without a network (or ipc) namespace of our own the kernel refuses
		// a new sysfs (mqueue): show the host's, read-only, instead.
		switch m.Type {
		case "sysfs":
			return bindMount(root, target, &spec.Mount{Type: "bind", Source: "/sys", Destination: m.Destination, ReadOnly: true}, flags)
		case "mqueue":
			return bindMount(root, target, &spec.Mount{Type: "bind", Source: "/dev/mqueue", Destination: m.Destination}, flags&^unix.MS_RDONLY)
		}
	}
	if err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
	}
	if m.Type == "tmpfs" && m.Destination == "/dev" {
		return populateDev(target)
	}
	return nil
}

// bindMount binds m.Source on target, creating a mount point of the same
// kind, then applies the flags with a remount (a bind ignores them).
func bindMount(root, target string, m *spec.Mount, flags uintptr) error {
	st, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("bind mount source %s: %w", m.Source, err)
	}
	if st.IsDir() {
		err = pathrs.MkdirAll(root, m.Destination, 0o755)
	} else {
		err = createFile(root, m.Destination)
	}
	if err != nil {
		return fmt.Errorf("create mount point %s: %w", m.Destination, err)
	}
	if err := unix.Mount(m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", m.Source, m.Destination, err)
	}
	if flags&^unix.MS_REC != 0 {
		if err := remount(target, flags); err != nil {
			return fmt.Errorf("remount %s: %w", m.Destination, err)
		}
	}
	return nil
}

// createFile makes an empty file at path under root as a mount point.
func createFile(root, path string) error {
	dir := filepath.Dir(path)
	if err := pathrs.MkdirAll(root, dir, 0o755); err != nil {
		return err
	}
	target, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		if errors.Is(err, unix.EISDIR) {
			return nil
		}
		return err
	}
	return f.Close()
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

func populateDev(dev string) error {
	for _, name := range devices {
		target := filepath.Join(dev, name)
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return fmt.Errorf("create /dev/%s: %w", name, err)
		}
		f.Close()
		if err := unix.Mount("/dev/"+name, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", name, err)
		}
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[0], filepath.Join(dev, l[1])); err != nil {
			return fmt.Errorf("link /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

func maskPath(root, path string) error {
	target, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return fmt.Errorf("mask %s: %w", path, err)
	}
	st, err := os.Stat(target)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", path, err)
	}
	if st.IsDir() {
		err = unix.Mount("tmpfs", target, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0")
	} else {
		err = unix.Mount(filepath.Join(root, "dev/null"), target, "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", path, err)
	}
	return nil
}

func readonlyPath(root, path string) error {
	target, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return fmt.Errorf("read-only %s: %w", path, err)
	}
	if _, err := os.Stat(target); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := unix.Mount(target, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("read-only %s: %w", path, err)
	}
	if err := remount(target, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
		return fmt.Errorf("read-only %s: %w", path, err)
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
