// Package monitor is the monitor role: one small process per container that
// stays beside it for its whole life, in a session of its own so that it
// outlives the command that started it. It starts the init (package
// nsinit) in the container's new namespaces, holds the container's standard
// streams (pipes, or the master end of its terminal), writes them to the
// log and to attached clients, records the exit status, and finally
// replaces itself with the cleanup command (unmount, and removal for --rm).
//
// Protocol with the command that starts it:
//
//	fd 3  sync pipe: one JSON line, SyncMessage, once the container's
//	      command runs or could not be started; then closed
//	fd 4  optional: a stream socket to an attached client (package attach)
//
// It imports neither storage nor anything heavy: it is on the hot path of
// every start, and its idle memory is the per-container overhead.
package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"sandbox/container/attach"
	"sandbox/container/nsinit"
	"sandbox/container/spec"
	"sandbox/internal/proc"

	"golang.org/x/sys/unix"
)

// OptionsFile is the name of the monitor's options in the run directory.
const OptionsFile = "monitor.json"

// ReadOptions reads runDir/monitor.json.
func ReadOptions(runDir string) (Options, error) {
	var o Options
	data, err := os.ReadFile(filepath.Join(runDir, OptionsFile))
	if err != nil {
		return o, fmt.Errorf("monitor options: %w", err)
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return o, fmt.Errorf("monitor options %s: %w", runDir, err)
	}
	return o, nil
}

// Options are written by the sandbox command to RUN-DIR/monitor.json.
type Options struct {
	ConfigPath string `json:"config"`
	RunDir     string `json:"runDir"`
	LogPath    string `json:"log"`
	// Cleanup is the command the monitor becomes once the container has
	// exited and every client has its status.
	Cleanup []string `json:"cleanup"`
	// Attach: fd 4 is an attached client.
	Attach bool `json:"attach,omitempty"`
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
)

type monitor struct {
	opts Options
	cfg  *spec.Config
	log  *LogWriter

	mu      sync.Mutex
	clients []*os.File // attached clients, guarded by mu
	stdin   *os.File   // the container's standard input (pipe or terminal), guarded by mu
}

// Run is the monitor role; it returns only when it cannot exec cleanup.
func Run(opts Options) int {
	log.SetFlags(0)
	log.SetPrefix("sandbox-monitor: ")
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE, syscall.SIGTTOU, syscall.SIGTTIN)
	sync := os.NewFile(syncFd, "sync")
	m := &monitor{opts: opts}
	if opts.Attach {
		m.clients = append(m.clients, os.NewFile(attachFd, "attach"))
	}
	code := m.run(sync)
	if len(opts.Cleanup) == 0 {
		return code
	}
	err := unix.Exec(opts.Cleanup[0], opts.Cleanup, os.Environ())
	log.Printf("run cleanup %v: %v", opts.Cleanup, err)
	return 125
}

func (m *monitor) run(syncPipe *os.File) int {
	cfg, err := spec.ReadConfig(m.opts.ConfigPath)
	if err != nil {
		return m.failed(syncPipe, 125, err)
	}
	m.cfg = cfg
	log.SetPrefix("sandbox-monitor " + cfg.ID[:12] + ": ")
	logFile, err := os.OpenFile(m.opts.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return m.failed(syncPipe, 125, fmt.Errorf("open log: %w", err))
	}
	defer logFile.Close()
	m.log = NewLogWriter(logFile)

	proc, streams, err := m.startInit()
	if err != nil {
		var se *startError
		if errors.As(err, &se) {
			return m.failed(syncPipe, se.code, se.err)
		}
		return m.failed(syncPipe, 125, err)
	}
	pid := proc.Pid
	start := startTime(pid)
	now := time.Now().UTC()
	if err := spec.UpdateState(m.opts.RunDir, func(s *spec.State) error {
		*s = spec.State{Status: spec.StatusRunning, Pid: pid, PidStart: start,
			MonitorPid: os.Getpid(), MonitorStart: startTime(os.Getpid()), StartedAt: now}
		return nil
	}); err != nil {
		log.Printf("record running state: %v", err)
	}
	writeSync(syncPipe, SyncMessage{Pid: pid, PidStart: start})

	var drained sync.WaitGroup
	for _, s := range streams {
		drained.Add(1)
		go func() {
			defer drained.Done()
			m.copyOut(s.name, s.frame, s.r)
		}()
	}
	m.mu.Lock()
	clients := append([]*os.File(nil), m.clients...)
	m.mu.Unlock()
	for _, c := range clients {
		go m.readClient(c)
	}

	status, err := proc.Wait()
	code := 125
	if err == nil {
		code = exitCode(status.Sys().(syscall.WaitStatus))
	} else {
		log.Printf("wait for container: %v", err)
	}
	drained.Wait()
	m.finish(code, "")
	return code
}

type stream struct {
	name  string
	frame byte
	r     *os.File
}

// startError is a container that could not start, with its exit status.
type startError struct {
	code int
	err  error
}

func (e *startError) Error() string { return e.err.Error() }

