package exec

import (
	"encoding/json"
	"fmt"
	"os"

	"sandbox/container/spec"
)

// Request is a process to start in a running container, handed from the
// command line to the re-executed process (in _SANDBOX_EXEC, as JSON).
type Request struct {
	// Process is what to run and how: arguments, environment, working
	// directory, user, capabilities, terminal.
	Process spec.Process `json:"process"`
	// Detach: return once the process runs, without waiting for it.
	Detach bool `json:"detach,omitempty"`
	// DetachKeys end a terminal session and leave the process running.
	DetachKeys []byte `json:"detachKeys,omitempty"`
	// Cgroup is the container's cgroup directory ("" for none), for Run:
	// the process joins it (cgroup_linux.go).
	Cgroup string `json:"-"`
	// MoveFallback, if set, moves the process into Cgroup by other means
	// when Run may not move it itself (EACCES, EPERM: see cgroup_linux.go).
	MoveFallback func(pid int) error `json:"-"`
	// HoldExec: the process waits before its execve until Run has moved
	// it into the cgroup (nsinit.HoldExec).
	HoldExec bool `json:"holdExec,omitempty"`
}

// Environment variables of the protocol (see hook_linux.go).
const (
	nsenterEnv = "_SANDBOX_NSENTER"
	requestEnv = "_SANDBOX_EXEC"
)

// request reads the Request of this process and removes it from the
// environment, so that nothing passes it on.
func request() (*Request, error) {
	data := os.Getenv(requestEnv)
	os.Unsetenv(requestEnv)
	os.Unsetenv(nsenterEnv)
	var r Request
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return nil, fmt.Errorf("exec request: %w", err)
	}
	return &r, nil
}
