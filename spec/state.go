package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"sandbox/internal/atomicfile"
	"sandbox/internal/lockfile"
)

// Status values, as docker names them.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
	// StatusRemoving: exited with --rm; cleanup is under way.
	StatusRemoving = "removing"
	// StatusRestarting: exited, and the restart policy runs it again soon.
	StatusRestarting = "restarting"
	// StatusPaused: running, its processes frozen (cgroup.freeze).
	StatusPaused = "paused"
)

// State is a container's runtime state, kept in state.json in its run
// directory. It is written whole (atomically) under the directory's lock.
type State struct {
	Status string `json:"status"`
	// Pid is the container's first process as the host sees it, with its
	// start time so that a reused pid is never taken for it.
	Pid      int    `json:"pid,omitempty"`
	PidStart uint64 `json:"pidStart,omitempty"`
	// MonitorPid and MonitorStart name the container's monitor.
	MonitorPid   int       `json:"monitorPid,omitempty"`
	MonitorStart uint64    `json:"monitorStart,omitempty"`
	StartedAt    time.Time `json:"startedAt,omitempty"`
	FinishedAt   time.Time `json:"finishedAt,omitempty"`
	ExitCode     int       `json:"exitCode"`
	// Error is why the container failed to start, if it did.
	Error string `json:"error,omitempty"`
	// RestartCount is how often the monitor restarted the container.
	RestartCount int `json:"restartCount,omitempty"`
	// StopRequested: a user stopped the container; the restart policy
	// does not bring it back.
	StopRequested bool `json:"stopRequested,omitempty"`
	// Cgroup is the directory of the container's own cgroup while it runs
	// ("" when it has none: no delegated cgroup v2).
	Cgroup string `json:"cgroup,omitempty"`
	// OOMKilled: the kernel killed a process of the last run for exceeding
	// the memory limit.
	OOMKilled bool `json:"oomKilled,omitempty"`
	// PausedBy and PausedByStart, while paused, name the process that
	// paused the container for its own work (commit --pause) and thaws it
	// when done: once that process is gone, it was killed, and the next
	// reader of the state thaws the container.
	PausedBy      int    `json:"pausedBy,omitempty"`
	PausedByStart uint64 `json:"pausedByStart,omitempty"`
}

// StateFile and LockFile are the names of the files in a container's run
// directory.
const (
	StateFile  = "state.json"
	LockFile   = "lock"
	AttachFile = "attach"
)

// RunDirsIn is the directory of the containers' run directories (state,
// lock, monitor log, each named by its container's id) under a store's run
// root: sandbox's own, beside containers/storage's, so that a container's
// run directory can exist before the container does.
func RunDirsIn(runRoot string) string { return filepath.Join(runRoot, "sandbox-containers") }

// ReadState reads dir/state.json. A missing file is reported with
// fs.ErrNotExist.
func ReadState(dir string) (*State, error) {
	data, err := atomicfile.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("container state %s: %w", dir, err)
	}
	return &s, nil
}

// WriteState replaces dir/state.json.
func WriteState(dir string, s *State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, StateFile), data, 0o600)
}

// UpdateState applies change to the state in dir under its lock. A missing
// state starts from the zero State.
func UpdateState(dir string, change func(*State) error) error {
	l, err := lockfile.Acquire(filepath.Join(dir, LockFile))
	if err != nil {
		return err
	}
	defer l.Unlock()
	s, err := ReadState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		s, err = &State{}, nil
	}
	if err != nil {
		return err
	}
	if err := change(s); err != nil {
		return err
	}
	return WriteState(dir, s)
}

// A removal under way after the status went out: a foreground run --rm
// whose container exited 0 (or by a signal) returns at once, and its
// monitor's cleanup removes the container after it. The monitor marks the
// removal in the run root's RemovalsDir, by the container's id, before the
// status goes out; the cleanup removes the mark once the container is
// gone. Commands that would see the container in the store wait for the
// removals marked there, so that what a run --rm leaves once it has
// returned is, to them, nothing: as after docker's, which returns once the
// container is removed.
const RemovalsDir = "sandbox-removals"

// RemovalMark is the mark of the removal of the container whose run
// directory is runDir (RUNROOT/sandbox-containers/ID).
func RemovalMark(runDir string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(runDir)), RemovalsDir, filepath.Base(runDir))
}

// MarkRemoval writes the mark of the removal of the container whose run
// directory is runDir, naming the process that removes it.
func MarkRemoval(runDir string, by ProcessRef) error {
	mark := RemovalMark(runDir)
	if err := os.MkdirAll(filepath.Dir(mark), 0o700); err != nil {
		return fmt.Errorf("mark the removal: %w", err)
	}
	data, err := json.Marshal(by)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(mark, data, 0o600); err != nil {
		return fmt.Errorf("mark the removal: %w", err)
	}
	return nil
}

// ReadRemovalMark reads a removal's mark: the process that removes the
// container.
func ReadRemovalMark(mark string) (ProcessRef, error) {
	var by ProcessRef
	data, err := os.ReadFile(mark)
	if err != nil {
		return by, err
	}
	if err := json.Unmarshal(data, &by); err != nil {
		return by, fmt.Errorf("removal mark %s: %w", mark, err)
	}
	return by, nil
}
