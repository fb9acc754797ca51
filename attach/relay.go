package attach

// The relay between the user's terminal or streams and a container, as
// attach, run -it (through the monitor's frames) and exec -it (through a
// terminal's master end) share it: raw mode, input with the detach keys,
// signals forwarded, size changes followed.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// RawTerminal puts in into raw mode when it is a terminal; restore puts it
// back (and does nothing when in is not a terminal).
func RawTerminal(in *os.File) (restore func(), err error) {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return func() {}, nil
	}
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("terminal raw mode: %w", err)
	}
	return func() { term.Restore(fd, old) }, nil
}

// CopyInput copies in to write until the end of input (it returns false
// then, with the read error other than io.EOF) or until keys are typed (it
// returns true; keys is empty for none). What precedes the keys is
// written; the keys themselves are not.
func CopyInput(in io.Reader, keys []byte, write func([]byte) error) (detached bool, err error) {
	d := DetachScanner{Keys: keys}
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			out, detach := d.Scan(buf[:n])
			if len(out) > 0 {
				if werr := write(out); werr != nil {
					return false, werr
				}
			}
			if detach {
				return true, nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, err
		}
	}
}

// forwarded are the signals a relaying command passes on (docker's
// sig-proxy).
var forwarded = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// ForwardedSignals are the signals ForwardSignals passes on, and with
// resize the terminal's size changes.
func ForwardedSignals(resize bool) []os.Signal {
	sigs := append([]os.Signal(nil), forwarded...)
	if resize {
		sigs = append(sigs, unix.SIGWINCH)
	}
	return sigs
}

// ForwardSignals passes the signals this command receives to forward,
// and calls resize when the terminal's size changes, until stop is
// called; either may be nil.
func ForwardSignals(forward func(unix.Signal) error, resize func()) (stop func()) {
	ch := make(chan os.Signal, 16)
	var sigs []os.Signal
	if forward != nil {
		sigs = append(sigs, forwarded...)
	}
	if resize != nil {
		sigs = append(sigs, unix.SIGWINCH)
	}
	signal.Notify(ch, sigs...)
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
				if err := forward(sig); err != nil {
					fmt.Fprintf(os.Stderr, "forward %v: %v\n", sig, err)
				}
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// ReceivedFds are the descriptors of a message's control data (SCM_RIGHTS,
// among credentials or other messages), made close-on-exec.
func ReceivedFds(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("bad control message: %w", err)
	}
	var out []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return nil, fmt.Errorf("descriptors in a control message: %w", err)
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
		}
		out = append(out, fds...)
	}
	return out, nil
}

// Pollable wraps a socket in an *os.File that Go's poller serves, so that
// closing it wakes a goroutine blocked reading it.
func Pollable(fd int, name string) *os.File {
	unix.SetNonblock(fd, true)
	return os.NewFile(uintptr(fd), name)
}
