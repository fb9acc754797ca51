package container

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"sandbox/internal/atomicfile"
	"sandbox/monitor"
	"sandbox/spec"
	"sandbox/userns"

	"golang.org/x/sys/unix"
)

// ExitError is a container command that could not be started or ended
// with a status: the command line exits with Code.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// Started is a container whose command runs.
type Started struct {
	Pid      int
	PidStart uint64
	// Conn is the attach stream, when asked for.
	Conn *os.File
}

// Run creates a container and starts it. The monitor is launched first,
// in the background, so that its start-up and the init's overlap the
// opening of the store, the search for the image and the creation of the
// container in storage. With attach, Started.Conn is connected to the
// monitor before the command starts, so no output is missed.
func (r *Runtime) Run(ctx context.Context, o *CreateOptions, attach bool) (*Container, *Started, error) {
	p, err := r.prepare(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	clone := monitor.Clone{Network: p.flags.netw.net, Ports: p.flags.netw.ports, Terminal: o.TTY, Stdin: o.Interactive, Cgroup: leafRequest(p.id, p.flags.limits, p.flags.scope)}
	if j := p.flags.netw.join; j != nil {
		clone.JoinNetns = &j.ref
	}
	if p.uidMap != nil {
		clone.UserNS = &spec.UserNS{UIDMap: toSpecMap(p.uidMap), GIDMap: toSpecMap(p.gidMap)}
	}
	l := r.launchAsync(p.runDir, clone, attach)
	// Until make has made the container, a failure abandons the monitor
	// and gives up the claim.
	fail := func(err error) (*Container, *Started, error) {
		return nil, nil, unclaim(p.runDir, l.abandon(err))
	}
	// The scope is made while the image is looked for; begin waits for it.
	if p.flags.scope {
		mon, err := l.wait()
		if err != nil {
			return nil, nil, unclaim(p.runDir, err)
		}
		if mon.scope, err = startScope(ctx, p.id, mon.pid); err != nil {
			return fail(err)
		}
	}
	if err := r.openStore(); err != nil {
		return fail(err)
	}
	if err := r.prepareImage(ctx, o, p); err != nil {
		return fail(err)
	}
	c, err := r.make(ctx, o, p)
	if err != nil {
		// make has removed what it made, the claim with it.
		return nil, nil, l.abandon(err)
	}
	// From here the container exists and is this command's own (creating):
	// without a monitor, or without its scope, it goes as it came.
	mon, err := l.wait()
	if err == nil {
		if err = mon.scope.wait(); err != nil {
			mon.scope.reported = true
			mon.abandon()
		}
	}
	if err != nil {
		if derr := r.deleteStorage(c.ID, true); derr != nil {
			err = fmt.Errorf("%w (and removing the container: %v)", err, derr)
		}
		return nil, nil, err
	}
	started, err := mon.begin(c)
	return c, started, err
}

// launching is a monitor being launched in the background.
type launching struct {
	done chan struct{}
	mon  *launched // once done: the monitor, or nil with err
	err  error
}

// launchAsync launches a container's monitor (launch) in the background:
// the fork and exec hold their thread until the monitor's binary is
// loaded, while the caller goes on.
func (r *Runtime) launchAsync(runDir string, clone monitor.Clone, attach bool) *launching {
	l := &launching{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.mon, l.err = r.launch(runDir, clone, attach)
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

// abandon abandons the monitor once launched, for err; a launch that
// failed too adds its own error to err.
func (l *launching) abandon(err error) error {
	mon, lerr := l.wait()
	if lerr != nil {
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
	if err := writeEtcFiles(c.RunDir, &cfg); err != nil {
		return nil, err
	}
	lim, err := limitsOf(c.Config.Host.Resources, blockDevice)
	if err != nil {
		return nil, err
	}
	scope, err := r.useScope()
	if err != nil {
		return nil, err
	}
	h := &c.Config.Host
	clone := monitor.Clone{Network: h.Network, Ports: h.Ports, UserNS: s.UserNS, Terminal: s.Process.Terminal, Stdin: s.Process.Stdin, Cgroup: leafRequest(c.ID, lim, scope)}
	for _, p := range h.Ports {
		if err := portFree(p); err != nil {
			return nil, err
		}
	}
	if !h.Network.Own() && h.Network.Mode != spec.NetworkHost {
		f := &netFlags{net: h.Network}
		if err := r.resolveJoin(f); err != nil {
			return nil, err
		}
		clone.JoinNetns = &f.join.ref
	}
	mon, err := r.launch(c.RunDir, clone, attach)
	if err != nil {
		return nil, err
	}
	if scope {
		if mon.scope, err = startScope(ctx, c.ID, mon.pid); err != nil {
			mon.abandon()
			return nil, err
		}
	}
	return mon.begin(c)
}

// launched is a monitor that waits for its go-ahead.
type launched struct {
	pid    int
	runDir string
	sync   *os.File // read end: the monitor's report
	goPipe *os.File // write end: the go-ahead
	conn   *os.File // the attach stream, or nil
	// scope is the systemd scope being made for the monitor, or nil: the
	// go-ahead waits for it, and names it.
	scope *scopeStart
}

// launch starts a container's monitor, which clones the init at once and
// then waits for begin or abandon.
func (r *Runtime) launch(runDir string, clone monitor.Clone, attach bool) (_ *launched, retErr error) {
	var closeOnErr []*os.File
	defer func() {
		if retErr != nil {
			for _, f := range closeOnErr {
				f.Close()
			}
		}
	}()
	opts, err := json.Marshal(&monitor.Options{RunDir: runDir, Attach: attach, Clone: clone})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(runDir, monitor.OptionsFile), opts, 0o600); err != nil {
		return nil, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("monitor pipe: %w", err)
	}
	defer syncW.Close()
	goR, goW, err := os.Pipe()
	if err != nil {
		syncR.Close()
		return nil, fmt.Errorf("monitor pipe: %w", err)
	}
	defer goR.Close()
	closeOnErr = append(closeOnErr, syncR, goW)
	l := &launched{runDir: runDir, sync: syncR, goPipe: goW}
	// fd 0 /dev/null, 1 and 2 the monitor's log, 3 sync, 4 attach (or
	// /dev/null), 5 go-ahead.
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	fd4 := null
	if attach {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("attach socket: %w", err)
		}
		l.conn = pollable(pair[0], "attach")
		closeOnErr = append(closeOnErr, l.conn)
		theirs := os.NewFile(uintptr(pair[1]), "attach")
		defer theirs.Close()
		fd4 = theirs
	}
	monLog, err := os.OpenFile(filepath.Join(runDir, "monitor.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("monitor log: %w", err)
	}
	defer monLog.Close()
	// syscall.ForkExec rather than os/exec: this process never waits for
	// the monitor, and os/exec's first start probes for pidfd support with
	// an extra clone, on the path of every container start. GOMAXPROCS=1
	// from the first instruction: the monitor mostly waits, and each
	// processor the Go runtime keeps costs every idle monitor its own
	// allocation caches (about 200 KiB).
	pid, err := syscall.ForkExec(r.Monitor, []string{"sandbox-monitor", "monitor", runDir}, &syscall.ProcAttr{
		Dir:   "/",
		Env:   append(userns.ChildEnv(), "PATH="+os.Getenv("PATH"), "GOMAXPROCS=1"),
		Files: []uintptr{null.Fd(), monLog.Fd(), monLog.Fd(), syncW.Fd(), fd4.Fd(), goR.Fd()},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return nil, fmt.Errorf("start monitor %s: %w", r.Monitor, err)
	}
	l.pid = pid
	return l, nil
}

// abandon tells the monitor that there will be no container, and waits
// while it ends its init and exits: what it leaves in the run directory
// may then be removed.
func (l *launched) abandon() {
	// A scope still being made would otherwise race the monitor's exit;
	// once the monitor is gone, systemd collects the scope. Its failure
	// is told here unless begin has returned it.
	if err := l.scope.wait(); err != nil && !l.scope.reported {
		fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
	}
	l.goPipe.Close()
	l.sync.Close()
	if l.conn != nil {
		l.conn.Close()
	}
	for {
		_, err := syscall.Wait4(l.pid, nil, 0, nil)
		if err != syscall.EINTR {
			return
		}
	}
}

// begin gives the monitor the container and waits for its report.
func (l *launched) begin(c *Container) (*Started, error) {
	defer l.sync.Close()
	cleanup := append([]string{}, GlobalArgs(c.Config.Storage)...)
	cleanup = append(cleanup, "container", "cleanup")
	if c.Config.Remove {
		cleanup = append(cleanup, "--rm")
	}
	self, err := os.Executable()
	if err != nil {
		l.abandon()
		return nil, err
	}
	if err := l.scope.wait(); err != nil {
		l.scope.reported = true
		l.abandon()
		return nil, err
	}
	g := monitor.Go{
		ConfigPath: filepath.Join(c.Dir, "config.json"),
		LogPath:    filepath.Join(c.Dir, "ctr.log"),
		Cleanup:    append(append([]string{self}, cleanup...), c.ID),
	}
	if l.scope != nil {
		g.Scope = l.scope.name
	}
	goAhead, err := json.Marshal(&g)
	if err != nil {
		l.abandon()
		return nil, err
	}
	_, werr := l.goPipe.Write(append(goAhead, '\n'))
	l.goPipe.Close()
	// A write error means the monitor is gone: its report, or its log,
	// says why.
	line, err := bufio.NewReader(l.sync).ReadBytes('\n')
	if err != nil {
		if l.conn != nil {
			l.conn.Close()
		}
		if errors.Is(err, io.EOF) {
			out, _ := os.ReadFile(filepath.Join(l.runDir, "monitor.log"))
			return nil, fmt.Errorf("monitor (pid %d) exited before the container started: %s%s", l.pid, strings.TrimSpace(string(out)), errSuffix(werr))
		}
		return nil, fmt.Errorf("read from monitor: %w", err)
	}
	var msg monitor.SyncMessage
	if err := json.Unmarshal(line, &msg); err != nil {
		return nil, fmt.Errorf("message from monitor %q: %w", line, err)
	}
	if msg.Error != "" {
		if l.conn != nil {
			l.conn.Close()
		}
		return nil, &ExitError{Code: msg.Code, Msg: msg.Error}
	}
	return &Started{Pid: msg.Pid, PidStart: msg.PidStart, Conn: l.conn}, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
