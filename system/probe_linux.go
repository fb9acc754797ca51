package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sandbox/storage"

	"golang.org/x/sys/unix"
)

// The probes try what a container needs instead of inferring it from
// settings: a child in fresh user and mount namespaces, root there with
// the user's own ids mapped (as the keeper is), runs mount(8). Its mounts
// vanish with its mount namespace when it exits, and never propagate out
// (a mount namespace made by an unprivileged user receives, never sends).

// systemProgram finds a base system program in the usual directories
// first: the probes must not depend on the PATH being checked.
func systemProgram(name string) (string, error) {
	for _, d := range []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return osexec.LookPath(name)
}

// nsProbe runs argv in fresh user and mount namespaces.
func (c *checker) nsProbe(argv ...string) error {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	cmd := osexec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		// The ids as this process sees them: the user's outside the
		// keeper, 0 inside it (a nested namespace then).
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := firstLine(out)
		if msg == "" {
			msg = fmt.Sprintf("%s: %v", filepath.Base(argv[0]), err)
		}
		return &probeError{msg: msg, err: err}
	}
	return nil
}

// probeError is a probe that failed: what the program said, and how it
// ended (an *exec.ExitError, or why it could not start).
type probeError struct {
	msg string
	err error
}

func (e *probeError) Error() string { return e.msg }
func (e *probeError) Unwrap() error { return e.err }

// usernsItem checks that unprivileged user namespaces are allowed: the
// sysctls that forbid them, then a real one with a mount in it (which an
// AppArmor restriction lets be created but not used).
func (c *checker) usernsItem() Item {
	it := Item{Name: "userns", State: Missing}
	var problems, fixes []string
	limit := ""
	if data, exists, err := sysctl("kernel.unprivileged_userns_clone"); exists && err == nil {
		if n, err := ParseInt(data); err == nil && n == 0 {
			problems = append(problems, "kernel.unprivileged_userns_clone is 0")
			fixes = append(fixes, persistSysctl("kernel.unprivileged_userns_clone", "1", "50-sandbox-userns.conf"))
		}
	}
	if data, exists, err := sysctl("user.max_user_namespaces"); exists && err == nil {
		if n, err := ParseInt(data); err == nil && n == 0 {
			problems = append(problems, "user.max_user_namespaces is 0")
			fixes = append(fixes, persistSysctl("user.max_user_namespaces", "15000", "50-sandbox-max-userns.conf"))
		} else if err == nil {
			limit = fmt.Sprintf("; user.max_user_namespaces=%d", n)
		}
	}
	if data, exists, err := sysctl("kernel.apparmor_restrict_unprivileged_userns"); exists && err == nil {
		if n, err := ParseInt(data); err == nil && n != 0 && !c.appArmorAllows() {
			exe := c.executable()
			problems = append(problems, "kernel.apparmor_restrict_unprivileged_userns is 1 and no AppArmor profile lets "+exe+" use user namespaces")
			fixes = append(fixes, fmt.Sprintf(`printf 'abi <abi/4.0>,\ninclude <tunables/global>\nprofile sandbox %s flags=(unconfined) {\n  userns,\n}\n' | sudo tee /etc/apparmor.d/sandbox && sudo apparmor_parser -r /etc/apparmor.d/sandbox`, exe))
		}
	}
	it.Fix = strings.Join(fixes, " && ")
	if it.Fix == "" {
		it.Fix = persistSysctl("user.max_user_namespaces", "15000", "50-sandbox-max-userns.conf")
	}
	mount, err := systemProgram("mount")
	if err != nil {
		// Without mount(8) only the settings can tell.
		if len(problems) > 0 {
			it.Detail = strings.Join(problems, "; ")
			return it
		}
		it.State, it.Detail = OK, "allowed by the kernel settings (not tried: no mount program)"+limit
		return it
	}
	probeErr := c.nsProbe(mount, "-t", "tmpfs", "-o", "size=64k", "tmpfs", "/tmp")
	switch {
	case probeErr == nil:
		it.State, it.Detail = OK, "allowed (tried, with a mount)"+limit
	case len(problems) > 0:
		it.Detail = strings.Join(problems, "; ")
	default:
		it.Detail = "creating a user namespace and mounting in it failed: " + probeErr.Error()
		it.Fix = "unprivileged user namespaces are refused by something other than the kernel settings (a seccomp filter of the container this runs in, a security module): run sandbox where they are allowed"
	}
	return it
}

