package cgroupv2

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// The cgroups sandbox makes under the delegated root D:
//
//	D/init            the processes that were in D itself, moved out so
//	                  that D may enable controllers for its children (the
//	                  no-internal-processes rule); made only when needed
//	D/sandbox         the parent of every container's cgroup
//	D/sandbox/ID      one container: its init and every process in it
const (
	InitName   = "init"
	ParentName = "sandbox"
)

// Leaf is one container's cgroup.
type Leaf struct {
	// Dir is the cgroup's directory under the cgroup v2 mount.
	Dir string
}

// CreateLeaf makes the cgroup of container id under the delegated root
// of st, with every delegated controller enabled down to it. Whether the
// controllers the container's limits use are delegated is checked once,
// before (Status.RequireLimits). A leaf left by an earlier run of the
// same container (a monitor that was killed) is taken over.
func CreateLeaf(st *Status, id string) (*Leaf, error) {
	if err := st.RequireLeaf("a container's cgroup"); err != nil {
		return nil, err
	}
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, fmt.Errorf("bad cgroup name %q", id)
	}
	ctls := st.Delegated()
	root := st.DelegateRoot
	parent := path.Join(root, ParentName)
	if err := enable(root, ctls); err != nil {
		return nil, err
	}
	if err := mkdir(parent); err != nil {
		return nil, err
	}
	if err := enable(parent, ctls); err != nil {
		return nil, err
	}
	l := &Leaf{Dir: path.Join(parent, id)}
	if err := mkdir(l.Dir); err != nil {
		return nil, err
	}
	return l, nil
}

func mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	return nil
}

// enable makes the controllers available to dir's children. A cgroup
// holding processes cannot (EBUSY): they are moved to dir/init first.
func enable(dir string, ctls []string) error {
	data, err := os.ReadFile(path.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("read enabled controllers: %w", err)
	}
	have := map[string]bool{}
	for _, c := range ParseControllers(data) {
		have[c] = true
	}
	var add []string
	for _, c := range ctls {
		if !have[c] {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	line := strings.Join(add, " ")
	for try := 0; ; try++ {
		err := writeFile(dir, "cgroup.subtree_control", line)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || try == 3 {
			return fmt.Errorf("enable controllers %s for %s: %w", line, dir, err)
		}
		if err := moveProcesses(dir, path.Join(dir, InitName)); err != nil {
			return err
		}
	}
}

// moveProcesses moves every process of cgroup from into cgroup to, which
// is made if need be. Processes that fork meanwhile are caught by going
// round again; ones that exit meanwhile are skipped.
func moveProcesses(from, to string) error {
	if err := mkdir(to); err != nil {
		return err
	}
	for round := 0; round < 10; round++ {
		data, err := os.ReadFile(path.Join(from, "cgroup.procs"))
		if err != nil {
			return fmt.Errorf("list processes of %s: %w", from, err)
		}
		pids := strings.Fields(string(data))
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			if err := writeFile(to, "cgroup.procs", pid); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("move process %s from %s to %s (the no-internal-processes rule): %w", pid, from, to, err)
			}
		}
	}
	return fmt.Errorf("processes keep appearing in %s: cannot move them to %s", from, to)
}

// writeFile writes value to a cgroup file in one write(2), which is how
// the kernel takes it. Errors name the file and value. O_TRUNC means
// nothing to a cgroup file (runc opens them so too); it makes a plain
// file, as the unit tests use, hold just what was written.
func writeFile(dir, file, value string) error {
	p := path.Join(dir, file)
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	return nil
}

// Open opens the leaf's directory, for clone3's CLONE_INTO_CGROUP: the
// new process starts inside the leaf, and the cgroup namespace it makes
// is rooted there.
func (l *Leaf) Open() (*os.File, error) {
	f, err := os.OpenFile(l.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup: %w", err)
	}
	return f, nil
}