// startInit starts the init in the container's namespaces and waits until
// the container's command runs.
func (m *monitor) startInit() (*os.Process, []stream, error) {
	p := &m.cfg.Spec.Process
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("init socket: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "init-sync"), os.NewFile(uintptr(pair[1]), "init-sync")
	defer ours.Close()
	defer theirs.Close()

	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer null.Close()
	files := []*os.File{null, null, null, theirs}
	var streams []stream
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	if !p.Terminal {
		outR, outW, err := os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		files[1], files[2] = outW, errW
		childEnds = append(childEnds, outW, errW)
		streams = []stream{{"stdout", attach.Stdout, outR}, {"stderr", attach.Stderr, errR}}
		if p.Stdin {
			inR, inW, err := os.Pipe()
			if err != nil {
				return nil, nil, err
			}
			files[0] = inR
			childEnds = append(childEnds, inR)
			m.stdin = inW
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	proc, err := os.StartProcess(self, []string{"sandbox-init", "init", m.opts.ConfigPath}, &os.ProcAttr{
		Dir:   "/",
		Env:   []string{},
		Files: files,
		Sys:   initAttr(&m.cfg.Spec),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start init: %w", err)
	}
	theirs.Close()
	for _, f := range childEnds {
		f.Close()
	}
	childEnds = nil

	// Read the init's messages until its socket closes on execve.
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(ours.Fd()), buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			proc.Kill()
			proc.Wait()
			return nil, nil, fmt.Errorf("read from init: %w", err)
		}
		if n == 0 {
			break
		}
		var msg nsinit.Message
		if err := json.Unmarshal(buf[:n], &msg); err != nil {
			proc.Kill()
			proc.Wait()
			return nil, nil, fmt.Errorf("message from init: %w", err)
		}
		if msg.Error != "" {
			proc.Wait()
			return nil, nil, &startError{code: msg.Code, err: errors.New(msg.Error)}
		}
		if msg.Pty {
			fd, err := receivedFd(oob[:oobn])
			if err != nil {
				proc.Kill()
				proc.Wait()
				return nil, nil, err
			}
			master := os.NewFile(uintptr(fd), "pty")
			m.stdin = master
			streams = []stream{{"stdout", attach.Stdout, master}}
		}
	}
	return proc, streams, nil
}

func initAttr(s *spec.Spec) *syscall.SysProcAttr {
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP)
	if s.Network != spec.NetworkHost {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.SysProcAttr{Cloneflags: flags}
	if s.UserNS != nil {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.GidMappingsEnableSetgroups = true
		// The clone keeps this process's ids, which the new maps show as
		// the user's; become 0 there so that the init keeps its
		// capabilities across execve.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		for _, e := range s.UserNS.UIDMap {
			attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
		}
		for _, e := range s.UserNS.GIDMap {
			attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
		}
	}
	return attr
}

func receivedFd(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("terminal from init: bad control message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("terminal from init: %v", err)
	}
	unix.CloseOnExec(fds[0])
	return fds[0], nil
}

// copyOut copies one output stream of the container to the log and the
// clients until it ends (EOF, or EIO from a terminal whose other end closed).
func (m *monitor) copyOut(name string, frame byte, r *os.File) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if lerr := m.log.Write(name, buf[:n]); lerr != nil {
				log.Printf("write log: %v", lerr)
			}
			m.broadcast(frame, buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (m *monitor) broadcast(frame byte, p []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.clients[:0]
	for _, c := range m.clients {
		if err := attach.WriteFrame(c, frame, p); err != nil {
			c.Close()
			continue
		}
		kept = append(kept, c)
	}
	m.clients = kept
}

// readClient forwards a client's input and terminal size to the container.
func (m *monitor) readClient(c *os.File) {
	var buf []byte
	for {
		typ, payload, err := attach.ReadFrame(c, buf)
		if err != nil {
			return
		}
		buf = payload[:0]
		m.mu.Lock()
		in := m.stdin
		m.mu.Unlock()
		switch typ {
		case attach.Stdin:
			if in != nil {
				if _, err := in.Write(payload); err != nil {
					log.Printf("write to container: %v", err)
				}
			}
		case attach.StdinClose:
			m.mu.Lock()
			if m.stdin != nil && !m.cfg.Spec.Process.Terminal {
				m.stdin.Close()
				m.stdin = nil
			}
			m.mu.Unlock()
		case attach.Resize:
			rows, cols, err := attach.ParseResize(payload)
			if err == nil && in != nil && m.cfg.Spec.Process.Terminal {
				if err := unix.IoctlSetWinsize(int(in.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
					log.Printf("resize terminal: %v", err)
				}
			}
		}
	}
}

// finish records the exit and gives every client its status.
func (m *monitor) finish(code int, errMsg string) {
	status := spec.StatusExited
	if m.cfg != nil && m.cfg.Remove {
		status = spec.StatusRemoving
	}
	if err := spec.UpdateState(m.opts.RunDir, func(s *spec.State) error {
		s.Status, s.ExitCode, s.Error = status, code, errMsg
		s.FinishedAt = time.Now().UTC()
		// This process becomes the cleanup: it owns the container until then.
		s.MonitorPid, s.MonitorStart = os.Getpid(), startTime(os.Getpid())
		return nil
	}); err != nil {
		log.Printf("record exit: %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.clients {
		if err := attach.WriteFrame(c, attach.Exit, attach.ExitPayload(code)); err != nil {
			log.Printf("send exit status: %v", err)
		}
		c.Close()
	}
	m.clients = nil
}

// failed reports a container that could not start.
func (m *monitor) failed(syncPipe *os.File, code int, err error) int {
	m.finish(code, err.Error())
	writeSync(syncPipe, SyncMessage{Error: err.Error(), Code: code})
	return code
}

func writeSync(f *os.File, msg SyncMessage) {
	data, _ := json.Marshal(msg)
	if _, err := f.Write(append(data, '\n')); err != nil {
		log.Printf("report to caller: %v", err)
	}
	f.Close()
}

// exitCode is the status docker reports: the code, or 128+signal.
func exitCode(ws syscall.WaitStatus) int {
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
