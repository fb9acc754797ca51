// Package monitor is the monitor role: one small process per container that
// stays beside it for its whole life, in a session of its own so that it
// outlives the command that started it. It starts the init (package
// nsinit) in the container's new namespaces, holds the container's standard
// streams (pipes, or the master end of its terminal), writes them to the
// log and to attached clients, records the exit status, and finally
// replaces itself with the cleanup command (unmount, and removal for --rm),
// unless the removal goes to the foreground command (below).
//
// Protocol with the command that starts it (argv: monitor RUN-DIR), whose
// end is this package's launcher (launch_linux.go):
//
//	fd 6  options pipe, from the command: Options (JSON), then end of file;
//	      end of file alone means abandon. The command starts the monitor
//	      before it has checked its flags and claimed the run directory,
//	      and writes them once it has: the monitor's process start-up
//	      overlaps that work. The monitor then opens RUN-DIR/monitor.log
//	      as its standard output and error (/dev/null until then) and
//	      clones the init at once, before the container's configuration
//	      exists (with a systemd scope, Clone.Cgroup.Systemd: after the
//	      go-ahead, which comes once the command has had systemd move the
//	      monitor there)
//	fd 5  go pipe, from the command: one JSON line, Go, once the container
//	      is created, read up to its newline; end of file without it means
//	      abandon (no cleanup). Lines sent ahead of it (nsinit.Prepare)
//	      are for the init. An init cloned before the go-ahead gets the
//	      pipe (nsinit.Begin.GoPipe), starts on the line and forwards it
//	      here, so that the monitor's wake-up is not on the way.
//	fd 3  sync pipe, to the command: one JSON line, SyncMessage, once the
//	      container's command runs or could not be started; then closed
//	fd 4  optional: a stream socket to an attached client (package attach)
//
// Starting before the container is made lets the monitor's and the init's
// process start-up overlap the storage work of the command. For `sandbox
// run` the command's pre-runtime hook starts it (prerun's early.c), with
// fd 4 always a socket, and the monitor may clone the init before it has
// its options (earlyinit_linux.go).
//
// The end of a --rm container: the monitor marks its removal as under way
// (spec.RemovalMark), sends the exit status and becomes the cleanup, which
// removes the container and then the mark; the commands after it wait for
// marked removals, so that a foreground run --rm returns with its status
// while, to every command that follows, the container is gone, as after
// docker's. A failure (status 1 to 125) of a container whose command is
// attached on fd 4 and named in Go.Remover (a foreground run) is handed
// off instead: the monitor records the container as being removed by that
// command, then sends it the exit status, and exits without a cleanup
// command; the command, whose store is open, measures the store (a full
// disk is told for a failure) and removes the container before it exits
// itself. A command
// that is gone by then (detached, killed) does not get the status: the
// monitor takes the removal back and becomes the cleanup as usual. One
// that dies after it leaves a container recorded as being removed by a
// dead process, which the next command that meets it removes.
//
// It imports neither storage nor anything heavy: it is on the hot path of
// every start, and its idle memory is the per-container overhead.
package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"sandbox/attach"
	"sandbox/cgroupv2"
	"sandbox/events"
	"sandbox/internal/proc"
	"sandbox/network"
	"sandbox/nsinit"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// LogFile, in the run directory, is the monitor's own log: its standard
// output and error once it has its options.
const LogFile = "monitor.log"

// InitPidFile, in the run directory, names the container's init as the
// monitor cloned it: "PID STARTTIME".
const InitPidFile = "init.pid"

// ErrAbandoned is the end of the options pipe without options, or of the
// go pipe without a go-ahead: the command that spawned the monitor needs
// it no more.
var ErrAbandoned = errors.New("abandoned")

