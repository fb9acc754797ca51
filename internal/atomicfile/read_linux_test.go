// Unit tests (privilege tier: none) of reading files whole.

package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 100000} {
		path := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		if err := Write(path, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: read %d bytes, %v", n, len(got), err)
		}
	}
	// /proc's files stat as empty: read to their end all the same.
	for _, path := range []string{"/proc/self/stat", "/proc/self/maps"} {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Skipf("no %s: %v", path, err)
		}
		got, err := ReadFile(path)
		if err != nil || len(got) == 0 || bytes.Count(got, []byte("\n")) != bytes.Count(want, []byte("\n")) {
			t.Fatalf("%s: read %q, %v; os.ReadFile reads %q", path, got, err, want)
		}
	}
	_, err := ReadFile(filepath.Join(dir, "missing"))
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != filepath.Join(dir, "missing") {
		t.Fatalf("a missing file: %v, want a *fs.PathError that is fs.ErrNotExist", err)
	}
	// Into a buffer: a file that fits is read into its array, one that
	// does not into a new one.
	buf := make([]byte, 0, 1000)
	for _, n := range []int{10, 999, 1000, 5000, 3} {
		path := filepath.Join(dir, "g")
		want := bytes.Repeat([]byte{'x'}, n)
		if err := Write(path, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFileTo(buf, path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes into a buffer of %d: read %d bytes, %v", n, cap(buf), len(got), err)
		}
		if reused := &got[:1][0] == &buf[:1][0]; reused != (n < cap(buf)) {
			t.Errorf("%d bytes into a buffer of %d: its array reused: %v", n, cap(buf), reused)
		}
	}
	if _, err := ReadFile(dir); err == nil {
		t.Fatal("a directory reads without error")
	}
}
