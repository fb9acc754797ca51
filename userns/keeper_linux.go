package userns

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sandbox/internal/atomicfile"
	"sandbox/internal/cleanup"
	"sandbox/internal/lockfile"
	"sandbox/internal/proc"
	"sandbox/prerun"

	"golang.org/x/sys/unix"
)

// ErrMissingTool is returned when a host program that rootless containers
// need is not installed; the message names the Debian package.
var ErrMissingTool = errors.New("missing host program")

const reexecEnv = "_SANDBOX_REEXEC"

// Options tune Enter.
type Options struct {
	// Warn receives one-line warnings: no subordinate ids, no usable
	// XDG_RUNTIME_DIR. Nil means os.Stderr.
	Warn io.Writer
}

// RuntimeDir is the per-user directory of runtime state: the keeper's pid
// file and, unless --runroot says otherwise, container state.
func RuntimeDir() string { return prerun.RuntimeDir() }

// HostIDs are the user's ids outside every namespace.
func HostIDs() (uid, gid int) { return prerun.HostIDs() }

// Inside reports whether the process runs in the keeper's namespaces.
func Inside() bool { return prerun.State() != prerun.Unjoined }

// ChildEnv is the environment that tells a sandbox process started from
// inside the keeper (monitor, helper, cleanup) that it is inside already.
func ChildEnv() []string {
	uid, gid := HostIDs()
	return []string{
		"_SANDBOX_IN_KEEPER=1",
		"_SANDBOX_RUNTIME_DIR=" + RuntimeDir(),
		"_SANDBOX_HOST_UID=" + strconv.Itoa(uid),
		"_SANDBOX_HOST_GID=" + strconv.Itoa(gid),
		"_CONTAINERS_USERNS_CONFIGURED=1",
		"_CONTAINERS_ROOTLESS_UID=" + strconv.Itoa(uid),
	}
}

// Enter returns once the process runs in the keeper's user and mount
// namespaces. When the hook found no live keeper, Enter starts one (under a
// lock, so concurrent commands start one between them) and re-executes the
// process, whose hook then joins it: in that case Enter does not return
// unless re-executing fails.
func Enter(opts Options) error {
	if opts.Warn == nil {
		opts.Warn = os.Stderr
	}
	if Inside() {
		// containers/storage and containers/image read these to know they
		// run in a user namespace, and whose.
		uid, _ := HostIDs()
		if err := os.Setenv("_CONTAINERS_ROOTLESS_UID", strconv.Itoa(uid)); err != nil {
			return err
		}
		return os.Setenv("_CONTAINERS_USERNS_CONFIGURED", "1")
	}
	if os.Getenv(reexecEnv) != "" {
		return fmt.Errorf("joining the keeper's namespaces failed after starting it: %s", prerun.HookError())
	}
	dir := RuntimeDir()
	if err := ensureRuntimeDir(dir); err != nil {
		return err
	}
	lock, err := lockfile.Acquire(filepath.Join(dir, "keeper.lock"))
	if err != nil {
		return err
	}
	defer lock.Unlock()
	// Another command may have started a keeper while this one waited.
	if !keeperAlive(dir) {
		if prerun.RuntimeDirFallback() {
			fmt.Fprintf(opts.Warn, "WARN: XDG_RUNTIME_DIR is unset or not owned by you: keeping runtime state in %s\n", dir)
		}
		if err := startKeeper(dir, opts.Warn); err != nil {
			return err
		}
	}
	if err := lock.Unlock(); err != nil {
		return fmt.Errorf("unlock keeper: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	env := append(os.Environ(), reexecEnv+"=1")
	return fmt.Errorf("re-execute %s: %w", self, syscall.Exec(self, os.Args, env))
}

func ensureRuntimeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create runtime directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("runtime directory: %w", err)
	}
	uid, _ := HostIDs()
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != uid {
		return fmt.Errorf("runtime directory %s belongs to uid %d, not to you (uid %d): set XDG_RUNTIME_DIR to a directory of yours", dir, sys.Uid, uid)
	}
	return nil
}

// keeperAlive reports whether dir/keeper.pid names a live keeper.
func keeperAlive(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "keeper.pid"))
	if err != nil {
		return false
	}
	pid, start, err := ParsePidFile(data)
	if err != nil {
		return false
	}
	// A killed keeper can stay a zombie when nothing reaps orphans.
	return proc.Alive(pid, start)
}

// ParsePidFile reads the keeper's "PID STARTTIME" line.
func ParsePidFile(data []byte) (pid int, start uint64, err error) {
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("keeper pid file %q: want PID STARTTIME", data)
	}
	pid, err = strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return 0, 0, fmt.Errorf("keeper pid file %q: bad pid", data)
	}
	start, err = strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("keeper pid file %q: bad start time", data)
	}
	return pid, start, nil
}