// ReceiveOptions reads the monitor's options from the options pipe (fd 6)
// and makes runDir/monitor.log its standard output and error. The options
// must name runDir, the run directory of its command line.
func ReceiveOptions(runDir string) (Options, error) {
	var o Options
	f := os.NewFile(optsFd, "options")
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return o, fmt.Errorf("monitor options: %w", err)
	}
	if len(data) == 0 {
		return o, ErrAbandoned
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return o, fmt.Errorf("monitor options %s: %w", runDir, err)
	}
	if o.RunDir != runDir {
		return o, fmt.Errorf("monitor options for %s, not %s", o.RunDir, runDir)
	}
	logFile, err := os.OpenFile(filepath.Join(runDir, LogFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return o, fmt.Errorf("monitor log: %w", err)
	}
	defer logFile.Close()
	for _, fd := range []int{1, 2} {
		if err := unix.Dup3(int(logFile.Fd()), fd, 0); err != nil {
			return o, fmt.Errorf("monitor log: %w", err)
		}
	}
	o.Clone.runDir = o.RunDir
	return o, nil
}

// Options are what the sandbox command gives the monitor on fd 6.
type Options struct {
	RunDir string `json:"runDir"`
	// Attach: fd 4 is an attached client.
	Attach bool `json:"attach,omitempty"`
	// Clone says how to clone the init.
	Clone Clone `json:"clone"`
	// Events is the events journal (package events); "" records nothing.
	Events string `json:"events,omitempty"`
}

// Clone is what the init's clone needs, known from the flags before the
// container is created.
type Clone struct {
	// Network is --network: an own network namespace unless host or
	// container:ID; a user-mode backend started beside the init for
	// slirp4netns and pasta (network_linux.go).
	Network network.Network `json:"network"`
	// Ports are published by the backend.
	Ports []network.Port `json:"ports,omitempty"`
	// JoinNetns is the container whose network namespace the init joins,
	// for container:ID.
	JoinNetns *spec.ProcessRef `json:"joinNetns,omitempty"`
	// runDir holds the backend's log and API socket (Options.RunDir).
	runDir string
	// UserNS, when set, is the container's own user namespace.
	UserNS *spec.UserNS `json:"userns,omitempty"`
	// Terminal and Stdin are -t and -i.
	Terminal bool `json:"terminal,omitempty"`
	Stdin    bool `json:"stdin,omitempty"`
	// Cgroup, when set, asks for the container's own cgroup (cgroup_linux.go).
	Cgroup *Cgroup `json:"cgroup,omitempty"`
	// PreserveFDs is --preserve-fds: the command's descriptors 3..2+N,
	// which the monitor holds at firstPreservedFd on for every start.
	PreserveFDs int `json:"preserveFds,omitempty"`
	// Passthrough is --log-driver passthrough: the command's standard
	// streams, which the monitor holds after the preserved descriptors,
	// are the container's own; nothing is relayed or logged.
	Passthrough bool `json:"passthrough,omitempty"`
}

// held is how many descriptors the monitor holds for the container's
// starts, at firstPreservedFd on: the preserved ones, then the
// passed-through streams.
func (c Clone) held() int {
	if c.Passthrough {
		return c.PreserveFDs + 3
	}
	return c.PreserveFDs
}

// Go is the command's go-ahead on fd 5, once the container exists.
type Go struct {
	ConfigPath string `json:"config"`
	LogPath    string `json:"log"` // "": no log (--log-driver none)
	// Cleanup is the command the monitor becomes once the container has
	// exited and every client has its status.
	Cleanup []string `json:"cleanup"`
	// Scope is the systemd scope the monitor is in by now, with
	// Clone.Cgroup.Systemd: the delegate root of the container's cgroup.
	Scope string `json:"scope,omitempty"`
	// Remover, when set, is the command attached on fd 4, which removes
	// a --rm container itself once it has the exit status (see above).
	Remover *spec.ProcessRef `json:"remover,omitempty"`
}

// SyncMessage is the monitor's one report to the command that started it.
type SyncMessage struct {
	Pid      int    `json:"pid,omitempty"`
	PidStart uint64 `json:"pidStart,omitempty"`
	Error    string `json:"error,omitempty"`
	// Code is the exit status to report with Error: 125, 126 or 127.
	Code int `json:"code,omitempty"`
}

const (
	syncFd   = 3
	attachFd = 4
	goFd     = 5
	optsFd   = 6
	// firstPreservedFd is where the launcher puts --preserve-fds's
	// descriptors in the monitor, after its own.
	firstPreservedFd = 7
)

