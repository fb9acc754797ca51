// Unit tests (privilege tier: none) of the mount points made before the
// go-ahead (prepare_linux.go) and of the reading of the go-ahead's pipe.

package nsinit

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// Only binds that no other mount is at or above are made ahead.
func TestPrepareMounts(t *testing.T) {
	mounts := []spec.Mount{
		{Type: "proc", Destination: "/proc"},
		{Type: "tmpfs", Destination: "/dev"},
		{Type: "bind", Source: "/x/hostname", Destination: "/etc/hostname"},
		{Type: "bind", Source: "/x/hosts", Destination: "/etc//hosts"},
		{Type: "bind", Source: "/x/null", Destination: "/dev/null"}, // under /dev
		{Type: "tmpfs", Destination: "/run"},                        // covers the next
		{Type: "bind", Source: "/x/env", Destination: "/run/.containerenv"},
		{Type: "bind", Source: "/v", Destination: "/data"},     // a volume
		{Type: "bind", Source: "/w", Destination: "/data/sub"}, // under it
		{Type: "bind", Source: "/y", Destination: "/twice"},    // at the same place
		{Type: "bind", Source: "/z", Destination: "/twice/"},   //
		{Type: "bind", Source: "/r", Destination: "relative"},
	}
	var got []string
	for _, m := range PrepareMounts(mounts) {
		got = append(got, m.Destination)
	}
	want := []string{"/etc/hostname", "/etc//hosts", "/data"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PrepareMounts: %q, want %q", got, want)
	}
}

// A Prepare line makes its mount points as the pass after the go-ahead
// would, inside the root whatever the image's links say, and leaves alone
// what it cannot make.
func TestPrepareMakesMountPoints(t *testing.T) {
	r, outside := hostileRoot(t)
	src := t.TempDir()
	file := filepath.Join(src, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	line, err := PrepareLine(Prepare{Rootfs: r.path, Mounts: []spec.Mount{
		{Type: "bind", Source: file, Destination: "/etc/hosts"},                        // a link out of the root
		{Type: "bind", Source: file, Destination: "/run/.containerenv"},                // /run to create
		{Type: "bind", Source: src, Destination: "/data"},                              // a link, dangling
		{Type: "bind", Source: filepath.Join(src, "missing"), Destination: "/missing"}, // no source: left
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !IsPrepareLine(line) || line[len(line)-1] != '\n' {
		t.Fatalf("PrepareLine: %q", line)
	}
	prepare(line)
	for path, dir := range map[string]bool{
		outside[1:] + "/hosts": false,
		"run/.containerenv":    false,
		"srv/data":             true,
	} {
		st, err := os.Lstat(filepath.Join(r.path, path))
		if err != nil || st.IsDir() != dir {
			t.Errorf("%s in the root: %v (directory %t, want %t)", path, err, err == nil && st.IsDir(), dir)
		}
	}
	if _, err := os.Lstat(filepath.Join(r.path, "missing")); err == nil {
		t.Errorf("/missing made without a source")
	}
	emptyDir(t, outside)
}

// The go-ahead's pipe: lines ahead of the go-ahead are Prepares, and two
// lines that come in one read are two lines.
func TestLineReader(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	first, err := PrepareLine(Prepare{Rootfs: "/r"})
	if err != nil {
		t.Fatal(err)
	}
	goAhead := []byte(`{"config":"/c/config.json"}` + "\n")
	if _, err := unix.Write(p[1], append(append([]byte{}, first...), goAhead...)); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	r := lineReader{fd: p[0]}
	for i, want := range [][]byte{first, goAhead} {
		got, err := r.next()
		if err != nil || string(got) != string(want) {
			t.Errorf("line %d: %q (%v), want %q", i, got, err, want)
		}
	}
	if !IsPrepareLine(first) || IsPrepareLine(goAhead) {
		t.Errorf("IsPrepareLine: %t for the Prepare, %t for the go-ahead", IsPrepareLine(first), IsPrepareLine(goAhead))
	}
	if _, err := r.next(); err == nil {
		t.Errorf("a line after the end of the pipe")
	}
}
