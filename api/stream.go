package api

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/moby/moby/api/pkg/stdcopy"
)

// Docker's stream framing for a container without a terminal: every
// write is one frame of an 8-byte header (the stream, three zero bytes,
// the big-endian length) and the bytes (pkg/stdcopy reads it).
type framedWriter struct {
	mu     *sync.Mutex // shared by the streams of one connection
	w      io.Writer
	stream stdcopy.StdType
}

func (f *framedWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var hdr [8]byte
	hdr[0] = byte(f.stream)
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(hdr[:]); err != nil {
		return 0, err
	}
	n, err := f.w.Write(p)
	if fl, ok := f.w.(interface{ Flush() error }); ok && err == nil {
		err = fl.Flush()
	} else if fl, ok := f.w.(http.Flusher); ok && err == nil {
		fl.Flush()
	}
	return n, err
}

// lockedWriter serialises writes and flushes each: the raw stream of a
// container with a terminal.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if fl, ok := l.w.(interface{ Flush() error }); ok && err == nil {
		err = fl.Flush()
	} else if fl, ok := l.w.(http.Flusher); ok && err == nil {
		fl.Flush()
	}
	return n, err
}

// outputs are stdout and stderr over one writer: framed without a
// terminal, raw with one.
func outputs(w io.Writer, tty bool) (stdout, stderr io.Writer) {
	mu := &sync.Mutex{}
	if tty {
		lw := &lockedWriter{mu: mu, w: w}
		return lw, lw
	}
	return &framedWriter{mu: mu, w: w, stream: stdcopy.Stdout}, &framedWriter{mu: mu, w: w, stream: stdcopy.Stderr}
}

// hijacked is a connection taken over from the HTTP server for a stream
// both ways (attach, exec start).
type hijacked struct {
	conn net.Conn
	// in reads what the client sends, starting with what the server had
	// buffered; out writes to the client.
	in  io.Reader
	out *bufio.Writer
}

// hijack answers the request with docker's stream headers (101 when the
// client asked for the upgrade to tcp, else 200) and takes the connection.
func hijack(w http.ResponseWriter, r *http.Request, tty bool) (*hijacked, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, fmt.Errorf("the connection cannot be taken over for a stream")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, fmt.Errorf("take over the connection: %w", err)
	}
	ctype := "application/vnd.docker.multiplexed-stream"
	if tty {
		ctype = "application/vnd.docker.raw-stream"
	}
	if r.Header.Get("Upgrade") != "" {
		fmt.Fprintf(rw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ctype)
	} else {
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ctype)
	}
	if err := rw.Flush(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("answer the stream request: %w", err)
	}
	return &hijacked{conn: conn, in: rw.Reader, out: rw.Writer}, nil
}

// closeWrite ends what is sent to the client, then the connection.
func (h *hijacked) close() {
	h.out.Flush()
	if cw, ok := h.conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	h.conn.Close()
}
