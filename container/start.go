package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"sandbox/internal/cleanup"
	"sandbox/internal/faultinject"
	"sandbox/internal/proc"
	"sandbox/monitor"
	"sandbox/prerun"
	"sandbox/spec"
	"sandbox/userns"
)

// Started is a container whose command runs.
type Started struct {
	Pid      int
	PidStart uint64
	// Conn is the attach stream, when asked for.
	Conn *os.File
}

// Run creates a container and starts it. The monitor's process is started
// first, in the background, and given its options once the flags are
// checked and the container claimed, so that its start-up and the init's
// overlap that work, the opening of the store (begun by NewOpening), the
// search for the image and the creation of the container in storage.
// With attach, Started.Conn is connected to the monitor before the
// command starts, so no output is missed.
func (r *Runtime) Run(ctx context.Context, o *CreateOptions, attach bool) (_ *Container, _ *Started, retErr error) {
	defer func() {
		if retErr != nil {
			r.settleStore()
		}
	}()
	// The monitor the hook started for `sandbox run`, if any, names the
	// container's id: it was started for its run directory.
	early := prerun.TakeEarlyMonitor()
	var id string
	if early != nil {
		id = early.ID
	} else {
		var err error
		if id, err = newID(); err != nil {
			return nil, nil, err
		}
	}
	// What the monitor's descriptors need is known from the flags as
	// given; a guess that checking proves wrong costs a second spawn.
	so := monitor.SpawnOptions{RunDir: r.runDir(id), Attach: attach, PreserveFDs: int(o.PreserveFDs), Passthrough: o.LogDriver == spec.LogPassthrough}
	var l *launching
	if early != nil {
		l = r.adoptEarly(early, so)
	}
	if l == nil {
		l = r.spawnAsync(so)
	}
	p, err := r.prepare(ctx, o, id)
	if err != nil {
		l.drop()
		return nil, nil, err
	}
	// Until the monitor has its go-ahead, a failure undoes the start,
	// newest first: the monitor is abandoned and waited for (it may still
	// write to the run directory), then the claim goes, or the container
	// once make has made it (make removes what it made itself).
	var c *Container
	undo := cleanup.Make(func() {
		if c == nil {
			retErr = r.unclaimPrepared(p, retErr)
		} else if derr := r.deleteStorage(c.ID, true); derr != nil {
			retErr = fmt.Errorf("%w (and removing the container: %v)", retErr, derr)
		}
	})
	defer undo.Clean()
	clone := monitor.Clone{Network: p.flags.netw.net, Ports: p.flags.netw.ports, Terminal: o.TTY, Stdin: o.Interactive, Cgroup: leafRequest(p.id, p.flags.resources, p.flags.scope), PreserveFDs: int(o.PreserveFDs),
		Passthrough: p.flags.log.Driver == spec.LogPassthrough}
	if j := p.flags.netw.join; j != nil {
		clone.JoinNetns = &j.ref
	}
	if p.uidMap != nil {
		clone.UserNS = &spec.UserNS{UIDMap: toSpecMap(p.uidMap), GIDMap: toSpecMap(p.gidMap)}
	}
	p.launch = l
	undo.Add(func() { retErr = l.abandon(retErr) })
	if err := l.configure(r, monitor.Options{RunDir: p.runDir, Attach: attach, Clone: clone, Events: r.Events.Path}); err != nil {
		return nil, nil, err
	}
	// The scope is made while the image is looked for; begin waits for it.
	if p.flags.scope {
		mon, err := l.wait()
		if err != nil {
			return nil, nil, err
		}
		if mon.scope, err = startScope(ctx, p.id, mon.Pid); err != nil {
			return nil, nil, err
		}
	}
	if err := r.openStore(); err != nil {
		return nil, nil, err
	}
	if err := r.prepareImage(ctx, o, p); err != nil {
		return nil, nil, err
	}
	if c, err = r.make(ctx, o, p); err != nil {
		return nil, nil, err
	}
	// From here the container exists and is this command's own (creating):
	// without a monitor, or without its scope, it goes as it came.
	mon, err := l.wait()
	if err != nil {
		return nil, nil, err
	}
	if err := mon.scope.wait(); err != nil {
		mon.scope.reported = true // told by the error returned
		return nil, nil, err
	}
	faultinject.Step(faultinject.RunLaunched)
	// begin abandons the monitor itself when it must; a container the
	// monitor never took is the caller's to remove.
	undo.Release()
	// Attached, a caller that says so removes a --rm container once it has
	// the exit status (RemoveHandedOff), which saves a cleanup command's
	// start.
	mon.remover = attach && c.Config.Remove && r.RemovesOnReturn
	started, err := mon.begin(c)
	return c, started, err
}

