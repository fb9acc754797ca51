package container

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"sandbox/cgroupv2/systemd"
	"sandbox/spec"
	"sandbox/userns"
)

// useScope decides, by --cgroup-manager, whether a container's cgroup
// comes from a systemd scope made for its monitor (systemd.UseScope).
func (r *Runtime) useScope() (bool, error) {
	return systemd.UseScope(r.CgroupManager, os.Getenv)
}

// scopeStart is a systemd scope being made for a monitor, in the
// background while the command goes on with the image and storage.
type scopeStart struct {
	name string
	done chan error
	// err is the outcome, once done has delivered it (waited).
	err    error
	waited bool
	// reported: err has gone to the caller, and need not be warned of.
	reported bool
}

// startScope starts making the scope of the monitor pid of container id.
func startScope(ctx context.Context, id string, pid int) (*scopeStart, error) {
	name, err := systemd.ScopeName(id, pid)
	if err != nil {
		return nil, err
	}
	uid, _ := userns.HostIDs()
	s := &scopeStart{name: name, done: make(chan error, 1)}
	go func() {
		s.done <- systemd.StartScope(ctx, systemd.ScopeOptions{
			Bus: systemd.BusAddress(os.Getenv), UID: uid, Name: name, PID: pid,
			Description: fmt.Sprintf("sandbox container %.12s", id),
		})
	}()
	return s, nil
}

// wait returns the outcome of the scope's start; nil without a scope.
func (s *scopeStart) wait() error {
	if s == nil {
		return nil
	}
	if !s.waited {
		s.err, s.waited = <-s.done, true
		if s.err != nil {
			s.err = fmt.Errorf("make a systemd scope for the container's cgroup: %w", s.err)
		}
	}
	return s.err
}

// scopeMover is the exec.Request.MoveFallback for a container whose
// cgroup dir is in a systemd scope (SCOPE/sandbox/ID): the user's systemd
// attaches the process there. nil for a cgroup of any other kind.
func scopeMover(ctx context.Context, dir string) func(pid int) error {
	scopeDir := path.Dir(path.Dir(dir))
	scope := path.Base(scopeDir)
	if dir == "" || !systemd.IsScopeName(scope) {
		return nil
	}
	return func(pid int) error {
		uid, _ := userns.HostIDs()
		return systemd.Attach(ctx, systemd.AttachOptions{
			Bus: systemd.BusAddress(os.Getenv), UID: uid,
			Unit: scope, Subcgroup: strings.TrimPrefix(dir, scopeDir), PID: pid,
		})
	}
}

// inScope reports whether limits for the container with state st are
// checked against a systemd scope rather than the command's own cgroup:
// it runs in one (its cgroup is SCOPE/sandbox/ID), or it will when it
// starts.
func (r *Runtime) inScope(st *spec.State) bool {
	if st != nil && st.Cgroup != "" {
		return systemd.IsScopeName(path.Base(path.Dir(path.Dir(st.Cgroup))))
	}
	scope, err := r.useScope()
	return err == nil && scope
}
