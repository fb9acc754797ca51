// Unit tests (privilege tier: none; a vfs store in a temporary directory)
// of the store's own views of containers/storage's layout.

package storage

import (
	"path/filepath"
	"testing"
)

// TestContainerDataDir: the directory named from the layout is the one
// containers/storage gives for the container.
func TestContainerDataDir(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run"), Driver: DriverVFS, SingleID: true})
	if err != nil {
		t.Skipf("no vfs store here: %v", err)
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