// launching is a monitor being launched in the background.
type launching struct {
	done chan struct{}
	mon  *launched // once done: the monitor, or nil with err
	err  error
	// abandoned: abandon has run; it runs once.
	abandoned bool
}

// adoptEarly takes the monitor that the hook started (prerun's early.c)
// as the container's when it was started as spawnAsync would start one
// for o; otherwise it abandons it and returns nil.
func (r *Runtime) adoptEarly(e *prerun.EarlyMonitor, o monitor.SpawnOptions) *launching {
	if filepath.Clean(e.Binary) != r.Monitor || e.RunDir != o.RunDir || o.PreserveFDs != 0 || o.Passthrough {
		// It exits at the end of its options pipe, and is reaped at the
		// command's end (prerun.EndEarlyMonitor).
		e.Abandon()
		return nil
	}
	m := monitor.Adopt(monitor.Adopted{Pid: e.Pid, Binary: r.Monitor, RunDir: e.RunDir, Attach: o.Attach,
		Sync: e.Sync, Go: e.Go, Options: e.Options, AttachFd: e.Attach})
	l := &launching{done: make(chan struct{}), mon: &launched{Launched: m, noEvents: r.Events.Path == "", cleaner: r.Cleaner}}
	close(l.done)
	go warmEncoders()
	return l
}

// warmEncoders readies encoding/json for what the command encodes next on
// the way to the container's start (the claim's state, the monitor's
// options, the container's configuration), whose first encoding of a type
// reflects on it: run on a goroutine of its own once the monitor is there.
func warmEncoders() {
	_, _ = json.Marshal(&spec.State{})
	_, _ = json.Marshal(&monitor.Options{})
	_, _ = json.Marshal(&spec.Config{})
}

// spawnAsync spawns a container's monitor (monitor.Spawn) in the
// background: the fork and exec hold their thread until the monitor's
// binary is loaded, while the caller goes on.
func (r *Runtime) spawnAsync(o monitor.SpawnOptions) *launching {
	l := &launching{done: make(chan struct{})}
	o.Binary, o.Env = r.Monitor, r.monitorEnv()
	go func() {
		m, err := monitor.Spawn(o)
		if err == nil {
			l.mon = &launched{Launched: m, noEvents: r.Events.Path == "", cleaner: r.Cleaner}
		}
		l.err = err
		close(l.done)
		// The caller, if it waits, goes first: otherwise it would wait
		// for this goroutine's processor.
		runtime.Gosched()
		warmEncoders()
	}()
	// The launch goes first on this thread; the caller resumes on another.
	// Left to the scheduler, the launch can wait a millisecond for a
	// thread, and the monitor is the longer of the two paths to the
	// container's start.
	runtime.Gosched()
	return l
}

// wait waits for the launch and returns its outcome.
func (l *launching) wait() (*launched, error) {
	<-l.done
	return l.mon, l.err
}

// configure gives the spawned monitor its options; one spawned for other
// descriptors than o's is abandoned for one launched for o.
func (l *launching) configure(r *Runtime, o monitor.Options) error {
	mon, err := l.wait()
	if err != nil {
		return err
	}
	if !mon.Matches(o) {
		mon.abandon()
		l.mon, l.err = r.launch(o.RunDir, o.Clone, o.Attach)
		return l.err
	}
	return mon.Configure(o)
}

// drop abandons a monitor spawned for a start that failed before it was
// configured: the failure is the caller's to report, not the spawn's.
func (l *launching) drop() {
	if mon, err := l.wait(); err == nil {
		mon.abandon()
	}
	l.abandoned = true
}

// abandon abandons the monitor once launched, for err; a launch that
// failed too adds its own error to err, unless err is that failure. Once
// abandoned, it returns err as it is.
func (l *launching) abandon(err error) error {
	if l.abandoned {
		return err
	}
	l.abandoned = true
	mon, lerr := l.wait()
	if lerr != nil {
		if errors.Is(err, lerr) {
			return err
		}
		return fmt.Errorf("%w (and launching the monitor: %v)", err, lerr)
	}
	mon.abandon()
	return err
}

