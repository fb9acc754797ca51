package container

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sandbox/events"
	"sandbox/internal/faultinject"
	"sandbox/monitor"
	"sandbox/removal"
	"sandbox/spec"
	"sandbox/storage"

	"golang.org/x/sys/unix"
)

// ErrNotRunning is an operation that needs a running container.
var ErrNotRunning = errors.New("container is not running")

// ErrAlreadyRunning is a start of a container that runs: docker and podman
// start nothing and succeed.
var ErrAlreadyRunning = errors.New("container is already running")

// ExitStatus is the error a command attached to a container (run, start
// -a, attach) ends with for the container's status code: nil for 0, else
// the status, with no message of its own. A command that failed (1 to
// 125, not a signal's 128+N) while the store's file system is full most
// likely failed on its own writes, to its writable layer there: that is
// the store's fault and sandbox's to say, in one line and with 125, as for
// every other full disk. The status stays in inspect.
func (r *Runtime) ExitStatus(code int) error {
	if code == 0 {
		return nil
	}
	status := spec.NewExitError(code, nil)
	if code > spec.ExitSandbox || r.Store == nil {
		return status
	}
	room, err := r.Store.Room()
	if err != nil {
		// The store that cannot be measured is no evidence of a full
		// disk: the command's own status stands, with why it was kept.
		return spec.NewExitError(code, fmt.Errorf("the container's command failed (status %d); is its store full? %w", code, err))
	}
	if !room.Full {
		return status
	}
	return storage.DiskFullError(r.Store.Options.GraphRoot,
		fmt.Errorf("the container's command failed (status %d) with %d KiB free: its writes found no room", code, room.Free>>10))
}

// running reports whether a state is a container that runs (or is
// paused) or is about to run again.
func running(st *spec.State) bool {
	return up(st) || st.Status == spec.StatusRestarting
}

// lookupState finds a container and its reconciled state.
func (r *Runtime) lookupState(ref string) (*Container, *spec.State, error) {
	c, err := r.Lookup(ref)
	if err != nil {
		return nil, nil, err
	}
	st, err := r.State(c)
	if errors.Is(err, ErrNoSuchContainer) {
		return nil, nil, noSuchContainer(ref)
	}
	return c, st, err
}

// StartContainer starts a created or exited container. attach: see Start.
func (r *Runtime) StartContainer(ctx context.Context, ref string, attach bool) (_ *Container, _ *Started, retErr error) {
	c, _, err := r.lookupState(ref)
	if err != nil {
		return nil, nil, err
	}
	op, err := lockOp(c)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err := op.Unlock(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	// Read again under the lock: an rm may have removed it meanwhile.
	c, st, err := r.lookupState(c.ID)
	if errors.Is(err, ErrNoSuchContainer) {
		return nil, nil, noSuchContainer(ref)
	}
	if err != nil {
		return nil, nil, err
	}
	if running(st) {
		return nil, nil, fmt.Errorf("%w: %s", ErrAlreadyRunning, ref)
	}
	// The previous run's monitor may still be unmounting (it becomes the
	// cleanup after the exit is recorded).
	if err := awaitGone(ctx, st.MonitorPid, st.MonitorStart); err != nil {
		return nil, nil, err
	}
	if err := r.ensureMounted(c); err != nil {
		return nil, nil, err
	}
	// A run root made anew since the create (after a reboot) has none of
	// the links that exec finds the container by.
	if err := spec.LinkContainer(r.RunDirs(), c.ID, c.Name(), filepath.Join(c.Dir, "config.json")); err != nil {
		return nil, nil, err
	}
	faultinject.Step(faultinject.StartMounted)
	started, err := r.Start(ctx, c, attach)
	return c, started, err
}

// ensureMounted mounts a container's root filesystem unless it is mounted
// in this mount namespace already (a created container is; an exited one,
// or one from before the keeper was restarted, is not).
func (r *Runtime) ensureMounted(c *Container) error {
	if n, err := r.Store.Mounted(c.ID); err == nil && n > 0 && removal.IsOverlayMount(c.Config.Spec.Rootfs) {
		return nil
	}
	rootfs, err := r.Store.Mount(c.ID, "")
	if err != nil {
		return fmt.Errorf("mount container root filesystem: %w", err)
	}
	if rootfs != c.Config.Spec.Rootfs {
		return fmt.Errorf("container %.12s root filesystem moved from %s to %s", c.ID, c.Config.Spec.Rootfs, rootfs)
	}
	return nil
}

// StopOptions are the flags of stop.
type StopOptions struct {
	// Timeout is how long to wait after the stop signal before SIGKILL;
	// nil means the container's --stop-timeout.
	Timeout *int
}

// Stop stops a running container: its stop signal, then SIGKILL after the
// timeout. The restart policy does not bring a stopped container back.
// Stopping a container that does not run does nothing.
func (r *Runtime) Stop(ctx context.Context, ref string, o StopOptions) error {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if !running(st) {
		return nil
	}
	if err := spec.UpdateState(c.RunDir, func(s *spec.State) error {
		s.StopRequested = true
		return nil
	}); err != nil {
		return err
	}
	faultinject.Step(faultinject.StopRequested)
	if st.Status == spec.StatusPaused {
		// A frozen process cannot handle the stop signal.
		if err := r.thaw(c, st, ref); err != nil {
			return err
		}
	}
	timeout := c.Config.Host.StopTimeout
	if o.Timeout != nil {
		timeout = *o.Timeout
	}
	sig := unix.SIGTERM
	if c.Config.Host.StopSignal != "" {
		if sig, err = ParseSignal(c.Config.Host.StopSignal); err != nil {
			return err
		}
	}
	if st.Status == spec.StatusRunning {
		if err := signalProcess(st.Pid, st.PidStart, sig); err != nil {
			return err
		}
		faultinject.Step(faultinject.StopSignalled)
		deadline := time.Now().Add(time.Duration(timeout) * time.Second)
		for alive(st.Pid, st.PidStart) && time.Now().Before(deadline) {
			if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
				return err
			}
		}
		if alive(st.Pid, st.PidStart) {
			if err := signalProcess(st.Pid, st.PidStart, unix.SIGKILL); err != nil {
				return err
			}
		}
	}
	// No stray process survives: what is left in the cgroup goes too.
	if err := killLeaf(st); err != nil {
		return err
	}
	if err := r.awaitExit(ctx, c, st); err != nil {
		return err
	}
	r.record(c, events.Stop)
	return nil
}

