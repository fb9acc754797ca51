package api

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"sandbox/attach"
)

// liveContainer is a container's monitor stream (the attach socket) that
// this server holds: it relays the output to the attach sessions of the
// moment and learns the exit status, which wait then gives. The server
// starts containers with it connected, so no output and no exit is missed
// between a start and an attach or a wait.
type liveContainer struct {
	id      string
	conn    *os.File
	started time.Time

	wmu sync.Mutex // serialises frames written to conn

	mu       sync.Mutex // guards sessions
	sessions []*session

	// done is closed when the container has exited (code is its status)
	// or the monitor went away (code -1).
	done chan struct{}
	code int
}

func newLive(id string, conn *os.File) *liveContainer {
	return &liveContainer{id: id, conn: conn, started: time.Now(), done: make(chan struct{}), code: -1}
}

func (l *liveContainer) exited() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// send writes one frame to the monitor.
func (l *liveContainer) send(typ byte, p []byte) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return attach.WriteFrame(l.conn, typ, p)
}

// add attaches a session: it gets the output from now on.
func (l *liveContainer) add(s *session) {
	l.mu.Lock()
	if l.exited() {
		l.mu.Unlock()
		s.end(l.code)
		return
	}
	l.sessions = append(l.sessions, s)
	l.mu.Unlock()
	s.bind(l)
}

// drop detaches a session.
func (l *liveContainer) drop(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, x := range l.sessions {
		if x == s {
			l.sessions = append(l.sessions[:i], l.sessions[i+1:]...)
			return
		}
	}
}

// relay reads the monitor's frames until the exit status or the end of
// the stream, then ends every session with the status.
func (l *liveContainer) relay() {
	defer l.conn.Close()
	var buf []byte
	code := -1
	for {
		typ, payload, err := attach.ReadFrame(l.conn, buf)
		if err != nil {
			break
		}
		buf = payload[:0]
		if typ == attach.Exit {
			if c, err := attach.ParseExit(payload); err == nil {
				code = c
			}
			break
		}
		if typ != attach.Stdout && typ != attach.Stderr {
			continue
		}
		l.mu.Lock()
		sessions := append([]*session(nil), l.sessions...)
		l.mu.Unlock()
		for _, s := range sessions {
			if err := s.write(typ, payload); err != nil {
				l.drop(s)
				s.end(-1)
			}
		}
	}
	l.mu.Lock()
	l.code = code
	close(l.done)
	sessions := l.sessions
	l.sessions = nil
	l.mu.Unlock()
	for _, s := range sessions {
		s.end(code)
	}
}

// session is one attach request: the streams it asked for.
type session struct {
	stdout, stderr io.Writer // nil when not asked for
	// stdin is what the client sends, forwarded when asked for; read in
	// any case, to notice a client that goes away.
	stdin     io.Reader
	wantStdin bool

	bound chan struct{} // closed once live is set
	live  *liveContainer

	once sync.Once
	done chan struct{} // closed when the session ends
	code int
}

func newSession(stdout, stderr io.Writer, stdin io.Reader, wantStdin bool) *session {
	return &session{stdout: stdout, stderr: stderr, stdin: stdin, wantStdin: wantStdin, bound: make(chan struct{}), done: make(chan struct{})}
}

func (s *session) bind(l *liveContainer) {
	s.live = l
	close(s.bound)
}

func (s *session) end(code int) {
	s.once.Do(func() {
		s.code = code
		close(s.done)
	})
}

func (s *session) write(typ byte, p []byte) error {
	w := s.stdout
	if typ == attach.Stderr {
		w = s.stderr
	}
	if w == nil {
		return nil
	}
	_, err := w.Write(p)
	return err
}

// input reads what the client sends until it ends: forwarded to the
// container when stdin was asked for (once the session is bound to a
// running container); the end of it closes the container's stdin. A
// connection that fails ends the session.
func (s *session) input() {
	buf := make([]byte, 32<<10)
	for {
		n, err := s.stdin.Read(buf)
		if n > 0 && s.wantStdin {
			select {
			case <-s.bound:
			case <-s.done:
				return
			}
			if werr := s.live.send(attach.Stdin, buf[:n]); werr != nil {
				return
			}
		}
		if err == nil {
			continue
		}
		if s.wantStdin {
			select {
			case <-s.bound:
				s.live.send(attach.StdinClose, nil) // the monitor may be gone: nothing more to close
			case <-s.done:
			}
		}
		if !errors.Is(err, io.EOF) {
			s.end(-1)
		}
		return
	}
}