// Apply writes the limits r sets and leaves the other files as they are.
// A file the kernel does not have is an error that names the controller,
// unless the setting is optional.
func (l *Leaf) Apply(r *spec.Resources) error {
	files, err := settings(r, BlockDevice)
	if err != nil {
		return err
	}
	for _, s := range files {
		err := writeFile(l.Dir, s.File, s.Value)
		if errors.Is(err, fs.ErrNotExist) {
			if s.Optional {
				continue
			}
			return fmt.Errorf("set %s: %s has no %s (is the %s controller enabled for it?)", s.File, l.Dir, s.File, s.Controller)
		}
		if err != nil {
			return fmt.Errorf("set %s: %w", s.File, err)
		}
	}
	if r.BlkioWeight != 0 {
		// BFQ's own weight, where that scheduler runs, takes blkio's range
		// as is; io.weight (blk-iocost) takes 1-10000.
		err := writeFile(l.Dir, "io.bfq.weight", strconv.Itoa(int(r.BlkioWeight)))
		if errors.Is(err, fs.ErrNotExist) {
			err = writeFile(l.Dir, "io.weight", "default "+strconv.FormatUint(BlkioToIOWeight(r.BlkioWeight), 10))
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("set --blkio-weight: %s has neither io.bfq.weight nor io.weight (the kernel lacks BFQ and blk-iocost)", l.Dir)
		}
		if err != nil {
			return fmt.Errorf("set --blkio-weight: %w", err)
		}
	}
	return nil
}

// events reads cgroup.events (populated, frozen).
func (l *Leaf) events() (map[string]uint64, error) {
	data, err := os.ReadFile(path.Join(l.Dir, "cgroup.events"))
	if err != nil {
		return nil, fmt.Errorf("read cgroup events: %w", err)
	}
	ev, err := ParseKeyed(data)
	if err != nil {
		return nil, fmt.Errorf("%s/cgroup.events: %w", l.Dir, err)
	}
	return ev, nil
}

// await polls cgroup.events until key has the value, for up to timeout.
func (l *Leaf) await(key string, want uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for sleep := 200 * time.Microsecond; ; sleep = min(2*sleep, 20*time.Millisecond) {
		ev, err := l.events()
		if err != nil {
			return err
		}
		if ev[key] == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s is still %d after %s", l.Dir, key, ev[key], timeout)
		}
		time.Sleep(sleep)
	}
}

// Freeze stops every process of the leaf (cgroup.freeze) and waits until
// the kernel reports them frozen. On timeout the leaf is thawed again.
func (l *Leaf) Freeze(timeout time.Duration) error {
	if err := writeFile(l.Dir, "cgroup.freeze", "1"); err != nil {
		return fmt.Errorf("freeze: %w", err)
	}
	if err := l.await("frozen", 1, timeout); err != nil {
		if terr := writeFile(l.Dir, "cgroup.freeze", "0"); terr != nil {
			return fmt.Errorf("freeze: %w (and thawing again: %v)", err, terr)
		}
		return fmt.Errorf("freeze: %w", err)
	}
	return nil
}

// Thaw lets the processes of a frozen leaf run again.
func (l *Leaf) Thaw(timeout time.Duration) error {
	if err := writeFile(l.Dir, "cgroup.freeze", "0"); err != nil {
		return fmt.Errorf("thaw: %w", err)
	}
	if err := l.await("frozen", 0, timeout); err != nil {
		return fmt.Errorf("thaw: %w", err)
	}
	return nil
}

// Frozen reports whether the leaf is frozen.
func (l *Leaf) Frozen() (bool, error) {
	ev, err := l.events()
	if err != nil {
		return false, err
	}
	return ev["frozen"] == 1, nil
}