// awaitExit waits until the monitor has recorded the end of the run that
// st describes (or is gone).
func (r *Runtime) awaitExit(ctx context.Context, c *Container, st *spec.State) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		now, err := spec.ReadState(c.RunDir)
		if err != nil || !running(now) || !alive(st.MonitorPid, st.MonitorStart) {
			return nil // recorded, or removed (--rm), or reconciled on next look
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container %.12s: its monitor did not record the exit within 10s (see %s)", c.ID, filepath.Join(c.RunDir, monitor.LogFile))
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}

// awaitGone waits until a process has ended.
func awaitGone(ctx context.Context, pid int, start uint64) error {
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid, start) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d (a monitor finishing its cleanup) still runs after 10s", pid)
		}
		if err := sleepCtx(ctx, 2*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Kill sends a signal to a running container's first process.
func (r *Runtime) Kill(ctx context.Context, ref string, sig unix.Signal) error {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if !up(st) || !alive(st.Pid, st.PidStart) {
		return fmt.Errorf("%w: %s", ErrNotRunning, ref)
	}
	if err := signalProcess(st.Pid, st.PidStart, sig); err != nil {
		return err
	}
	r.record(c, events.Kill)
	return nil
}

// Wait blocks until a container is not running and returns its exit
// status. It listens on the attach socket, where the monitor sends the
// status before any cleanup, so a container removed on exit (--rm) still
// gives it. A created container, never started, is not running: its
// status is 0 at once, as with docker and podman.
func (r *Runtime) Wait(ctx context.Context, ref string) (int, error) {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return 0, err
	}
	for running(st) {
		if conn, err := dialAttach(c.RunDir); err == nil {
			code, err := waitExitFrame(conn)
			if err == nil {
				return code, nil
			}
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
		if st, err = r.State(c); err != nil {
			return 0, err
		}
	}
	return st.ExitCode, nil
}

// WaitConditions are the values of wait --condition that sandbox knows,
// as podman names them; "exited" and "stopped" both mean not running.
var WaitConditions = []string{spec.StatusCreated, spec.StatusExited, spec.StatusPaused, spec.StatusRunning, "stopped"}

// WaitFor blocks until a container is in one of the states conditions
// name (WaitConditions; none is "stopped"). Not running, when that is
// what was asked, gives the exit status as Wait does; any other state
// gives -1, as podman prints.
func (r *Runtime) WaitFor(ctx context.Context, ref string, conditions []string) (int, error) {
	states := map[string]bool{}
	stopped := len(conditions) == 0
	for _, cond := range conditions {
		switch {
		case cond == "stopped" || cond == spec.StatusExited:
			stopped = true
		case slices.Contains(WaitConditions, cond):
			states[cond] = true
		default:
			return 0, fmt.Errorf("invalid wait condition %q: want %s", cond, strings.Join(WaitConditions, ", "))
		}
	}
	if len(states) == 0 {
		return r.Wait(ctx, ref)
	}
	c, st, err := r.lookupState(ref)
	for err == nil {
		if states[st.Status] {
			return -1, nil
		}
		if stopped && !running(st) {
			return st.ExitCode, nil
		}
		if err = sleepCtx(ctx, 10*time.Millisecond); err == nil {
			st, err = r.State(c)
		}
	}
	return 0, err
}

// Restart stops a running container and starts it again.
func (r *Runtime) Restart(ctx context.Context, ref string, o StopOptions) error {
	if err := r.Stop(ctx, ref, o); err != nil {
		return err
	}
	// After the stopped run's cleanup, as podman records them.
	c, st, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if err := awaitGone(ctx, st.MonitorPid, st.MonitorStart); err != nil {
		return err
	}
	r.record(c, events.Restart)
	_, started, err := r.StartContainer(ctx, ref, false)
	if err != nil {
		return err
	}
	if started.Conn != nil {
		started.Conn.Close()
	}
	return nil
}

// Rename gives a container a new name.
func (r *Runtime) Rename(ref, name string) error {
	if !validName(name) {
		return fmt.Errorf("invalid container name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", name)
	}
	c, _, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if other, err := r.Lookup(name); err == nil && other.ID != c.ID {
		return fmt.Errorf("%w: the container name %q is already in use by %.12s", ErrNameInUse, name, other.ID)
	}
	if err := r.Store.SetNames(c.ID, []string{name}); err != nil {
		return fmt.Errorf("rename %s: %w", ref, err)
	}
	c.Names = []string{name}
	if err := spec.LinkName(r.RunDirs(), c.ID, name); err != nil {
		return fmt.Errorf("rename %s: %w", ref, err)
	}
	if c.Config != nil {
		if err := r.nameOnNetworks(c.Config.Host.Network, c.ID, name); err != nil {
			return fmt.Errorf("rename %s: %w", ref, err)
		}
		if err := r.renameInPod(c); err != nil {
			return fmt.Errorf("rename %s: %w", ref, err)
		}
	}
	r.record(c, events.Rename)
	return nil
}
