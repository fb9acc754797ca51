package network

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpPair listens on 127.0.0.1, connects to it, and returns the accepted
// end as a sock and the connecting end.
func tcpPair(t *testing.T) (*sock, net.Conn) {
	t.Helper()
	l, err := listen(unix.SOCK_STREAM, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(boundPort(t, l)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fd, err := l.accept()
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSock(fd, "accepted")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func boundPort(t *testing.T, s *sock) int {
	t.Helper()
	var port int
	s.rc.Control(func(fd uintptr) {
		switch a, _ := unix.Getsockname(int(fd)); a := a.(type) {
		case *unix.SockaddrInet4:
			port = a.Port
		case *unix.SockaddrInet6:
			port = a.Port
		}
	})
	if port == 0 {
		t.Fatal("no bound port")
	}
	return port
}

// TestSpliceCopy: every byte arrives in order, and the end of the source
// becomes the end of the destination's stream (a half close, the other
// direction still open).
func TestSpliceCopy(t *testing.T) {
	src, writer := tcpPair(t)
	dst, reader := tcpPair(t)
	data := make([]byte, 8<<20+123)
	rand.Read(data)
	copied := make(chan error, 1)
	go func() {
		err := spliceCopy(dst, src)
		dst.shutdownWrite()
		copied <- err
	}()
	go func() {
		writer.Write(data)
		writer.(*net.TCPConn).CloseWrite()
	}()
	reader.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(reader)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d sent, in order", len(got), len(data))
	}
	if err := <-copied; err != nil {
		t.Fatalf("spliceCopy: %v", err)
	}
	// The reverse direction is still open.
	if _, err := reader.Write([]byte("back")); err != nil {
		t.Fatalf("write back: %v", err)
	}
	buf := make([]byte, 4)
	dst.f.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(dst.f, buf); err != nil || string(buf) != "back" {
		t.Fatalf("read back %q: %v", buf, err)
	}
}

func TestListen(t *testing.T) {
	for _, tc := range []struct {
		ip    string
		typ   int
		dials []string // addresses that reach it
	}{
		{"127.0.0.1", unix.SOCK_STREAM, []string{"127.0.0.1"}},
		{"", unix.SOCK_STREAM, []string{"127.0.0.1"}},
		{"127.0.0.1", unix.SOCK_DGRAM, []string{"127.0.0.1"}},
	} {
		s, err := listen(tc.typ, tc.ip, 0)
		if err != nil {
			t.Fatalf("listen %q: %v", tc.ip, err)
		}
		port := strconv.Itoa(boundPort(t, s))
		for _, a := range tc.dials {
			if tc.typ == unix.SOCK_STREAM {
				c, err := net.Dial("tcp", net.JoinHostPort(a, port))
				if err != nil {
					t.Errorf("listen %q: dial %s: %v", tc.ip, a, err)
					continue
				}
				c.Close()
				continue
			}
			c, err := net.Dial("udp", net.JoinHostPort(a, port))
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("ping"))
			buf := make([]byte, 16)
			n, from, err := s.recvfrom(buf)
			if err != nil || string(buf[:n]) != "ping" {
				t.Errorf("recvfrom: %q, %v", buf[:n], err)
			}
			if key := sockaddrKey(from); key != c.LocalAddr().String() {
				t.Errorf("peer key %q, want %q", key, c.LocalAddr())
			}
			c.Close()
		}
		s.Close()
	}
	if _, err := listen(unix.SOCK_STREAM, "not-an-ip", 0); err == nil {
		t.Error("listen on a bad address succeeded")
	}
	// A port taken is refused, naming it.
	s, err := listen(unix.SOCK_STREAM, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port := boundPort(t, s)
	if _, err := listen(unix.SOCK_STREAM, "127.0.0.1", uint16(port)); err == nil {
		t.Errorf("a second listener on port %d succeeded", port)
	} else if !bytes.Contains([]byte(err.Error()), []byte(strconv.Itoa(port))) {
		t.Errorf("error does not name the port: %v", err)
	}
}

// TestAcceptAfterClose: closing a listener ends a goroutine waiting in
// accept (a raw blocking accept would wait on).
func TestAcceptAfterClose(t *testing.T) {
	s, err := listen(unix.SOCK_STREAM, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.accept()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("accept on a closed listener succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("accept still waiting after Close")
	}
}
