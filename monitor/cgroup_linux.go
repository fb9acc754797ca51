package monitor

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sandbox/cgroupv2"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// Cgroup asks the monitor for the container's own cgroup, in Clone: it is
// made, and its limits written, before the init is cloned into it
// (clone3's CLONE_INTO_CGROUP), so that the init, its cgroup namespace
// and everything the container runs are inside from the first
// instruction, and the limits hold before the container's command starts.
type Cgroup struct {
	// Name is the cgroup's name under the delegated root's sandbox
	// cgroup: the container's id.
	Name string `json:"name"`
	// Resources are the limits written to it, as the flags were parsed
	// into the model (cgroupv2's limits.go turns them into files).
	Resources spec.Resources `json:"resources"`
	// Required: the user asked for limits; without the cgroup the start
	// fails. Otherwise the cgroup is made when a delegated cgroup v2 allows
	// it (for pause, stats and update) and the container runs without one
	// when it does not, as it always has on hosts without delegation.
	Required bool `json:"required,omitempty"`
	// Systemd: the command puts the monitor in a systemd scope with
	// Delegate=yes before the go-ahead, which names it (Go.Scope). The
	// cgroup is made only then, with the scope as the delegate root
	// (cgroupv2.DetectScope), and so is the init cloned. The controllers
	// the limits need are checked here then, as only the monitor sees the
	// scope; without one the command has checked them against its own
	// cgroup, which the monitor shares.
	Systemd bool `json:"systemd,omitempty"`
}

// leaf is the container's cgroup while the monitor holds it: from before
// the first clone until the last run has ended.
type leaf struct {
	*cgroupv2.Leaf
	// dir is the open cgroup directory, for CLONE_INTO_CGROUP.
	dir *os.File
	// pids is the pids.max held back while an init starts ("" none): the
	// Go runtime's threads of the init count as tasks, so a low limit is
	// applied only when the init is about to exec (nsinit's HoldExec).
	pids string
}

// openLeaf makes the container's cgroup as c asks, in the systemd scope
// named (Go.Scope, "" none); nil without one. detected, when not nil, is
// the cgroup layout as the monitor saw it already (an early init's).
func openLeaf(c *Cgroup, scope string, detected *cgroupv2.Status) (*leaf, error) {
	if c == nil {
		return nil, nil
	}
	detect := cgroupv2.Detect
	if detected != nil {
		detect = func() (*cgroupv2.Status, error) { return detected, nil }
	}
	if scope != "" {
		detect = func() (*cgroupv2.Status, error) { return cgroupv2.DetectScope(scope) }
	}
	st, err := detect()
	if err == nil && st.DelegateRoot == "" && !c.Required {
		return nil, nil // nothing delegated: the container runs as it always has
	}
	if err == nil && c.Systemd {
		err = st.RequireLimits(&c.Resources)
	}
	var l *cgroupv2.Leaf
	if err == nil {
		l, err = cgroupv2.CreateLeaf(st, c.Name)
	}
	now := c.Resources
	if now.PidsLimit > 0 {
		now.PidsLimit = 0 // held back: see leaf.pids
	}
	if err == nil {
		err = l.Apply(&now)
	}
	var dir *os.File
	if err == nil {
		dir, err = l.Open()
	}
	if err != nil {
		if l != nil {
			if rerr := l.Remove(time.Second); rerr != nil {
				log.Printf("remove the container's cgroup: %v", rerr)
			}
		}
		if c.Required {
			return nil, err
		}
		log.Printf("the container runs without a cgroup of its own (no pause, stats or update): %v", err)
		return nil, nil
	}
	lf := &leaf{Leaf: l, dir: dir}
	if c.Resources.PidsLimit > 0 {
		lf.pids = strconv.FormatInt(c.Resources.PidsLimit, 10)
	}
	return lf, nil
}

// pidsMax is the file of the pids limit.
const pidsMax = "pids.max"

// beforeClone lifts the pids limit for the start of an init, keeping it
// to apply at exec: the one asked for, or (a restart) the one in force,
// which update may have changed.
func (l *leaf) beforeClone() error {
	if l == nil {
		return nil
	}
	if l.pids == "" {
		data, err := os.ReadFile(filepath.Join(l.Dir, pidsMax))
		if errors.Is(err, fs.ErrNotExist) {
			return nil // no pids controller
		}
		if err != nil {
			return fmt.Errorf("read the pids limit: %w", err)
		}
		if v := strings.TrimSpace(string(data)); v != "max" {
			l.pids = v
		}
	}
	if l.pids == "" {
		return nil
	}
	return l.Apply(&spec.Resources{PidsLimit: cgroupv2.Max})
}

// holdsExec reports whether the init must wait before exec for a limit.
func (l *leaf) holdsExec() bool { return l != nil && l.pids != "" }

// atExec applies the held pids limit, the init waiting on sock just
// before its execve, and lets it go on.
func (l *leaf) atExec(sock *os.File) error {
	if l.holdsExec() {
		n, err := strconv.ParseInt(l.pids, 10, 64)
		if err != nil {
			return fmt.Errorf("pids limit %q: %w", l.pids, err)
		}
		if err := l.Apply(&spec.Resources{PidsLimit: n}); err != nil {
			return err
		}
		l.pids = ""
	}
	if err := unix.Sendmsg(int(sock.Fd()), []byte("{}"), nil, nil, 0); err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	return nil
}

// fd is the directory to clone the init into, or -1.
func (l *leaf) fd() int {
	if l == nil {
		return -1
	}
	return int(l.dir.Fd())
}

// path is the cgroup's directory, "" without one.
func (l *leaf) path() string {
	if l == nil {
		return ""
	}
	return l.Dir
}

// ooms counts the processes the kernel has killed for exceeding the
// memory limit so far.
func (l *leaf) ooms() uint64 {
	if l == nil {
		return 0
	}
	n, err := l.OOMKills()
	if err != nil {
		log.Printf("read OOM kills: %v", err)
	}
	return n
}

// close kills what is left of the container, waits until the cgroup is
// empty and removes it.
func (l *leaf) close() {
	if l == nil {
		return
	}
	if err := l.dir.Close(); err != nil {
		log.Printf("close cgroup: %v", err)
	}
	if err := l.Remove(5 * time.Second); err != nil {
		log.Printf("remove the container's cgroup: %v", err)
	}
}
