package attach

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCopyInput(t *testing.T) {
	for _, c := range []struct {
		in, keys, want string
		detached       bool
	}{
		{"hello", "", "hello", false},
		{"hello\x10\x11more", "\x10\x11", "hello", true},
		{"a\x10b", "\x10\x11", "a\x10b", false},
		{"", "\x10\x11", "", false},
	} {
		var got bytes.Buffer
		d, err := CopyInput(strings.NewReader(c.in), []byte(c.keys), func(b []byte) error { got.Write(b); return nil })
		if err != nil || d != c.detached || got.String() != c.want {
			t.Errorf("%q keys %q: wrote %q detached %v (%v), want %q %v", c.in, c.keys, got.String(), d, err, c.want, c.detached)
		}
	}
	broken := errors.New("broken")
	if _, err := CopyInput(strings.NewReader("x"), nil, func([]byte) error { return broken }); !errors.Is(err, broken) {
		t.Errorf("a failed write: %v, want it returned", err)
	}
}

func TestReceivedFds(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	oob := append(unix.UnixCredentials(&unix.Ucred{Pid: 1}), unix.UnixRights(int(r.Fd()), int(w.Fd()))...)
	fds, err := ReceivedFds(oob)
	if err != nil || len(fds) != 2 || fds[0] != int(r.Fd()) {
		t.Fatalf("descriptors %v (%v), want the pipe's two after the credentials", fds, err)
	}
	if flags, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("descriptor not close-on-exec: %#x %v", flags, err)
	}
	if fds, err := ReceivedFds(unix.UnixCredentials(&unix.Ucred{Pid: 1})); err != nil || len(fds) != 0 {
		t.Errorf("credentials alone gave descriptors %v (%v)", fds, err)
	}
}