// Start starts the monitor of a created container and waits until the
// container's command runs. attach: see Run.
func (r *Runtime) Start(ctx context.Context, c *Container, attach bool) (*Started, error) {
	if c.Config == nil {
		return nil, fmt.Errorf("container %.12s has no configuration: remove it", c.ID)
	}
	s := &c.Config.Spec
	cfg := *c.Config
	cfg.Name = c.Name()
	if err := r.writeEtcFiles(c.RunDir, &cfg); err != nil {
		return nil, err
	}
	scope, err := r.useScope()
	if err != nil {
		return nil, err
	}
	h := &c.Config.Host
	if !scope {
		if err := requireControllers(&h.Resources); err != nil {
			return nil, err
		}
	}
	clone := monitor.Clone{Network: h.Network, Ports: h.Ports, UserNS: s.UserNS, Terminal: s.Process.Terminal, Stdin: s.Process.Stdin, Cgroup: leafRequest(c.ID, h.Resources, scope),
		Passthrough: h.Log.Driver == spec.LogPassthrough}
	if len(h.Network.Attachments) > 0 {
		clone.Network.MemberName = c.Name() // renamed since, perhaps
		if c.Config.Infra {
			if clone.Network.MemberNames, err = r.podNetworkNames(c.Config); err != nil {
				return nil, err
			}
		}
		if err := r.ensureHolder(h.Network.HolderDir); err != nil {
			return nil, err
		}
	}
	for _, p := range h.Ports {
		if err := portFree(p); err != nil {
			return nil, err
		}
	}
	if !h.Network.Own() && h.Network.Mode != spec.NetworkHost {
		f := &netFlags{net: h.Network}
		if err := r.resolveJoin(ctx, f); err != nil {
			return nil, err
		}
		clone.JoinNetns = &f.join.ref
	}
	mon, err := r.launch(c.RunDir, clone, attach)
	if err != nil {
		return nil, err
	}
	faultinject.Step(faultinject.StartLaunched)
	if scope {
		if mon.scope, err = startScope(ctx, c.ID, mon.Pid); err != nil {
			mon.abandon()
			return nil, err
		}
	}
	return mon.begin(c)
}

// launched is a monitor that waits for its go-ahead, and the systemd
// scope being made for it.
type launched struct {
	*monitor.Launched
	// scope is the systemd scope being made for the monitor, or nil: the
	// go-ahead waits for it, and names it.
	scope *scopeStart
	// noEvents: the runtime records no events, nor does the cleanup.
	noEvents bool
	// remover: this process removes the --rm container after its exit
	// (monitor.Go.Remover).
	remover bool
	// cleaner is the sandbox-cleanup binary, which the monitor becomes
	// once the container has exited.
	cleaner string
}

// launch starts a container's monitor, which clones the init at once and
// then waits for begin or abandon.
func (r *Runtime) launch(runDir string, clone monitor.Clone, attach bool) (*launched, error) {
	l, err := monitor.Launch(monitor.LaunchOptions{
		Binary: r.Monitor, Env: r.monitorEnv(),
		RunDir: runDir, Clone: clone, Attach: attach, Events: r.Events.Path,
	})
	if err != nil {
		return nil, err
	}
	return &launched{Launched: l, noEvents: r.Events.Path == "", cleaner: r.Cleaner}, nil
}

// monitorEnv is the monitor's environment.
func (r *Runtime) monitorEnv() []string {
	return append(userns.ChildEnv(), "PATH="+os.Getenv("PATH"))
}

// abandon tells the monitor that there will be no container, and waits
// while it ends its init and exits.
func (l *launched) abandon() {
	// A scope still being made would otherwise race the monitor's exit;
	// once the monitor is gone, systemd collects the scope. Its failure
	// is told here unless begin has returned it.
	if err := l.scope.wait(); err != nil && !l.scope.reported {
		fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
	}
	l.Abandon()
}

// begin gives the monitor the container and waits for its report.
func (l *launched) begin(c *Container) (*Started, error) {
	cleanup := append([]string{l.cleaner}, GlobalArgs(c.Config.Storage)...)
	if l.noEvents {
		cleanup = append(cleanup, "--events-backend=none")
	}
	if c.Config.Remove {
		cleanup = append(cleanup, "--rm")
	}
	if err := l.scope.wait(); err != nil {
		l.scope.reported = true
		l.abandon()
		return nil, err
	}
	g := monitor.Go{
		ConfigPath: filepath.Join(c.Dir, "config.json"),
		LogPath:    logPath(c),
		Cleanup:    append(cleanup, c.ID),
	}
	if l.scope != nil {
		g.Scope = l.scope.name
	}
	if l.remover {
		start, err := proc.StartTime(os.Getpid())
		if err != nil {
			l.abandon()
			return nil, err
		}
		g.Remover = &spec.ProcessRef{Pid: os.Getpid(), Start: start}
	}
	msg, err := l.Begin(g)
	if err != nil {
		return nil, err
	}
	if msg.Error != "" {
		return nil, spec.NewExitError(msg.Code, errors.New(msg.Error))
	}
	return &Started{Pid: msg.Pid, PidStart: msg.PidStart, Conn: l.Conn}, nil
}