// containerConfig is what the monitor reads of the container's
// config.json (spec.Config's fields of the same JSON names): decoding the
// whole of it costs the monitor of every start about half a millisecond
// more (spec.ReadConfigInto).
type containerConfig struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Image  string            `json:"image"`
	Labels map[string]string `json:"labels,omitempty"`
	Remove bool              `json:"remove,omitempty"`
	Host   struct {
		Restart spec.RestartPolicy `json:"restart"`
		Log     spec.LogConfig     `json:"log"`
		Timeout uint               `json:"timeout,omitempty"`
	} `json:"host"`
	Spec struct {
		Process struct {
			Terminal bool `json:"terminal,omitempty"`
		} `json:"process"`
	} `json:"spec"`
}

type monitor struct {
	// self is this process, as the state and the removal's mark name it.
	self    spec.ProcessRef
	opts    Options
	goAhead Go
	cfg     *containerConfig
	log     *LogWriter

	mu      sync.Mutex
	clients []io.ReadWriteCloser // attached clients, guarded by mu
	stdin   *os.File             // the container's standard input (pipe or terminal), guarded by mu
	// unread are clients whose input is not read yet: the one the command
	// brought, read once the container's input exists. Guarded by mu.
	unread []io.ReadWriteCloser

	// listener is the attach socket, closed before the exit status goes
	// out so that no client connects after it and waits in vain.
	listener *listener

	// leaf is the container's cgroup, nil without one; oomKilled says
	// whether the last run lost a process to the memory limit.
	leaf      *leaf
	oomKilled bool

	// first is the client on fd 4, nil without one; handedOff says that
	// the removal went to it (Go.Remover), so that there is no cleanup.
	first     io.ReadWriteCloser
	handedOff bool
	// statusTo is the foreground command (Go.Remover) that got the exit
	// status while the removal was left to the cleanup: the cleanup waits
	// for it to end.
	statusTo *spec.ProcessRef

	// mountNS is the exited container's mount namespace, which the init
	// lent (nsinit.lendMountNS), until its exit status is out; nil when
	// none is held.
	mountNS *os.File
}

// Run is the monitor role, with the early init cloned before its options
// (nil for none); it returns only when it cannot exec cleanup.
func Run(opts Options, pre *EarlyInit) int {
	log.SetFlags(0)
	log.SetPrefix("sandbox-monitor: ")
	closeInherited(opts.Clone.held())
	syncPipe := os.NewFile(syncFd, "sync")
	// Read once, off the way of the exit status, which the removal's mark
	// and the exit's record that name this process come before or after.
	m := &monitor{opts: opts, self: spec.ProcessRef{Pid: os.Getpid(), Start: startTime(os.Getpid())}}
	if opts.Attach {
		c := os.NewFile(attachFd, "attach")
		m.first = c
		m.clients = append(m.clients, c)
		m.unread = append(m.unread, c)
	} else {
		// /dev/null, or a socket whose other end the command closed (an
		// early monitor, started before it knew: prerun's early.c).
		unix.Close(attachFd)
	}
	// In a systemd scope, the cgroup and the init wait for the go-ahead:
	// the command sends it once systemd has moved this process into the
	// scope, whose cgroup is the one to make the container's in.
	var init *pendingInit
	var err error
	early := opts.Clone.Cgroup == nil || !opts.Clone.Cgroup.Systemd
	if early {
		if init, err = m.prepareInit(pre); err != nil {
			writeSync(syncPipe, SyncMessage{Error: err.Error(), Code: 125})
			return 125
		}
	} else {
		pre.Kill() // the init comes into the scope's cgroup, later
	}
	catchSignals()
	if init != nil {
		// The init reads the go-ahead itself, and forwards it here: the
		// container's start does not wait for this process to wake up.
		goPipe := os.NewFile(goFd, "go")
		err = init.beginAtGo(goFd)
		goPipe.Close()
		if err == nil {
			m.goAhead, err = init.goAhead()
		}
	} else {
		m.goAhead, err = readGo(os.NewFile(goFd, "go"))
	}
	if err != nil {
		// Abandoned: the command failed to make the container, or died; it
		// (or the next command, for a dead one) removes what there is.
		if init != nil {
			init.kill()
		}
		m.leaf.close()
		if err != ErrAbandoned {
			log.Printf("no go-ahead: %v", err)
		}
		return 125
	}
	var code int
	if !early {
		init, err = m.prepareInit(nil)
	}
	if err != nil {
		// The container exists: its cleanup (and --rm) runs as after any
		// start that failed.
		code = m.failed(syncPipe, 125, err)
	} else {
		code = m.run(syncPipe, init)
	}
	m.leaf.close()
	// The caller's descriptors held for the container's starts go before
	// the cleanup: whoever waits for their end (a pipe) waits no longer.
	for i := 0; i < opts.Clone.held(); i++ {
		unix.Close(firstPreservedFd + i)
	}
	cleanup := m.goAhead.Cleanup
	if len(cleanup) == 0 || m.handedOff {
		return code
	}
	// The cleanup of a foreground run starts once that command, which the
	// user waits for, has ended: on a busy machine the start of the
	// cleanup (sandbox-cleanup, its store opened) would compete for the
	// CPU with the command's last steps. The removal is marked under way,
	// so the commands after it wait for it all the same.
	if r := m.statusTo; r != nil && !proc.AwaitEnd(r.Pid, r.Start, 2*time.Second) {
		log.Printf("the command that got the status (pid %d) still runs: cleanup goes on", r.Pid)
	}
	err = unix.Exec(cleanup[0], cleanup, os.Environ())
	log.Printf("run cleanup %v: %v", cleanup, err)
	return 125
}