// Kill sends SIGKILL to every process of the leaf at once (cgroup.kill;
// frozen ones too). A leaf that is gone has nothing to kill; so has one
// removed between the open and the write of cgroup.kill (ENODEV, from
// kernfs), as the monitor does when the container's last process ends.
func (l *Leaf) Kill() error {
	err := writeFile(l.Dir, "cgroup.kill", "1")
	if err == nil || errors.Is(err, unix.ENODEV) || errors.Is(err, fs.ErrNotExist) && !exists(l.Dir) {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("kill: %w", err)
	}
	// Before Linux 5.14 there is no cgroup.kill: one process at a time.
	data, rerr := os.ReadFile(path.Join(l.Dir, "cgroup.procs"))
	if rerr != nil {
		return fmt.Errorf("kill: %w", rerr)
	}
	for _, p := range strings.Fields(string(data)) {
		pid, perr := strconv.Atoi(p)
		if perr != nil {
			return fmt.Errorf("kill: %s/cgroup.procs holds %q", l.Dir, p)
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill pid %d: %w", pid, err)
		}
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Remove kills what is left in the leaf, waits until it is empty and
// removes it. A leaf that is gone already is no error.
func (l *Leaf) Remove(timeout time.Duration) error {
	if !exists(l.Dir) {
		return nil
	}
	if err := l.Kill(); err != nil {
		return err
	}
	if err := l.await("populated", 0, timeout); err != nil && exists(l.Dir) {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	if err := os.Remove(l.Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	return nil
}

// OOMKills is memory.events' oom_kill: 0 without the memory controller.
func (l *Leaf) OOMKills() (uint64, error) {
	data, err := os.ReadFile(path.Join(l.Dir, "memory.events"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read memory events: %w", err)
	}
	ev, err := ParseKeyed(data)
	if err != nil {
		return 0, fmt.Errorf("%s/memory.events: %w", l.Dir, err)
	}
	return ev["oom_kill"], nil
}

// Stats reads the leaf's figures. The files of a controller that is not
// enabled read as zero (and MemoryMax, PidsMax as Max).
func (l *Leaf) Stats() (*Stats, error) {
	s := &Stats{MemoryMax: Max, PidsMax: Max}
	read := func(file string) ([]byte, bool, error) {
		data, err := os.ReadFile(path.Join(l.Dir, file))
		if errors.Is(err, fs.ErrNotExist) {
			if !exists(l.Dir) {
				return nil, false, fmt.Errorf("stats: %w: %s", ErrNoLeaf, l.Dir)
			}
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("stats: %w", err)
		}
		return data, true, nil
	}
	keyed := func(file string) (map[string]uint64, error) {
		data, ok, err := read(file)
		if err != nil || !ok {
			return map[string]uint64{}, err
		}
		m, err := ParseKeyed(data)
		if err != nil {
			return nil, fmt.Errorf("stats: %s/%s: %w", l.Dir, file, err)
		}
		return m, nil
	}
	value := func(file string, into *int64) error {
		data, ok, err := read(file)
		if err != nil || !ok {
			return err
		}
		if *into, err = ParseValue(data); err != nil {
			return fmt.Errorf("stats: %s/%s: %w", l.Dir, file, err)
		}
		return nil
	}
	cpu, err := keyed("cpu.stat")
	if err != nil {
		return nil, err
	}
	s.CPUUsageUsec = cpu["usage_usec"]
	mem, err := keyed("memory.stat")
	if err != nil {
		return nil, err
	}
	s.MemoryInactiveFile = mem["inactive_file"]
	ev, err := keyed("memory.events")
	if err != nil {
		return nil, err
	}
	s.OOMKills = ev["oom_kill"]
	var cur, pids int64
	for _, v := range []struct {
		file string
		into *int64
	}{{"memory.current", &cur}, {"memory.max", &s.MemoryMax}, {"pids.current", &pids}, {"pids.max", &s.PidsMax}} {
		if err := value(v.file, v.into); err != nil {
			return nil, err
		}
	}
	s.MemoryCurrent, s.Pids = uint64(max(cur, 0)), uint64(max(pids, 0))
	data, ok, err := read("io.stat")
	if err != nil {
		return nil, err
	}
	if ok {
		devs, err := ParseIOStat(data)
		if err != nil {
			return nil, fmt.Errorf("stats: %s/io.stat: %w", l.Dir, err)
		}
		s.ReadBytes, s.WriteBytes = IOTotals(devs)
	}
	return s, nil
}
