package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"

	"sandbox/container/attach"
	"sandbox/internal/proc"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

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
}

// Attach streams a container's output to st and st.In to the container
// until the container exits, and returns its exit status. Signals that the
// command receives are forwarded to the container's first process.
func Attach(conn *os.File, st Stdio, o AttachOptions) (int, error) {
	defer conn.Close()
	if o.TTY && term.IsTerminal(int(st.In.Fd())) {
		old, err := term.MakeRaw(int(st.In.Fd()))
		if err != nil {
			return 125, fmt.Errorf("terminal raw mode: %w", err)
		}
		defer term.Restore(int(st.In.Fd()), old)
	}
	var wmu sync.Mutex // serialises frames written to conn
	send := func(typ byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return attach.WriteFrame(conn, typ, p)
	}
	stopSignals := forwardSignals(o, send, st.In)
	defer stopSignals()
	if o.Stdin {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := st.In.Read(buf)
				if n > 0 {
					if send(attach.Stdin, buf[:n]) != nil {
						return
					}
				}
				if err != nil {
					send(attach.StdinClose, nil)
					return
				}
			}
		}()
	}
	var buf []byte
	for {
		typ, payload, err := attach.ReadFrame(conn, buf)
		if err != nil {
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
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	pidfd := -1
	if o.Pid > 0 {
		if fd, err := unix.PidfdOpen(o.Pid, 0); err == nil {
			// The descriptor is the container's only if the start time says so.
			if t, err := proc.StartTime(o.Pid); err == nil && t == o.PidStart {
				pidfd = fd
			} else {
				unix.Close(fd)
				fmt.Fprintf(os.Stderr, "WARN: container pid %d is not the process that started (start time %d, want %d): signals will not be forwarded\n", o.Pid, t, o.PidStart)
			}
		}
	}
	resize := func() {
		if !o.TTY {
			return
		}
		ws, err := unix.IoctlGetWinsize(int(in.Fd()), unix.TIOCGWINSZ)
		if err == nil {
			send(attach.Resize, attach.ResizePayload(ws.Row, ws.Col))
		}
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig := s.(unix.Signal)
				if sig == unix.SIGWINCH {
					resize()
					continue
				}
				if pidfd < 0 {
					continue
				}
				// ESRCH: the container is gone, its exit status is on its way.
				if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
					fmt.Fprintf(os.Stderr, "forward %v to the container: %v\n", sig, err)
				}
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}
}