func (c *checker) executable() string {
	exe, err := os.Executable()
	if err != nil {
		return "/usr/local/bin/sandbox"
	}
	return exe
}

// appArmorAllows reports whether an AppArmor profile is loaded for the
// sandbox binary (by its path or named sandbox). The list may be closed
// to users; then the probe decides.
func (c *checker) appArmorAllows() bool {
	data, err := os.ReadFile("/sys/kernel/security/apparmor/profiles")
	if err != nil {
		return false
	}
	exe := c.executable()
	for _, name := range ParseAppArmorProfiles(data) {
		if name == exe || name == "sandbox" {
			return true
		}
	}
	return false
}

// overlayItem reports the storage driver: the one the store was created
// with, and whether native overlay works in a user namespace on the file
// system of the store (tried beside it).
func (c *checker) overlayItem(graphRoot string) Item {
	it := Item{Name: "overlay", State: Warning,
		Fix: "Linux 5.13 or later mounts overlay in a user namespace, on ext4, xfs or btrfs; elsewhere: " + apt("fuse-overlayfs")}
	recorded, recErr := storage.RecordedDriver(graphRoot)
	if recErr != nil {
		it.State, it.Detail = Missing, recErr.Error()
		it.Fix = fmt.Sprintf(`echo '{"driver":"overlay"}' > %s (or fuse-overlayfs or vfs: the driver the store was made with)`, filepath.Join(graphRoot, "sandbox-driver.json"))
		return it
	}
	dir := nearestDir(graphRoot)
	fsName := fsTypeName(dir)
	probeErr := c.overlayProbe(dir)
	native := fmt.Sprintf("native overlay works in a user namespace on %s (%s)", dir, fsName)
	if probeErr != nil {
		native = fmt.Sprintf("native overlay fails in a user namespace on %s (%s): %v", dir, fsName, probeErr)
	}
	var failure *overlayFailure
	if errors.As(probeErr, &failure) {
		it.Fix = failure.fix
	}
	switch {
	case recorded == storage.DriverOverlay && probeErr == nil:
		it.State, it.Detail = OK, fmt.Sprintf("the store uses native overlay (on %s)", fsName)
	case recorded == storage.DriverOverlay:
		it.Detail = "the store uses native overlay, but " + native
	case recorded != "" && probeErr == nil:
		it.Detail = fmt.Sprintf("the store uses %s (%s), though %s", recorded, slower(recorded), native)
		it.Fix = fmt.Sprintf(`remove every container, then (this deletes every image): sandbox --root %s unshare sh -c 'umount %s/overlay 2>/dev/null; rm -rf %s' (the next store uses native overlay)`, graphRoot, graphRoot, graphRoot)
	case recorded != "":
		it.Detail = fmt.Sprintf("the store uses %s (%s): %s", recorded, slower(recorded), native)
	case probeErr == nil:
		it.State, it.Detail = OK, "no store yet; "+native+": a new store uses it"
	default:
		next := storage.DriverVFS
		if _, err := osexec.LookPath("fuse-overlayfs"); err == nil {
			next = storage.DriverFuse
		}
		it.Detail = fmt.Sprintf("no store yet; %s: a new store uses %s (%s)", native, next, slower(next))
	}
	return it
}

func slower(driver string) string {
	if driver == storage.DriverVFS {
		return "a full copy per layer: slow and large"
	}
	return "every file access goes through FUSE"
}