// catchSignals keeps the signals that would end the monitor from ending
// it: caught, not ignored, since an ignored signal would stay ignored in
// the processes it starts. It comes after the init is cloned, off the
// path of the container's start: the Go runtime starts a thread of its own
// to watch for signals. Until then the monitor, in a session of its own,
// has no terminal to get them from.
func catchSignals() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE, syscall.SIGTTOU, syscall.SIGTTIN)
	go func() {
		for range sigs {
		}
	}()
}

// prepareInit makes the container's cgroup and clones the init into it,
// or takes the early init pre (nil for none) when it has the shape the
// options ask for, and kills it when not.
func (m *monitor) prepareInit(pre *EarlyInit) (*pendingInit, error) {
	var err error
	var detected *cgroupv2.Status
	if pre != nil {
		detected = pre.detected
	}
	if m.leaf, err = openLeaf(m.opts.Clone.Cgroup, m.goAhead.Scope, detected); err != nil {
		pre.Kill()
		return nil, err
	}
	if pre != nil && fitsEarly(m.opts.Clone, m.leaf) {
		init := pre.init
		pre.init = nil
		if err := init.settle(m.opts.Clone); err != nil {
			return nil, err
		}
		return init, nil
	}
	pre.Kill()
	init, err := cloneInit(m.opts.Clone, m.leaf)
	if err != nil {
		m.leaf.close()
		m.leaf = nil
		return nil, err
	}
	return init, nil
}

// closeInherited closes the descriptors the monitor inherited besides its
// own (standard streams, sync, attach, go-ahead): whoever ran sandbox may
// have left some open across exec (a shell's, a CI runner's pipe), and a
// monitor that outlives the command would keep them open, so that
// whoever waits for their end would wait for the container. The Go
// runtime's own descriptors are close-on-exec, and so are left alone, as
// are the preserve descriptors --preserve-fds passes on.
func closeInherited(preserve int) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		log.Printf("close inherited descriptors: %v", err)
		return
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < firstPreservedFd+preserve {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			unix.Close(fd)
		}
	}
}

