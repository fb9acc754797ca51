package monitor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"sandbox/attach"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// listener is the attach socket: nonblocking, so that waiting for a
// client takes no thread of its own and Close ends the wait.
type listener struct {
	f    *os.File
	path string
}

// Close stops accepting and removes the socket.
func (l *listener) Close() error {
	l.f.Close()
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// listen serves the attach socket, RunDir/attach: a client that connects
// gets the container's output from then on and may send input and terminal
// sizes. The socket is bound through /proc/self/fd so that a long run
// directory path does not hit the 108-byte limit of socket addresses.
func (m *monitor) listen() (*listener, error) {
	dir, err := unix.Open(m.opts.RunDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("attach socket: open run directory: %w", err)
	}
	defer unix.Close(dir)
	real := filepath.Join(m.opts.RunDir, spec.AttachFile)
	if err := os.Remove(real); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	addr := &unix.SockaddrUnix{Name: fmt.Sprintf("/proc/self/fd/%d/%s", dir, spec.AttachFile)}
	if err := unix.Bind(fd, addr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attach socket: bind %s: %w", real, err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attach socket: listen: %w", err)
	}
	l := &listener{f: os.NewFile(uintptr(fd), "attach"), path: real}
	rc, err := l.f.SyscallConn()
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	go m.accept(rc)
	return l, nil
}

// accept takes clients until the listener is closed. The clients'
// sockets are nonblocking too: a client waiting for input holds no thread.
func (m *monitor) accept(rc syscall.RawConn) {
	for {
		var nfd int
		var aerr error
		if err := rc.Read(func(fd uintptr) bool {
			nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			return aerr != unix.EAGAIN
		}); err != nil {
			return // closed
		}
		if aerr == unix.EINTR || aerr == unix.ECONNABORTED {
			continue
		}
		if aerr == unix.EMFILE || aerr == unix.ENFILE {
			time.Sleep(10 * time.Millisecond) // until a descriptor is free
			continue
		}
		if aerr != nil {
			log.Printf("attach socket: accept: %v", aerr)
			return
		}
		c := os.NewFile(uintptr(nfd), "attach-client")
		m.mu.Lock()
		m.clients = append(m.clients, c)
		m.mu.Unlock()
		go m.readClient(c)
	}
}

// Output is read into a buffer of minCopyBuf that doubles, up to
// maxCopyBuf, each time a read fills it: most containers write little,
// and a buffer of 32 KiB made at the start cost the monitor 16 page
// faults per start on the way from the container's exit to its status
// (the goroutines first run once the container has exited), and the idle
// monitor their memory.
const (
	minCopyBuf = 4 << 10
	maxCopyBuf = 32 << 10
)

// copyOut copies one output stream of the container to the log and the
// clients until it ends (EOF, or EIO from a terminal whose other end closed).
func (m *monitor) copyOut(name string, frame byte, r *os.File) {
	defer r.Close()
	buf := make([]byte, minCopyBuf)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if lerr := m.log.Write(name, buf[:n]); lerr != nil {
				log.Printf("write log: %v", lerr)
			}
			m.broadcast(frame, buf[:n])
			if n == len(buf) && len(buf) < maxCopyBuf {
				buf = make([]byte, 2*len(buf))
			}
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
func (m *monitor) readClient(c io.ReadWriteCloser) {
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
			if m.stdin != nil && m.cfg != nil && !m.cfg.Spec.Process.Terminal {
				m.stdin.Close()
				m.stdin = nil
			}
			m.mu.Unlock()
		case attach.Resize:
			rows, cols, err := attach.ParseResize(payload)
			if err == nil && in != nil && m.cfg != nil && m.cfg.Spec.Process.Terminal {
				if err := unix.IoctlSetWinsize(int(in.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
					log.Printf("resize terminal: %v", err)
				}
			}
		}
	}
}