// overlayProbe repeats the test by which containers/storage decides for
// native overlay (drivers/overlay supportsOverlay), in a temporary
// directory in dir: a kernel-style whiteout made in the upper layer, an
// overlay of two lower layers mounted with user extended attributes, and
// a directory of the lower layer removed through it (which fails, with
// EIO, where the file system cannot hold the overlay's attributes).
func (c *checker) overlayProbe(dir string) (retErr error) {
	sh, err := systemProgram("sh")
	if err != nil {
		return fmt.Errorf("not tried: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".sandbox-check-")
	if err != nil {
		return fmt.Errorf("create a test directory: %w", err)
	}
	defer func() {
		// The overlay leaves work/work with mode 0, not always empty.
		err := os.Chmod(filepath.Join(tmp, "work", "work"), 0o700)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			err = os.RemoveAll(tmp)
		}
		if err != nil && retErr == nil {
			retErr = fmt.Errorf("remove the test directory: %w", err)
		}
	}()
	for _, d := range []string{"lower1", "lower2/subdir", "upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o700); err != nil {
			return fmt.Errorf("create a test directory: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "lower2", "subdir", "file"), nil, 0o600); err != nil {
		return fmt.Errorf("create a test file: %w", err)
	}
	opts := fmt.Sprintf("lowerdir=%s:%s,upperdir=%s,workdir=%s,userxattr",
		filepath.Join(tmp, "lower1"), filepath.Join(tmp, "lower2"), filepath.Join(tmp, "upper"), filepath.Join(tmp, "work"))
	// Each step exits with its own status, which says what failed.
	const script = `cd "$1" || exit 2
mknod upper/whiteout c 0 0 || exit 3
mount -t overlay -o "$2" overlay merged || exit 4
rm -rf merged/subdir || exit 5`
	err = c.nsProbe(sh, "-c", script, "sh", tmp, opts)
	var ee *osexec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	fuse := apt("fuse-overlayfs")
	switch ee.ExitCode() {
	case 3:
		return &overlayFailure{err: err, fix: "Linux 5.8 or later makes whiteouts in a user namespace: upgrade the kernel; until then: " + fuse}
	case 4:
		return &overlayFailure{err: err, fix: "Linux 5.13 or later mounts overlay in a user namespace: upgrade the kernel; until then: " + fuse}
	case 5:
		return &overlayFailure{err: fmt.Errorf("the file system cannot hold the overlay's user extended attributes (%w)", err),
			fix: fmt.Sprintf("keep the store on ext4, xfs or btrfs (tmpfs holds user extended attributes from Linux 6.6): sandbox --root DIR ...; or: %s", fuse)}
	}
	return err
}

// overlayFailure is why native overlay failed the probe, and what fixes it.
type overlayFailure struct {
	err error
	fix string
}

func (e *overlayFailure) Error() string { return e.err.Error() }
func (e *overlayFailure) Unwrap() error { return e.err }

// nearestDir is p, or its nearest ancestor that exists.
func nearestDir(p string) string {
	for p = filepath.Clean(p); p != "/"; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
	return p
}

// fsNames are the file systems a store commonly sits on, by statfs magic.
var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC:      "extfs",
	unix.XFS_SUPER_MAGIC:       "xfs",
	unix.BTRFS_SUPER_MAGIC:     "btrfs",
	unix.TMPFS_MAGIC:           "tmpfs",
	unix.OVERLAYFS_SUPER_MAGIC: "overlayfs",
	unix.FUSE_SUPER_MAGIC:      "fuse",
	unix.NFS_SUPER_MAGIC:       "nfs",
	unix.V9FS_MAGIC:            "9p",
	unix.F2FS_SUPER_MAGIC:      "f2fs",
	0x2fc12fc1:                 "zfs",
}

// fsTypeName names the file system holding dir.
func fsTypeName(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown file system"
	}
	if n, ok := fsNames[int64(st.Type)]; ok {
		return n
	}
	return fmt.Sprintf("file system %#x", st.Type)
}