// SubIDs returns the user's subordinate uid and gid ranges, from the files
// or, where they have no entry, from getsubids.
func SubIDs(uid int) (uids, gids []Range, err error) {
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	uids, err = subIDs("/etc/subuid", name, uid, false)
	if err != nil {
		return nil, nil, err
	}
	gids, err = subIDs("/etc/subgid", name, uid, true)
	if err != nil {
		return nil, nil, err
	}
	return uids, gids, nil
}

func subIDs(file, name string, id int, group bool) ([]Range, error) {
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	ranges, err := ParseSubIDs(data, name, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(ranges) > 0 {
		return ranges, nil
	}
	path, err := osexec.LookPath("getsubids")
	if err != nil {
		return nil, nil
	}
	args := []string{name}
	if group {
		args = []string{"-g", name}
	}
	out, err := osexec.Command(path, args...).Output()
	if err != nil {
		return nil, nil // getsubids exits non-zero when the user has no ranges
	}
	return ParseGetsubids(out)
}

// startKeeper starts the keeper in new user and mount namespaces, maps its
// ids, and records it in dir/keeper.pid.
func startKeeper(dir string, warn io.Writer) (retErr error) {
	uid, gid := HostIDs()
	subUIDs, subGIDs, err := SubIDs(uid)
	if err != nil {
		return err
	}
	single := len(subUIDs) == 0 || len(subGIDs) == 0
	var newuidmap, newgidmap string
	if single {
		name := strconv.Itoa(uid)
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
		fmt.Fprintf(warn, "WARN: no subordinate ids for %s in /etc/subuid and /etc/subgid: containers get a single-id mapping, so images with files of other owners cannot be used fully (fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s)\n", name, name)
	} else {
		if newuidmap, err = osexec.LookPath("newuidmap"); err != nil {
			return fmt.Errorf("newuidmap: %w: install the uidmap package (apt-get install uidmap)", ErrMissingTool)
		}
		if newgidmap, err = osexec.LookPath("newgidmap"); err != nil {
			return fmt.Errorf("newgidmap: %w: install the uidmap package (apt-get install uidmap)", ErrMissingTool)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	uidMap, gidMap := Mapping(uid, subUIDs), Mapping(gid, subGIDs)
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		Setsid:     true,
	}
	if single {
		// An unprivileged process may map its own id itself.
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
	}
	cmd := &osexec.Cmd{
		Path:        self,
		Args:        []string{"sandbox-keeper"},
		Env:         []string{"_SANDBOX_ROLE=keeper"},
		Dir:         "/",
		SysProcAttr: attr,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start keeper: %w", err)
	}
	pid := cmd.Process.Pid
	// A keeper whose ids are not mapped, or that is not recorded, is of
	// no use to anyone: it goes, and is reaped.
	undo := cleanup.Make(func() {
		if err := cmd.Process.Kill(); err != nil {
			retErr = fmt.Errorf("%w (and killing the keeper: %v)", retErr, err)
			return
		}
		if _, err := cmd.Process.Wait(); err != nil {
			retErr = fmt.Errorf("%w (and reaping the keeper: %v)", retErr, err)
		}
	})
	defer undo.Clean()
	if !single {
		if err := runMap(newuidmap, pid, uidMap); err != nil {
			return err
		}
		if err := runMap(newgidmap, pid, gidMap); err != nil {
			return err
		}
	}
	start, err := proc.StartTime(pid)
	if err != nil {
		return fmt.Errorf("keeper start time: %w", err)
	}
	line := fmt.Sprintf("%d %d\n", pid, start)
	if err := atomicfile.Write(filepath.Join(dir, "keeper.pid"), []byte(line), 0o600); err != nil {
		return err
	}
	// The keeper lives on after this process; reap nothing, hold nothing.
	undo.Release()
	return cmd.Process.Release()
}

func runMap(tool string, pid int, m []IDMap) error {
	args := append([]string{strconv.Itoa(pid)}, mapArgs(m)...)
	var stderr bytes.Buffer
	c := osexec.Command(tool, args...)
	c.Stderr = &stderr
	deadline := time.AfterFunc(10*time.Second, func() {
		if c.Process != nil {
			c.Process.Kill()
		}
	})
	defer deadline.Stop()
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(tool), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// CurrentMapping reads the uid and gid maps of the calling process's user
// namespace (the keeper's, once joined).
func CurrentMapping() (uids, gids []IDMap, err error) {
	u, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return nil, nil, err
	}
	g, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return nil, nil, err
	}
	if uids, err = ParseIDMap(u); err != nil {
		return nil, nil, err
	}
	if gids, err = ParseIDMap(g); err != nil {
		return nil, nil, err
	}
	return uids, gids, nil
}
