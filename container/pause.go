package container

import (
	"errors"
	"fmt"
	"os"
	"time"

	"sandbox/cgroupv2"
	"sandbox/events"
	"sandbox/internal/proc"
	"sandbox/spec"
)

// Errors of pause and unpause.
var (
	ErrPaused    = errors.New("container is paused")
	ErrNotPaused = errors.New("container is not paused")
)

// freezeTimeout bounds the wait for the kernel to report a cgroup frozen
// or thawed: processes in uninterruptible sleep (I/O) are frozen only once
// they leave it.
const freezeTimeout = 10 * time.Second

// up reports whether a container's process exists: running, or paused.
func up(st *spec.State) bool {
	return st.Status == spec.StatusRunning || st.Status == spec.StatusPaused
}

// Pause freezes every process of a running container (cgroup.freeze).
// The container's state says paused once the kernel reports it frozen.
func (r *Runtime) Pause(ref string) error { return r.pause(ref, false) }

// PauseFor pauses a running container for this process's own work
// (commit --pause), which unpauses it when done. If this process is
// killed first, the next command that reads the container's state thaws
// it (State).
func (r *Runtime) PauseFor(ref string) error { return r.pause(ref, true) }

func (r *Runtime) pause(ref string, owned bool) error {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if st.Status == spec.StatusPaused {
		return fmt.Errorf("%w: %s is paused already", ErrPaused, ref)
	}
	if st.Status != spec.StatusRunning || !alive(st.Pid, st.PidStart) {
		return fmt.Errorf("%w: %s", ErrNotRunning, ref)
	}
	l, err := leafFor("pause", ref, st)
	if err != nil {
		return err
	}
	// Under the state's lock, so that the state and the cgroup agree for
	// every reader, and the exit of the container cannot come in between.
	if err := spec.UpdateState(c.RunDir, func(s *spec.State) error {
		if s.Status != spec.StatusRunning || s.Pid != st.Pid {
			return fmt.Errorf("%w: %s", ErrNotRunning, ref)
		}
		if owned {
			pid := os.Getpid()
			start, err := proc.StartTime(pid)
			if err != nil {
				return fmt.Errorf("pause %s: %w", ref, err)
			}
			s.PausedBy, s.PausedByStart = pid, start
		}
		if err := l.Freeze(freezeTimeout); err != nil {
			return fmt.Errorf("pause %s: %w", ref, err)
		}
		s.Status = spec.StatusPaused
		return nil
	}); err != nil {
		return err
	}
	r.record(c, events.Pause)
	return nil
}

// Unpause thaws a paused container.
func (r *Runtime) Unpause(ref string) error {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if up(st) {
		// Where containers get no cgroup, say so rather than "not paused".
		if _, err := leafFor("unpause", ref, st); err != nil {
			return err
		}
	}
	if st.Status != spec.StatusPaused {
		return fmt.Errorf("%w: %s", ErrNotPaused, ref)
	}
	if err := r.thaw(c, st, ref); err != nil {
		return err
	}
	r.record(c, events.Unpause)
	return nil
}

// thaw lets a paused container run again and records it as running.
func (r *Runtime) thaw(c *Container, st *spec.State, ref string) error {
	l, err := leafFor("unpause", ref, st)
	if err != nil {
		return err
	}
	return spec.UpdateState(c.RunDir, func(s *spec.State) error {
		if err := l.Thaw(freezeTimeout); err != nil {
			return fmt.Errorf("unpause %s: %w", ref, err)
		}
		if s.Status == spec.StatusPaused {
			s.Status = spec.StatusRunning
		}
		s.PausedBy, s.PausedByStart = 0, 0
		st.Status, st.PausedBy, st.PausedByStart = s.Status, 0, 0
		return nil
	})
}

// leafFor is a running container's cgroup, or an error saying why it
// has none and how to get one.
func leafFor(what, ref string, st *spec.State) (*cgroupv2.Leaf, error) {
	if l := leafOf(st); l != nil {
		return l, nil
	}
	cg, err := cgroupv2.Detect()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, ref, err)
	}
	if err := cg.RequireLeaf(what); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s %s: the container has %w: it was started without one (its monitor.log says why); restart it", what, ref, cgroupv2.ErrNoLeaf)
}

// killLeaf kills every process left in a container's cgroup, if it has
// one: what its first process's end did not take with it.
func killLeaf(st *spec.State) error {
	l := leafOf(st)
	if l == nil {
		return nil
	}
	return l.Kill()
}