// readGo reads the go-ahead; its absence is an error (ErrAbandoned). It returns at the
// line's end, not at the pipe's: the container's start waits for this,
// and the command's close of the pipe, right after its write, would be
// one more wake-up of the monitor on the way (a scheduler's slice when
// the machine is busy).
func readGo(f *os.File) (Go, error) {
	defer f.Close()
	var g Go
	r := bufio.NewReader(f)
	data, err := r.ReadBytes('\n')
	// What the command sends ahead is for an init that reads the pipe
	// itself (nsinit.Prepare); this one is cloned after the go-ahead.
	for err == nil && nsinit.IsPrepareLine(data) {
		data, err = r.ReadBytes('\n')
	}
	if errors.Is(err, io.EOF) && len(data) == 0 {
		return g, ErrAbandoned
	}
	if err != nil {
		// A part of a line: the command died while it wrote.
		return g, fmt.Errorf("read go-ahead: %w", err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return g, fmt.Errorf("go-ahead: %w", err)
	}
	return g, nil
}

func (m *monitor) run(syncPipe *os.File, init *pendingInit) int {
	// The init goes first: it builds the container while the monitor
	// reads the configuration and opens the log and the attach socket.
	if err := init.begin(m.goAhead.ConfigPath); err != nil {
		return m.failed(syncPipe, 125, err)
	}
	cfg := &containerConfig{}
	err := spec.ReadConfigInto(m.goAhead.ConfigPath, cfg)
	if err != nil {
		init.kill()
		return m.failed(syncPipe, 125, err)
	}
	m.cfg = cfg
	log.SetPrefix("sandbox-monitor " + cfg.ID[:12] + ": ")
	// No log path: --log-driver none, and a nil log writes nothing.
	if m.goAhead.LogPath != "" {
		if m.log, err = OpenLog(m.goAhead.LogPath, cfg.Host.Log); err != nil {
			init.kill()
			return m.failed(syncPipe, 125, err)
		}
	}
	defer m.log.Close()
	if m.listener, err = m.listen(); err != nil {
		init.kill()
		return m.failed(syncPipe, 125, err)
	}

	// Each pass runs the container once; the restart policy decides
	// whether there is another.
	for restarts := 0; ; restarts++ {
		if init == nil {
			if init, err = cloneInit(m.opts.Clone, m.leaf); err != nil {
				return m.finish(125, err.Error())
			}
			if err := init.begin(m.goAhead.ConfigPath); err != nil {
				return m.finish(125, err.Error())
			}
		}
		code, errMsg, started := m.runOnce(syncPipe, init, restarts)
		init = nil
		syncPipe = nil // only the first start is reported to the caller
		if !started || !m.restart(code, restarts) {
			return m.finish(code, errMsg)
		}
		letGo(&m.mountNS)
		m.event(events.Restart, 0)
	}
}

// runOnce starts the container and waits for it to exit; a start that
// fails returns started false. The start is reported through syncPipe
// unless it is nil.
func (m *monitor) runOnce(syncPipe *os.File, init *pendingInit, restarts int) (code int, errMsg string, started bool) {
	oomBase := m.leaf.ooms()
	streams, err := init.started()
	// The container's input is now there (a pipe, or the terminal the init
	// sent): clients may write to it. The first clients start reading now,
	// so that nothing they send is lost before it exists.
	m.mu.Lock()
	m.stdin = init.stdin
	for _, c := range m.unread {
		go m.readClient(c)
	}
	m.unread = nil
	m.mu.Unlock()
	if err != nil {
		code := spec.ExitStatus(err)
		if syncPipe != nil {
			m.recordExit(code, err.Error())
			writeSync(syncPipe, SyncMessage{Error: err.Error(), Code: code})
		}
		return code, err.Error(), false
	}
	pid := init.pid
	start := startTime(pid)
	now := time.Now().UTC()
	if err := spec.UpdateState(m.opts.RunDir, func(s *spec.State) error {
		*s = spec.State{Status: spec.StatusRunning, Pid: pid, PidStart: start,
			MonitorPid: m.self.Pid, MonitorStart: m.self.Start, StartedAt: now,
			RestartCount: restarts, StopRequested: restarts > 0 && s.StopRequested, Cgroup: m.leaf.path()}
		return nil
	}); err != nil {
		log.Printf("record running state: %v", err)
	}
	if syncPipe != nil {
		writeSync(syncPipe, SyncMessage{Pid: pid, PidStart: start})
	}
	// After the report: the command that waits for it is not held up.
	m.event(events.Init, 0)
	m.event(events.Start, 0)
	if m.opts.Attach && restarts == 0 {
		// The command that started the container is attached to it.
		m.event(events.Attach, 0)
	}

	var drained sync.WaitGroup
	for _, s := range streams {
		drained.Add(1)
		go func() {
			defer drained.Done()
			m.copyOut(s.name, s.frame, s.r)
		}()
	}
	// --timeout: the init is this process's child, so its pid stays its
	// own until wait reaps it; the timer is stopped right after.
	var timeout *time.Timer
	if t := m.cfg.Host.Timeout; t > 0 {
		timeout = time.AfterFunc(time.Duration(t)*time.Second, func() {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil {
				log.Printf("--timeout: kill the container: %v", err)
			}
		})
	}
	shed := time.AfterFunc(shedAfter, func() {
		if err := shedStartup(); err != nil {
			log.Printf("%v", err)
		}
	})
	status, err := init.wait()
	m.mountNS, init.mountNS = init.mountNS, nil
	shed.Stop()
	if timeout != nil {
		timeout.Stop()
	}
	code = 125
	if err == nil {
		code = exitCode(status)
	} else {
		log.Printf("wait for container: %v", err)
	}
	m.oomKilled = m.leaf.ooms() > oomBase
	drained.Wait()
	// Before any client hears of the exit: a command that goes on after
	// run returns finds it in the journal.
	m.event(events.Died, code)
	init.stopNetwork()
	return code, "", true
}

// restart applies the restart policy to an exit: it records the exit, waits
// the back-off (100 ms doubling to 10 s, as docker does), and reports
// whether to run the container again. A stop asked for meanwhile ends it.
func (m *monitor) restart(code, restarts int) bool {
	p := m.cfg.Host.Restart
	var again bool
	switch p.Name {
	case spec.RestartAlways, spec.RestartUnlessStopped:
		again = true
	case spec.RestartOnFailure:
		again = code != 0 && (p.MaximumRetryCount == 0 || restarts < p.MaximumRetryCount)
	}
	if !again {
		return false
	}
	stopped := false
	if err := spec.UpdateState(m.opts.RunDir, func(s *spec.State) error {
		stopped = s.StopRequested
		s.Status, s.ExitCode, s.FinishedAt = spec.StatusRestarting, code, time.Now().UTC()
		return nil
	}); err != nil {
		log.Printf("record restart: %v", err)
	}
	delay := 100 * time.Millisecond << min(restarts, 7)
	for deadline := time.Now().Add(min(delay, 10*time.Second)); !stopped && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st, err := spec.ReadState(m.opts.RunDir); err == nil {
			stopped = st.StopRequested
		}
	}
	return !stopped
}

