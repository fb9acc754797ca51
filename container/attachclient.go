package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"sandbox/attach"
	"sandbox/events"
	"sandbox/internal/proc"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// dialAttach connects to a container's attach socket, through
// /proc/self/fd so that a long run directory path fits a socket address.
func dialAttach(runDir string) (*os.File, error) {
	dir, err := unix.Open(runDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	defer unix.Close(dir)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: fmt.Sprintf("/proc/self/fd/%d/%s", dir, spec.AttachFile)}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attach: connect: %w", err)
	}
	return attach.Pollable(fd, "attach"), nil
}

// waitExitFrame reads an attach stream until the exit status.
func waitExitFrame(conn *os.File) (int, error) {
	defer conn.Close()
	var buf []byte
	for {
		typ, payload, err := attach.ReadFrame(conn, buf)
		if err != nil {
			return 0, err
		}
		if typ == attach.Exit {
			return attach.ParseExit(payload)
		}
		buf = payload[:0]
	}
}

// Stdio is the terminal or streams of the attaching command.
type Stdio struct {
	In       *os.File
	Out, Err io.Writer
}

// AttachOptions say how to attach.
type AttachOptions struct {
	// Stdin forwards standard input (-i); TTY puts a terminal on In in raw
	// mode and follows its size.
	Stdin bool
	TTY   bool
	// Pid and PidStart name the container's first process, to which
	// signals sent to this command are forwarded.
	Pid      int
	PidStart uint64
	// DetachKeys, typed on standard input, detach and leave the container
	// running (see attach.ParseDetachKeys); empty means none.
	DetachKeys []byte
}

// ErrDetached is an attach that ended by the detach keys.
var ErrDetached = errors.New("detached")

// AttachTo connects to a running container's monitor.
func (r *Runtime) AttachTo(ref string) (*Container, *spec.State, *os.File, error) {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return nil, nil, nil, err
	}
	if !running(st) {
		return nil, nil, nil, fmt.Errorf("%w: %s: you cannot attach to a stopped container, start it first", ErrNotRunning, ref)
	}
	conn, err := dialAttach(c.RunDir)
	if err != nil {
		return nil, nil, nil, err
	}
	r.record(c, events.Attach)
	return c, st, conn, nil
}

// Attach streams a container's output to st and st.In to the container
// until the container exits, and returns its exit status. Signals that the
// command receives are forwarded to the container's first process.
func Attach(conn *os.File, st Stdio, o AttachOptions) (int, error) {
	defer conn.Close()
	if o.TTY {
		restore, err := attach.RawTerminal(st.In)
		if err != nil {
			return 125, err
		}
		defer restore()
	}
	var wmu sync.Mutex // serialises frames written to conn
	send := func(typ byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return attach.WriteFrame(conn, typ, p)
	}
	stopSignals := forwardSignals(o, send, st.In)
	defer stopSignals()
	var detached atomic.Bool
	if o.Stdin {
		go func() {
			d, err := attach.CopyInput(st.In, o.DetachKeys, func(b []byte) error { return send(attach.Stdin, b) })
			if d {
				detached.Store(true)
				// Shutdown, not close: it wakes the read below and tells
				// the monitor at once.
				unix.Shutdown(int(conn.Fd()), unix.SHUT_RDWR)
				return
			}
			// End of input, or input that cannot be read: the container's
			// standard input ends too. (A write that failed means the
			// monitor is gone, which the read below reports.)
			if err != nil && !errors.Is(err, unix.EPIPE) {
				fmt.Fprintf(os.Stderr, "attach: input: %v\n", err)
			}
			send(attach.StdinClose, nil)
		}()
	}
	var buf []byte
	for {
		typ, payload, err := attach.ReadFrame(conn, buf)
		if err != nil {
			if detached.Load() {
				return 0, ErrDetached
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 125, errors.New("the container's monitor went away before the container exited: see sandbox ps -a")
			}
			return 125, fmt.Errorf("read from monitor: %w", err)
		}
		buf = payload[:0]
		switch typ {
		case attach.Stdout:
			if _, err := st.Out.Write(payload); err != nil {
				return 125, fmt.Errorf("write output: %w", err)
			}
		case attach.Stderr:
			if _, err := st.Err.Write(payload); err != nil {
				return 125, fmt.Errorf("write output: %w", err)
			}
		case attach.Exit:
			return attach.ParseExit(payload)
		}
	}
}

// forwardSignals passes the signals this command receives on to the
// container (docker's sig-proxy) and terminal size changes to the monitor.
func forwardSignals(o AttachOptions, send func(byte, []byte) error, in *os.File) func() {
	pidfd := -1
	if o.Pid > 0 {
		if fd, err := unix.PidfdOpen(o.Pid, 0); err == nil {
			// The descriptor is the container's only if the start time says so.
			t, err := proc.StartTime(o.Pid)
			switch {
			case err == nil && t == o.PidStart:
				pidfd = fd
			case err == nil:
				unix.Close(fd)
				fmt.Fprintf(os.Stderr, "WARN: container pid %d is not the process that started (start time %d, want %d): signals will not be forwarded\n", o.Pid, t, o.PidStart)
			default:
				unix.Close(fd) // the container is gone already: nothing to forward to
			}
		}
	}
	forward := func(sig unix.Signal) error {
		if pidfd < 0 {
			return nil
		}
		// ESRCH: the container is gone, its exit status is on its way.
		if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("to the container: %w", err)
		}
		return nil
	}
	var resize func()
	if o.TTY {
		resize = func() {
			if ws, err := unix.IoctlGetWinsize(int(in.Fd()), unix.TIOCGWINSZ); err == nil {
				send(attach.Resize, attach.ResizePayload(ws.Row, ws.Col))
			}
		}
	}
	stop := attach.ForwardSignals(forward, resize)
	return func() {
		stop()
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}
}
