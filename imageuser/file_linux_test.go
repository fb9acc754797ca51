// Unit tests (privilege tier: none) of how sandbox reads the files of a
// container's image: inside its root, never blocking, never too much.

package imageuser

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadImageFile(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	host := filepath.Join(base, "host")
	for _, d := range []string{filepath.Join(root, "etc"), host} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, data string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "etc/passwd"), "inroot:x:1:1::/:/bin/sh\n")
	write(filepath.Join(host, "passwd"), "hostonly:x:1:1::/:/bin/sh\n")
	link("../../../../../.."+host+"/passwd", "etc/up")
	link(host+"/passwd", "etc/abs")
	link("/etc/passwd", "etc/inside")
	link("loop", "etc/loop")
	if err := unix.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(root, "etc/big"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	big.Close()
	write(filepath.Join(root, "etc/atcap"), strings.Repeat("x", maxFile))

	cases := []struct {
		name    string
		want    string // the content, or a part of the error
		wantErr bool
	}{
		{"/etc/passwd", "inroot:", false},
		{"/etc/inside", "inroot:", false},
		{"/etc/up", "no such file", true},  // host/passwd is not in the root
		{"/etc/abs", "no such file", true}, // nor is it by an absolute link
		{"/etc/loop", "too many levels", true},
		{"/etc/fifo", "not a regular file (a fifo)", true},
		{"/etc", "not a regular file (a directory)", true},
		{"/etc/big", "more than the 4 MiB", true},
		{"/etc/atcap", "xxxx", false},
	}
	for _, c := range cases {
		done := make(chan struct{})
		var data []byte
		var err error
		go func() {
			data, err = ReadFile(root, c.name)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%q) blocks", c.name)
		}
		if c.wantErr {
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
				t.Errorf("ReadFile(%q): %v, want an error naming it and %q", c.name, err, c.want)
			}
			continue
		}
		if err != nil || !strings.HasPrefix(string(data), c.want) {
			t.Errorf("ReadFile(%q) = %.20q, %v; want %q", c.name, data, err, c.want)
		}
	}
	if _, err := ReadFile(root, "/etc/group"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want not exist", err)
	}
}

func TestResolveUserHostile(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A link that on the host would name the host's passwd: in the root it
	// is the link itself, a loop.
	if err := os.Symlink("../../../../../../../etc/passwd", filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(root, "root"); err == nil || !strings.Contains(err.Error(), "/etc/passwd") {
		t.Errorf("passwd link loop: %v, want an error naming /etc/passwd", err)
	}
	// No files at all: numeric ids work, names do not.
	empty := t.TempDir()
	if u, err := Resolve(empty, "1000:1000"); err != nil || u.UID != 1000 || u.GID != 1000 {
		t.Errorf("numeric user without passwd: %+v, %v", u, err)
	}
	if _, err := Resolve(empty, "root"); err == nil || !strings.Contains(err.Error(), "unable to find user root") {
		t.Errorf("named user without passwd: %v", err)
	}
}