// finish gives every client the exit status, removes the container's
// cgroup, then records the exit. The status goes out first because the
// command of a foreground run is waiting for it; until the record is
// written, a container whose process is gone and whose monitor is not
// reads as still finishing (see container.State). The cgroup goes before
// the record, so that a container recorded as exited (which is what stop
// waits for) has no cgroup left.
func (m *monitor) finish(code int, errMsg string) int {
	if m.handOff(code, errMsg) {
		return code
	}
	if m.cfg != nil && m.cfg.Remove && len(m.goAhead.Cleanup) > 0 {
		markRemoval(m.opts.RunDir, m.self)
	}
	if m.sendExit(code) && m.goAhead.Remover != nil {
		m.statusTo = m.goAhead.Remover
	}
	// After the status: the unmounting is off the command's way.
	letGo(&m.mountNS)
	m.leaf.close()
	m.leaf = nil
	m.recordExit(code, errMsg)
	return code
}

// handOff hands the removal of a --rm container to the command named in
// Go.Remover, when it is still attached: the cgroup goes and the exit is
// recorded with that command as the owner before it hears of the exit,
// since it removes the container as soon as it does. It reports whether
// the command got the status; when it did not (it detached or died),
// the monitor owns the container again and the cleanup runs as usual.
//
// Only a failure (1 to 125) is handed off: the command measures the store
// before the container's layer goes, to tell a full disk
// (container.Runtime.ExitStatus). For any other status the command has
// nothing more to look at and returns at once, and this process's cleanup
// removes the container after it, marked as under way (markRemoval): the
// status is out a removal sooner.
func (m *monitor) handOff(code int, errMsg string) bool {
	r := m.goAhead.Remover
	if r == nil || m.first == nil || m.cfg == nil || !m.cfg.Remove {
		return false
	}
	if !spec.RemovalHandedOff(code) {
		return false
	}
	m.mu.Lock()
	attached := false
	for _, c := range m.clients {
		attached = attached || c == m.first
	}
	m.mu.Unlock()
	if !attached {
		return false
	}
	m.leaf.close()
	m.leaf = nil
	// Before the status: the command removes the container at once.
	letGo(&m.mountNS)
	m.record(code, errMsg, *r)
	if m.sendExit(code) {
		m.handedOff = true
		return true
	}
	if err := spec.UpdateState(m.opts.RunDir, func(s *spec.State) error {
		s.MonitorPid, s.MonitorStart = m.self.Pid, m.self.Start
		return nil
	}); err != nil {
		log.Printf("take the removal back: %v", err)
	}
	return false
}

