package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"sandbox/internal/proc"
	"sandbox/removal"
	"sandbox/spec"

	cstorage "go.podman.io/storage"
)

// alive reports whether pid is the process that started at start (see
// proc.Alive: a monitor in the middle of becoming its cleanup is alive).
func alive(pid int, start uint64) bool { return proc.Alive(pid, start) }

// State returns a container's state as it really is, repairing what a
// killed command, a killed monitor or a reboot left behind:
//
//   - creating, its creator gone: the container was never made whole; it is
//     removed and ErrNoSuchContainer returned;
//   - running, with container and monitor gone: exited, status unknown (-1);
//   - removing, its monitor (by then the cleanup) gone: removed;
//   - no state at all (the run directory went with a reboot): exited, or
//     removed when it was --rm.
//
// A container that is being created or removed by a live process reads as
// ErrNoSuchContainer: it is not there for other commands.
func (r *Runtime) State(c *Container) (*spec.State, error) {
	st, err := spec.ReadState(c.RunDir)
	if err != nil {
		if u := unknownState(c, fmt.Errorf("state unreadable: %w", err)); u != nil {
			return u, nil // its monitor lives on: rm -f ends it
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Garbage, and nothing runs: as good as lost.
		err = fs.ErrNotExist
	}
	if errors.Is(err, fs.ErrNotExist) {
		if c.Config == nil || c.Config.Remove {
			return nil, r.removeLeftover(c)
		}
		st = &spec.State{Status: spec.StatusExited, ExitCode: -1, Error: "state lost (reboot?)"}
		if err := os.MkdirAll(c.RunDir, 0o700); err != nil {
			return nil, err
		}
		return st, spec.WriteState(c.RunDir, st)
	}
	if err != nil {
		return nil, err
	}
	switch st.Status {
	case statusCreating:
		if alive(st.MonitorPid, st.MonitorStart) {
			return nil, fmt.Errorf("%w: %.12s is being created", ErrNoSuchContainer, c.ID)
		}
		return nil, r.removeLeftover(c)
	case spec.StatusRemoving:
		if alive(st.MonitorPid, st.MonitorStart) {
			return nil, fmt.Errorf("%w: %.12s is being removed", ErrNoSuchContainer, c.ID)
		}
		return nil, r.removeLeftover(c)
	case spec.StatusRunning, spec.StatusPaused:
		if alive(st.Pid, st.PidStart) {
			if st.Status == spec.StatusPaused && st.PausedBy != 0 && !alive(st.PausedBy, st.PausedByStart) {
				// Paused by a commit --pause that was killed.
				if err := r.thaw(c, st, c.ID); err != nil {
					return nil, err
				}
			}
			return st, nil
		}
		if alive(st.MonitorPid, st.MonitorStart) {
			// Exited, and the monitor is writing it down (it tells its
			// clients first): wait for the record.
			return r.awaitRecord(c, st)
		}
		// Container and monitor both gone without a word: the monitor was
		// killed. Record it, and do what its cleanup would have done.
		err := spec.UpdateState(c.RunDir, func(s *spec.State) error {
			if up(s) {
				s.Status, s.ExitCode, s.Error = spec.StatusExited, -1, "monitor killed"
				s.FinishedAt = time.Now().UTC()
			}
			st = s
			return nil
		})
		if err != nil {
			return nil, err
		}
		if c.Config != nil && c.Config.Remove {
			return nil, r.removeLeftover(c)
		}
		if err := r.unmount(c.ID, true); err != nil {
			return nil, fmt.Errorf("unmount %.12s: %w", c.ID, err)
		}
		return st, nil
	}
	return st, nil
}

// awaitRemoval waits while the container id is being removed by a live
// process (a monitor's cleanup after --rm), or is about to be (a --rm
// container whose command has ended, its monitor still there): commands
// that would collide with it (a name taken again, an image removed) then
// see it gone, as after docker's run --rm, which returns once the
// container is removed. It returns true when the container is gone.
func (r *Runtime) awaitRemoval(ctx context.Context, id string) bool {
	deadline := time.Now().Add(10 * time.Second)
	removeOnExit := -1 // whether the container is --rm: read once, when needed
	for time.Now().Before(deadline) {
		st, err := spec.ReadState(r.runDir(id))
		ending := err == nil && alive(st.MonitorPid, st.MonitorStart) &&
			(st.Status == spec.StatusExited || up(st) && !alive(st.Pid, st.PidStart))
		if ending && removeOnExit < 0 {
			removeOnExit = 0
			if r.autoRemoved(id) {
				removeOnExit = 1
			}
		}
		if err != nil || st.Status != spec.StatusRemoving && !(ending && removeOnExit == 1) {
			_, cerr := r.Store.Container(id)
			return errors.Is(cerr, cstorage.ErrContainerUnknown)
		}
		if !alive(st.MonitorPid, st.MonitorStart) {
			if c, err := r.Lookup(id); err == nil {
				r.State(c) // reaps it
			}
			continue
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return false
}

// AwaitRemovals waits while the removals marked under way
// (spec.RemovalMark: a --rm container's monitor, become its cleanup,
// removing it after the status went out) go on (AwaitRemovalsIn), so that
// a command after a run --rm sees its container gone, as after docker's.
// The mark of a container that is gone goes too: one whose cleanup was
// killed is as its state says, and the mark stays until the container
// goes.
func (r *Runtime) AwaitRemovals(ctx context.Context) error {
	ids, err := AwaitRemovalsIn(ctx, r.runRoot)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := r.Store.Container(id); !errors.Is(err, cstorage.ErrContainerUnknown) {
			continue
		}
		if err := os.Remove(spec.RemovalMark(r.runDir(id))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the mark of a removal: %w", err)
		}
	}
	return nil
}

// AwaitRemovalsIn waits while the removals marked in the run root runRoot
// go on, at most ten seconds in all, and returns the ids marked. A
// removal whose remover is gone is not waited for. It needs no store: the
// events journal's readers wait too, for the removal's events.
func AwaitRemovalsIn(ctx context.Context, runRoot string) ([]string, error) {
	dir := filepath.Join(runRoot, spec.RemovalsDir)
	marks, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list removals under way: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	ids := make([]string, 0, len(marks))
	for _, m := range marks {
		id := m.Name()
		ids = append(ids, id)
		mark := filepath.Join(dir, id)
		for time.Now().Before(deadline) {
			by, err := spec.ReadRemovalMark(mark)
			if err != nil || !alive(by.Pid, by.Start) {
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	return ids, nil
}

// autoRemoved reports whether container id was made with --rm.
func (r *Runtime) autoRemoved(id string) bool {
	dir, err := r.Store.ContainerDirectory(id)
	if err != nil {
		return false
	}
	cfg, err := spec.ReadConfig(filepath.Join(dir, "config.json"))
	return err == nil && cfg.Remove
}

// awaitRecord waits, briefly, for the monitor to record the exit of a
// container whose process is gone.
func (r *Runtime) awaitRecord(c *Container, st *spec.State) (*spec.State, error) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		now, err := spec.ReadState(c.RunDir)
		if err != nil || !up(now) || now.Pid != st.Pid || !alive(now.MonitorPid, now.MonitorStart) {
			return r.State(c)
		}
	}
	return st, nil // a monitor that takes this long is busy: still running
}

// removeLeftover removes a container that no live process owns, and
// reports it as gone.
func (r *Runtime) removeLeftover(c *Container) error {
	if err := r.deleteStorage(c.ID, true); err != nil {
		return fmt.Errorf("remove leftover container %.12s: %w", c.ID, err)
	}
	return fmt.Errorf("%w: %.12s (a leftover, now removed)", ErrNoSuchContainer, c.ID)
}

// deleteStorage unmounts and deletes a container's layer and directories,
// its run directory last (removal.Remover.Delete).
func (r *Runtime) deleteStorage(id string, force bool) error {
	return r.remover().Delete(id, force)
}

// unmount unmounts a container's root filesystem (removal.Remover.Unmount).
func (r *Runtime) unmount(id string, force bool) error {
	return r.remover().Unmount(id, force)
}

// remover removes containers from the runtime's open store.
func (r *Runtime) remover() removal.Remover {
	return removal.Remover{Store: r.Store, Networks: r.Networks, RunDirs: r.RunDirs(), Events: r.Events}
}
