package nsinit

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// Staging: the standard file systems made while the init waits.
//
// Until the go-ahead the init has nothing to do, and most of what it then
// does to the root filesystem does not depend on the image: /proc with
// its masked and read-only paths, /dev with its device nodes, /dev/pts,
// /dev/shm and /dev/mqueue, and /sys with its masked paths; twenty and
// more mounts of some thirty. So, while it waits, a thread of its own
// makes them, as the spec will most likely ask (spec.StandardMounts and
// the default masked and read-only paths), in a mount namespace of that
// thread only, on an empty tmpfs, with the very code that makes them in
// the root filesystem; it then takes a detached copy of each of the
// three trees (open_tree with OPEN_TREE_CLONE) and ends, and with it that
// namespace. After the go-ahead each tree goes onto its mount point in one
// move_mount, if and only if the spec asks for exactly what it holds
// (stagedTrees.plan); anything else is made as before, from the spec.
//
// The root filesystem cannot be staged: it is mounted by the command at
// about the same time, in the keeper's mount namespace, and a namespace
// made before that mount does not see it (containers/storage keeps its
// mounts private), which is why the init's own mount namespace is made
// after the go-ahead (init_linux.go). The mounts are made by a thread of
// the init, in the container's pid, ipc and network namespaces: /proc,
// /dev/mqueue and /sys show those, as when made after the go-ahead.

// stageDir is where the staging thread mounts the tmpfs it builds on, in
// its own mount namespace: any directory of the host will do.
const stageDir = "/tmp"

// stagedTree is one staged file system and what is mounted under it.
type stagedTree struct {
	fd int // the detached copy, close-on-exec
	// mounts are the spec's mounts it holds, its own first.
	mounts []spec.Mount
	// masked and readonly are the paths under it masked and made
	// read-only, in the order they were.
	masked, readonly []string
}

func (t *stagedTree) root() string { return t.mounts[0].Destination }

// under reports whether p is t's root or below it.
func (t *stagedTree) under(p string) bool { return under(t.root(), p) }

// under reports whether p is root or below it.
func under(root, p string) bool { return p == root || strings.HasPrefix(p, root+"/") }

// standardTrees are the trees stage makes, before it makes them: under
// each of /proc, /dev and /sys the standard mounts (spec.StandardMounts)
// and docker's masked and read-only paths.
func standardTrees(gid5 bool) []*stagedTree {
	std := spec.StandardMounts(gid5)
	var trees []*stagedTree
	for _, root := range []string{"/proc", "/dev", "/sys"} {
		t := &stagedTree{fd: -1}
		for _, m := range std {
			if under(root, m.Destination) {
				t.mounts = append(t.mounts, m)
			}
		}
		for _, p := range spec.DefaultMaskedPaths {
			if under(root, p) {
				t.masked = append(t.masked, p)
			}
		}
		for _, p := range spec.DefaultReadonlyPaths {
			if under(root, p) {
				t.readonly = append(t.readonly, p)
			}
		}
		trees = append(trees, t)
	}
	return trees
}

// staging is the staging thread's work, under way or done.
type staging struct {
	done  chan struct{}
	trees []*stagedTree
}

// startStaging starts staging on a thread of its own.
func startStaging() *staging {
	st := &staging{done: make(chan struct{})}
	go func() {
		// Never unlocked: the thread, in its own mount namespace, ends
		// with this goroutine.
		runtime.LockOSThread()
		defer close(st.done)
		st.trees = stage()
	}()
	return st
}

// wait returns the staged trees once the staging thread is done; nil for
// no staging.
func (st *staging) wait() []*stagedTree {
	if st == nil {
		return nil
	}
	<-st.done
	return st.trees
}

// stage makes the standard file systems on a tmpfs of a mount namespace of
// this thread's own and returns a detached copy of each it could make
// whole. A tree that fails is left out: the spec's mounts then make it,
// and report what fails.
func stage() []*stagedTree {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return nil
	}
	// Nothing made here may propagate to the keeper's namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil
	}
	if err := unix.Mount("tmpfs", stageDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=700,size=64k"); err != nil {
		return nil
	}
	r, err := openRootfs(stageDir)
	if err != nil {
		return nil
	}
	defer r.close()
	var trees []*stagedTree
	for _, t := range standardTrees(gid5Mapped()) {
		if err := t.make(r); err != nil {
			continue
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, stageDir+t.root(), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			continue
		}
		t.fd = fd
		trees = append(trees, t)
	}
	return trees
}

// make mounts t's file systems and masked and read-only paths under r.
func (t *stagedTree) make(r *rootfs) error {
	for i := range t.mounts {
		if err := mountOne(r, &t.mounts[i]); err != nil {
			return err
		}
	}
	for _, p := range t.masked {
		if err := maskPath(r, p); err != nil {
			return err
		}
	}
	for _, p := range t.readonly {
		if err := readonlyPath(r, p); err != nil {
			return err
		}
	}
	return nil
}

