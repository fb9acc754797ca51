package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"sandbox/events"
	"sandbox/internal/faultinject"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// RemoveOptions are the flags of rm.
type RemoveOptions struct {
	// Force kills a running container first.
	Force bool
	// Timeout, with Force, stops a running container first: its stop
	// signal, then SIGKILL after Timeout seconds. Nil sends SIGKILL at once.
	Timeout *int
	// Infra allows removing a pod's infra container (package pod does,
	// as it removes the pod).
	Infra bool
	// Volumes removes the container's anonymous volumes too (rm -v).
	Volumes bool
}

// ErrInfra is the refusal to remove a pod's infra container by itself.
var ErrInfra = errors.New("a pod's infra container cannot be removed without its pod")

// Remove removes a container. A running one is refused unless Force, in
// which case it is killed and its monitor waited for. A failed removal
// leaves the container as it was.
func (r *Runtime) Remove(ctx context.Context, ref string, o RemoveOptions) (retErr error) {
	c, err := r.Lookup(ref)
	if err != nil {
		return err
	}
	if c.Config != nil && c.Config.Infra && !o.Infra {
		return fmt.Errorf("container %.12s is the infra container of pod %s: %w; remove the pod (pod rm)", c.ID, c.Config.PodName, ErrInfra)
	}
	op, err := lockOp(c)
	if err != nil {
		return err
	}
	defer func() {
		if err := op.Unlock(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	st, err := r.State(c)
	if errors.Is(err, ErrNoSuchContainer) {
		return noSuchContainer(ref)
	}
	if err != nil {
		return err
	}
	if running(st) {
		if !o.Force {
			return fmt.Errorf("%w: %s: stop it first, or use rm -f", ErrRunning, ref)
		}
		if err := spec.UpdateState(c.RunDir, func(s *spec.State) error {
			s.StopRequested = true // no restart policy brings it back
			return nil
		}); err != nil {
			return err
		}
		if o.Timeout != nil {
			if err := r.Stop(ctx, c.ID, StopOptions{Timeout: o.Timeout}); err != nil {
				return err
			}
		}
		if err := r.kill(ctx, st); err != nil {
			return err
		}
		faultinject.Step(faultinject.RmKilled)
	} else if st.Status == statusUnknown {
		if !o.Force {
			return fmt.Errorf("%w: %s: its state is unknown (%s): use rm -f", ErrRunning, ref, st.Error)
		}
		if err := killOrphaned(c.RunDir); err != nil {
			return fmt.Errorf("remove %s: %w", ref, err)
		}
	} else if err := awaitGone(ctx, st.MonitorPid, st.MonitorStart); err != nil {
		return err
	}
	// The monitor removes the cgroup; one that was killed leaves it.
	if l := leafOf(st); l != nil {
		if err := l.Remove(freezeTimeout); err != nil {
			return fmt.Errorf("remove %s: %w", ref, err)
		}
	}
	if err := r.deleteStorage(c.ID, true); err != nil {
		return fmt.Errorf("remove %s: %w", ref, err)
	}
	r.record(c, events.Remove)
	if o.Volumes {
		if err := r.removeAnonymousVolumes(c.Config); err != nil {
			return fmt.Errorf("remove %s: %w", ref, err)
		}
	}
	return nil
}

// kill sends SIGKILL to a running container and waits until its monitor
// has recorded the exit and finished cleanup (or is gone), so that nothing
// of it is still at work when the caller removes it.
func (r *Runtime) kill(ctx context.Context, st *spec.State) error {
	if alive(st.Pid, st.PidStart) {
		if err := signalProcess(st.Pid, st.PidStart, unix.SIGKILL); err != nil {
			return err
		}
	}
	if err := killLeaf(st); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(st.Pid, st.PidStart) || alive(st.MonitorPid, st.MonitorStart) {
		if time.Now().After(deadline) {
			return fmt.Errorf("container pid %d or its monitor pid %d still running 10s after SIGKILL", st.Pid, st.MonitorPid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// signalProcess signals pid through a pidfd, after checking it is still the
// process that started at start.
func signalProcess(pid int, start uint64, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open pid %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if !alive(pid, start) {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal %v to pid %d: %w", sig, pid, err)
	}
	return nil
}

// RemoveHandedOff removes a --rm container whose monitor handed its
// removal to this process (a foreground run, see package monitor) with
// the exit status: what the cleanup command would have done. A container
// the monitor did not hand over (still running after a detach, or
// removed by the monitor's cleanup) is left alone. status is the exit
// status the command got: one the monitor never hands over for
// (spec.RemovalHandedOff) needs no look at the container's state, which
// the command would otherwise read on its way out.
func (r *Runtime) RemoveHandedOff(c *Container, status int) error {
	if !spec.RemovalHandedOff(status) {
		return nil
	}
	st, err := spec.ReadState(c.RunDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Status != spec.StatusRemoving || st.MonitorPid != os.Getpid() {
		return nil
	}
	// The anonymous volumes first, as Cleanup does.
	verr := r.removeAnonymousVolumes(c.Config)
	if err := r.deleteStorage(c.ID, true); err != nil {
		return errors.Join(fmt.Errorf("remove %.12s: %w", c.ID, err), verr)
	}
	r.record(c, events.Cleanup)
	r.record(c, events.Remove)
	return verr
}

// Cleanup is what a container's monitor becomes after the container
// exits, when it has no sandbox-cleanup to become (removal.Remover.Cleanup):
// the root filesystem is unmounted, and with remove the container deleted
// with its anonymous volumes (run --rm).
func (r *Runtime) Cleanup(ctx context.Context, id string, remove bool) error {
	return r.remover().Cleanup(id, remove)
}
