// Rootless integration tests (privilege tier: unprivileged user) of a
// store on a full file system: a tmpfs of a few MiB, which an unprivileged
// user can mount in its own user and mount namespaces, here the keeper's,
// where the store is used.

package integration

import (
	"archive/tar"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallStore is a store whose graph root is on a tmpfs of size (in the
// keeper's mount namespace), and the global flags that select it.
func smallStore(t *testing.T, size string) storeCmd {
	t.Helper()
	dir, err := os.MkdirTemp(filepath.Dir(env.root), "small-")
	if err != nil {
		t.Fatal(err)
	}
	runroot, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "small-run-")
	if err != nil {
		t.Fatal(err)
	}
	ok(t, "unshare", "mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "none", dir)
	s := storeCmd{args: []string{"--root", filepath.Join(dir, "root"), "--runroot", runroot}, root: filepath.Join(dir, "root")}
	t.Cleanup(func() {
		s.sb(t, "rm", "-a", "-f")
		sb(t, "unshare", "umount", "-l", dir)
		os.RemoveAll(dir)
		os.RemoveAll(runroot)
	})
	s.ok(t, "import", "--change", `CMD ["sh"]`, env.tarball, "busybox")
	return s
}

// bigTarball is a root filesystem tarball with one file of size bytes
// that does not compress.
func bigTarball(t *testing.T, size int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "big", Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// diskFull checks a refusal for a full disk: exit 125 and a line that
// says so and names the store.
func diskFull(t *testing.T, s storeCmd, r result) {
	t.Helper()
	if r.code != 125 {
		t.Fatalf("want exit 125 on a full disk\n%s", r)
	}
	var line string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.HasPrefix(l, "Error: ") {
			line = l
		}
	}
	if !strings.Contains(line, "no space left on device") || !strings.Contains(line, "is full") || !strings.Contains(line, s.root) {
		t.Errorf("the error does not say the disk is full and where:\n%s", r.stderr)
	}
}

func TestFullDisk(t *testing.T) {
	t.Parallel()
	s := smallStore(t, "24m")
	s.ok(t, "import", env.tarball, "second")
	// An import that does not fit: refused, nothing of it left.
	diskFull(t, s, s.sb(t, "import", bigTarball(t, 32<<20), "big"))
	if imgs := strings.Fields(s.ok(t, "images", "--format", "{{.Repository}}")); len(imgs) != 2 {
		t.Errorf("images after an import that did not fit: %v", imgs)
	}
	if r := s.sb(t, "system", "check", "--max", "0s"); r.code != 0 {
		t.Errorf("system check after an import that did not fit:\n%s", r)
	}
	// fill fills the disk from a container: the container's own command
	// fails (dd's status), the store stays usable.
	fill := func(name string) {
		r := s.sb(t, "run", "--name", name, "busybox", "dd", "if=/dev/zero", "of=/fill", "bs=1M", "count=64")
		if r.code != 1 || !strings.Contains(r.stderr, "No space left on device") {
			t.Fatalf("a container filling the disk: want dd's failure\n%s", r)
		}
	}
	fill("filler1")
	diskFull(t, s, s.sb(t, "run", "-d", "--name", "late", "busybox", "sleep", "1000"))
	if ids := strings.Fields(s.ok(t, "ps", "-aq")); len(ids) != 1 {
		t.Errorf("containers after a run that did not fit: %v", ids)
	}
	// The commands that free space work on the full disk.
	s.ok(t, "rm", "-f", "filler1")
	fill("filler2")
	s.ok(t, "container", "prune", "-f")
	fill("filler3")
	s.ok(t, "rmi", "second")
	s.ok(t, "rm", "-f", "filler3")
	// With room again, all works.
	s.ok(t, "run", "-d", "--name", "after", "busybox", "sleep", "1000")
	s.ok(t, "exec", "after", "true")
	s.ok(t, "rm", "-f", "after")
	if r := s.sb(t, "system", "check", "--max", "0s"); r.code != 0 {
		t.Errorf("system check after the disk was freed:\n%s", r)
	}
	if ms := s.mounts(t); len(ms) > 0 {
		t.Errorf("mounts left: %v", ms)
	}
}