// markRemoval marks the removal of the container as under way
// (spec.RemovalMark), naming this process, which becomes the cleanup that
// removes the mark last, before the container's status goes out: the
// commands after a run --rm wait for it. Without the mark they would see
// the container for a moment; the removal itself goes on regardless.
func markRemoval(runDir string, self spec.ProcessRef) {
	if err := spec.MarkRemoval(runDir, self); err != nil {
		log.Print(err)
	}
}

// failed reports a container that could not start: recorded before the
// command that started it hears of it and goes.
func (m *monitor) failed(syncPipe *os.File, code int, err error) int {
	m.recordExit(code, err.Error())
	writeSync(syncPipe, SyncMessage{Error: err.Error(), Code: code})
	m.sendExit(code)
	return code
}

// sendExit gives every client the exit status and closes it; it reports
// whether the client on fd 4 got it.
func (m *monitor) sendExit(code int) (firstGotIt bool) {
	if m.listener != nil {
		if err := m.listener.Close(); err != nil {
			log.Printf("close attach socket: %v", err)
		}
		m.listener = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.clients {
		err := attach.WriteFrame(c, attach.Exit, attach.ExitPayload(code))
		if err != nil {
			log.Printf("send exit status: %v", err)
		} else if c == m.first {
			firstGotIt = true
		}
		c.Close()
	}
	m.clients = nil
	return firstGotIt
}

// recordExit records the exit with this process as the container's owner
// until it ends: it becomes the cleanup.
func (m *monitor) recordExit(code int, errMsg string) {
	m.record(code, errMsg, m.self)
}

// record records the exit, and owner as the process that owns the
// container from then on (in MonitorPid): the one that cleans it up.
func (m *monitor) record(code int, errMsg string, owner spec.ProcessRef) {
	status := spec.StatusExited
	if m.cfg != nil && m.cfg.Remove {
		status = spec.StatusRemoving
	}
	if err := spec.UpdateState(m.opts.RunDir, func(s *spec.State) error {
		s.Status, s.ExitCode, s.Error = status, code, errMsg
		s.FinishedAt, s.OOMKilled = time.Now().UTC(), m.oomKilled
		s.MonitorPid, s.MonitorStart = owner.Pid, owner.Start
		return nil
	}); err != nil {
		log.Printf("record exit: %v", err)
	}
}

// event records what happened to the container in the events journal.
// A journal that cannot be written is logged: the container goes on.
func (m *monitor) event(s events.Status, code int) {
	e := events.Event{Type: events.Container, Status: s, ID: m.cfg.ID, Name: m.cfg.Name,
		Image: m.cfg.Image, Attributes: m.cfg.Labels, ContainerExitCode: code}
	if err := (events.Journal{Path: m.opts.Events}).Write(e); err != nil {
		log.Printf("record event: %v", err)
	}
}

func writeSync(f *os.File, msg SyncMessage) {
	data, _ := json.Marshal(msg)
	if _, err := f.Write(append(data, '\n')); err != nil {
		log.Printf("report to caller: %v", err)
	}
	f.Close()
}

// exitCode is the status docker reports: the code, or 128+signal.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// startTime is a process's start time, or 0 if it is gone.
func startTime(pid int) uint64 {
	t, err := proc.StartTime(pid)
	if err != nil {
		return 0
	}
	return t
}
