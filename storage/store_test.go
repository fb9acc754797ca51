// Unit tests (privilege tier: none; a vfs store in a temporary directory)
// of the store's own views of containers/storage's layout.

package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// vfsOptions are those of a vfs store in a temporary directory of t's,
// which any user can open: a store that does not open fails the test.
func vfsOptions(t *testing.T) Options {
	dir := t.TempDir()
	return Options{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run"), Driver: DriverVFS, SingleID: true}
}

// TestContainerDataDir: the directory named from the layout is the one
// containers/storage gives for the container.
func TestContainerDataDir(t *testing.T) {
	s, err := Open(vfsOptions(t))
	if err != nil {
		t.Fatalf("open a vfs store: %v", err)
	}
	defer func() {
		if _, err := s.Shutdown(true); err != nil {
			t.Error(err)
		}
	}()
	c, err := s.CreateContainer("", []string{"datadir-test"}, "", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.ContainerDirectory(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ContainerDataDir(c.ID); got != want {
		t.Fatalf("ContainerDataDir = %s, ContainerDirectory = %s", got, want)
	}
}

// TestWarmReadsLayers: Warm reads the layer store's records ahead of the
// first use of a layer. Records spoiled after Warm, behind the store's
// back, are not read again by the container's creation; without Warm,
// that creation reads them and fails.
func TestWarmReadsLayers(t *testing.T) {
	for _, warm := range []bool{true, false} {
		o := vfsOptions(t)
		s, err := Open(o)
		if err != nil {
			t.Fatalf("open a vfs store: %v", err)
		}
		if _, err := s.CreateLayer("", "", nil, "", true, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Shutdown(true); err != nil {
			t.Fatal(err)
		}
		if s, err = Open(o); err != nil {
			t.Fatal(err)
		}
		if warm {
			s.Warm()
		}
		// Spoiled behind the store's back: its lock file and the records'
		// modification time, which containers/storage also compares, are
		// as they were.
		records := filepath.Join(o.GraphRoot, "vfs-layers", "layers.json")
		st, err := os.Stat(records)
		if err != nil {
			t.Fatal(err)
		}
		good, err := os.ReadFile(records)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(records, []byte("not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(records, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateContainer("", []string{fmt.Sprintf("warm-%t", warm)}, "", "", "", nil)
		if warm && err != nil {
			t.Errorf("after Warm, the creation read the layer records again: %v", err)
		}
		if !warm && err == nil {
			t.Errorf("without Warm, the creation did not read the spoiled layer records: the test shows nothing")
		}
		if err := os.WriteFile(records, good, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Shutdown(true); err != nil {
			t.Error(err)
		}
	}
}