// gid5Mapped reports whether gid 5 (tty) is mapped in this process's user
// namespace: the command's rule for /dev/pts's gid=5, as the container
// will see its namespace. A map that cannot be read answers false, and a
// /dev/pts staged so is not used if the spec says otherwise.
func gid5Mapped() bool {
	f, err := os.Open("/proc/self/gid_map")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		inside, err1 := strconv.ParseUint(fields[0], 10, 32)
		count, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 == nil && err2 == nil && inside <= 5 && 5 < inside+count {
			return true
		}
	}
	return false
}

// stagePlan says which of s's mounts and paths staged trees stand for.
type stagePlan struct {
	// attach: at this index of s.Mounts, a tree goes onto its mount
	// point.
	attach map[int]*stagedTree
	// covered: indices of s.Mounts a tree holds (its root's included).
	covered map[int]*stagedTree
	used    []*stagedTree
}

// plan matches the staged trees against s. A tree is used only where the
// spec would make exactly what it holds, in an order that makes no
// difference:
//   - each of its mounts is the first in s.Mounts with that destination,
//     and equal to it;
//   - every other mount under its root comes after them (so it lands on
//     top, as it would have), and none is on its root itself;
//   - the masked and read-only paths under its root are the ones it made,
//     in the same order (none for --privileged), and none of the other
//     mounts is under /proc or /sys, which the masks would have covered;
//   - the working directory is not under /proc or /sys.
//
// Trees not used are closed.
func plan(trees []*stagedTree, s *spec.Spec) *stagePlan {
	p := &stagePlan{attach: map[int]*stagedTree{}, covered: map[int]*stagedTree{}}
	for _, t := range trees {
		if idx, ok := t.matches(s); ok {
			p.attach[idx[0]] = t
			for _, i := range idx {
				p.covered[i] = t
			}
			p.used = append(p.used, t)
		} else {
			unix.Close(t.fd)
		}
	}
	return p
}

// matches returns the indices in s.Mounts of t's mounts when t stands for
// them (plan's rules).
func (t *stagedTree) matches(s *spec.Spec) ([]int, bool) {
	var idx []int
	for _, m := range t.mounts {
		i := slices.IndexFunc(s.Mounts, func(sm spec.Mount) bool { return sm.Destination == m.Destination })
		if i < 0 || !mountsEqual(&s.Mounts[i], &m) {
			return nil, false
		}
		idx = append(idx, i)
	}
	last := slices.Max(idx)
	// /dev may take other mounts (devices, volumes) after its own; under
	// /proc and /sys the masks come last, so nothing else may be there.
	othersAllowed := t.root() == "/dev"
	for i, m := range s.Mounts {
		if slices.Contains(idx, i) || !t.under(m.Destination) {
			continue
		}
		if !othersAllowed || m.Destination == t.root() || i < last {
			return nil, false
		}
	}
	var masked, readonly []string
	if !s.Privileged {
		for _, p := range s.MaskedPaths {
			if t.under(p) {
				masked = append(masked, p)
			}
		}
		for _, p := range s.ReadonlyPaths {
			if t.under(p) {
				readonly = append(readonly, p)
			}
		}
	}
	if !slices.Equal(masked, t.masked) || !slices.Equal(readonly, t.readonly) {
		return nil, false
	}
	if !othersAllowed && t.under(s.Process.Cwd) {
		return nil, false
	}
	return idx, true
}

func mountsEqual(a, b *spec.Mount) bool {
	return a.Type == b.Type && a.Source == b.Source && a.Destination == b.Destination &&
		a.ReadOnly == b.ReadOnly && a.Data == b.Data && slices.Equal(a.Flags, b.Flags) &&
		a.Chown == b.Chown && a.Volume == b.Volume
}

// coversPath reports whether a used tree made the masked or read-only path
// p already.
func (p *stagePlan) coversPath(path string) bool {
	for _, t := range p.used {
		if t.under(path) {
			return true
		}
	}
	return false
}

// drop gives up t: the spec's mounts make what it holds. For an attach
// that failed.
func (p *stagePlan) drop(t *stagedTree) {
	for i, ct := range p.covered {
		if ct == t {
			delete(p.covered, i)
			delete(p.attach, i)
		}
	}
	p.used = slices.DeleteFunc(p.used, func(u *stagedTree) bool { return u == t })
	unix.Close(t.fd)
}

// close closes the trees not attached yet (an error on the way).
func (p *stagePlan) close() {
	for _, t := range p.attach {
		unix.Close(t.fd)
	}
	clear(p.attach)
}

// attachTree moves t onto the mount point of m, its root's mount, in r.
func attachTree(r *rootfs, m *spec.Mount, t *stagedTree) error {
	mp, err := mountPoint(r, m)
	if err != nil {
		return err
	}
	defer mp.close()
	// Onto the held mount point itself: no path is looked up again.
	if err := unix.MoveMount(t.fd, "", mp.fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move the staged %s onto %s: %w", m.Destination, mountedAt(m.Destination, mp), err)
	}
	return nil
}
