package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"

	"sandbox/events"
	"sandbox/imageuser"
	"sandbox/internal/faultinject"
	"sandbox/nsenter"
	"sandbox/spec"

	cstorage "go.podman.io/storage"
)

// ExecOptions are the flags of exec.
type ExecOptions struct {
	Command  []string
	Env      []string // -e KEY=VALUE or KEY
	EnvFiles []string
	// Workdir is the working directory; "" means the container's.
	Workdir string
	// User is USER[:GROUP] as -u takes it; "" means the container's user.
	User        string
	Interactive bool
	TTY         bool
	Rows, Cols  uint16
	Detach      bool
	Privileged  bool
	DetachKeys  []byte
	// SecurityOpts may tighten the container's own: no-new-privileges.
	SecurityOpts []string
	// Streams replace this command's own streams (the API's exec).
	Streams *nsenter.Streams
	// Helper is the exec helper's copy made ahead (PrepareExec); nil:
	// Exec makes it.
	Helper *nsenter.Helper
}

// PrepareExec starts what an exec needs before it knows the container
// (nsenter.PrepareHelper), for ExecOptions.Helper: a command calls it
// first, so that it goes on beside the store's opening.
func PrepareExec() *nsenter.Helper { return nsenter.PrepareHelper() }

// Exec runs a command in a running container, through a process that
// the pre-runtime hook puts into the container's namespaces (see package
// exec), and relays for it. It returns the command's exit status; with
// Detach, 0 once the command runs.
func (r *Runtime) Exec(ctx context.Context, ref string, o ExecOptions) (int, error) {
	c, p, st, err := r.execProcess(ref, o)
	if err != nil {
		return 125, err
	}
	req := &nsenter.Request{
		Target:  spec.ProcessRef{Pid: st.Pid, Start: st.PidStart},
		Process: *p, Detach: o.Detach, DetachKeys: o.DetachKeys, Streams: o.Streams,
		Cgroup: st.Cgroup, MoveFallback: scopeMover(ctx, st.Cgroup), Helper: o.Helper,
	}
	if sc := c.Config.Spec.Seccomp; sc != nil {
		req.Seccomp = sc.Filter
	}
	r.record(c, events.Exec)
	faultinject.Step(faultinject.ExecPrepared)
	code, err := nsenter.Run(req)
	if err != nil {
		return code, spec.NewExitError(code, err)
	}
	if !o.Detach {
		r.recordCode(c, events.ExecDied, code)
	}
	return code, nil
}

// execProcess checks the options and builds the process to run.
func (r *Runtime) execProcess(ref string, o ExecOptions) (*Container, *spec.Process, *spec.State, error) {
	if len(o.Command) == 0 {
		return nil, nil, nil, errors.New("exec needs a command: sandbox exec CONTAINER COMMAND [ARG...]")
	}
	if o.Workdir != "" && !path.IsAbs(o.Workdir) {
		return nil, nil, nil, fmt.Errorf("invalid --workdir %q: must be an absolute path", o.Workdir)
	}
	var env []string
	for _, file := range o.EnvFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--env-file: %w", err)
		}
		e, err := spec.ParseEnvFile(data, file, os.LookupEnv)
		if err != nil {
			return nil, nil, nil, err
		}
		env = append(env, e...)
	}
	for _, e := range o.Env {
		kv, ok, err := spec.ParseEnv(e, os.LookupEnv)
		if err != nil {
			return nil, nil, nil, err
		}
		if ok {
			env = append(env, kv)
		}
	}
	c, st, err := r.lookupRunning(ref)
	if err != nil {
		return nil, nil, nil, err
	}
	if st.Status == spec.StatusPaused {
		return nil, nil, nil, fmt.Errorf("%w: %s: unpause it before exec", ErrPaused, ref)
	}
	if st.Status != spec.StatusRunning || !alive(st.Pid, st.PidStart) {
		return nil, nil, nil, fmt.Errorf("%w: %s: exec needs a running container", ErrNotRunning, ref)
	}
	po := nsenter.ProcessOptions{
		Args: o.Command, Env: env, Workdir: o.Workdir,
		TTY: o.TTY, Interactive: o.Interactive, Rows: o.Rows, Cols: o.Cols,
	}
	if o.User != "" {
		user, err := imageuser.Resolve(c.Config.Spec.Rootfs, o.User)
		if err != nil {
			return nil, nil, nil, err
		}
		po.User = &nsenter.ProcessUser{UID: user.UID, GID: user.GID, AdditionalGIDs: user.AdditionalGIDs, Home: user.Home}
	}
	if o.Privileged {
		po.Capabilities = nsenter.AllCapabilities()
	}
	sec, err := execSecurity(o.SecurityOpts)
	if err != nil {
		return nil, nil, nil, err
	}
	po.NoNewPrivileges = sec.NoNewPrivileges
	p := nsenter.ExecProcess(&c.Config.Spec.Process, po)
	return c, &p, st, nil
}

// lookupRunning is lookupState for a container that should be running:
// found from the run root's links when it is (spec.FindRunning), from the
// store otherwise (opened then, for a runtime from NewLazy), which also
// says why it is not.
func (r *Runtime) lookupRunning(ref string) (*Container, *spec.State, error) {
	cfg := new(spec.Config)
	found, err := spec.FindRunning(r.RunDirs(), ref, alive, cfg)
	if err == nil {
		c := &Container{
			Container: &cstorage.Container{ID: cfg.ID, Names: []string{found.Name}, ImageID: cfg.ImageID},
			Config:    cfg,
			RunDir:    found.RunDir,
			Dir:       path.Dir(found.ConfigPath),
		}
		return c, found.State, nil
	}
	if r.Store == nil {
		if err := r.openStore(); err != nil {
			return nil, nil, err
		}
		if err := r.AwaitRemovals(context.Background()); err != nil {
			return nil, nil, err
		}
	}
	return r.lookupState(ref)
}
