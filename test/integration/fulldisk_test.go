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

// diskFullLine is diskFull with nothing else on standard error: no log
// line of the storage library beside sandbox's own.
func diskFullLine(t *testing.T, s storeCmd, r result) {
	t.Helper()
	diskFull(t, s, r)
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 {
		t.Errorf("want one line on a full disk, got %d:\n%s", len(lines), r.stderr)
	}
}

// layerDirs are the directories of the store's layers, in its driver's
// directory.
func (s storeCmd) layerDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, d := range strings.Fields(s.ok(t, "unshare", "find", s.root, "-mindepth", "2", "-maxdepth", "2", "-type", "d")) {
		parent := filepath.Base(filepath.Dir(d))
		if len(filepath.Base(d)) == 64 && !strings.HasSuffix(parent, "-containers") && !strings.HasSuffix(parent, "-images") && !strings.HasSuffix(parent, "-layers") {
			dirs = append(dirs, filepath.Base(d))
		}
	}
	return dirs
}

// buildContext is a build context whose Dockerfile runs run on busybox.
func buildContext(t *testing.T, run string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN "+run+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFullDisk(t *testing.T) {
	t.Parallel()
	s := smallStore(t, "24m")
	s.ok(t, "import", env.tarball, "second")
	// With room, a command that fails keeps its own status and says
	// nothing of the disk.
	if r := s.sb(t, "run", "--rm", "busybox", "sh", "-c", "exit 3"); r.code != 3 || r.stderr != "" {
		t.Errorf("a failing command on a store with room: want its status 3, alone\n%s", r)
	}
	// An import that does not fit: refused, nothing of it left.
	diskFull(t, s, s.sb(t, "import", bigTarball(t, 32<<20), "big"))
	if imgs := strings.Fields(s.ok(t, "images", "--format", "{{.Repository}}")); len(imgs) != 2 {
		t.Errorf("images after an import that did not fit: %v", imgs)
	}
	if r := s.sb(t, "system", "check", "--max", "0s"); r.code != 0 {
		t.Errorf("system check after an import that did not fit:\n%s", r)
	}
	// A build and a commit whose new layer does not fit (the 12 MiB a
	// container wrote, once more, on a disk with less than 24 left):
	// refused, no image or layer of theirs left.
	layers := s.layerDirs(t)
	diskFull(t, s, s.sb(t, "build", "-t", "twelve", buildContext(t, "dd if=/dev/urandom of=/twelve bs=1M count=12")))
	if got := s.layerDirs(t); len(got) != len(layers) {
		t.Errorf("layers after a build that did not fit: %v, before: %v", got, layers)
	}
	s.ok(t, "run", "--name", "twelve", "busybox", "dd", "if=/dev/urandom", "of=/twelve", "bs=1M", "count=12")
	layers = s.layerDirs(t)
	diskFull(t, s, s.sb(t, "commit", "twelve", "twelve"))
	if got := s.layerDirs(t); len(got) != len(layers) {
		t.Errorf("layers after a commit that did not fit: %v, before: %v", got, layers)
	}
	if imgs := strings.Fields(s.ok(t, "images", "-a", "--format", "{{.Repository}}")); len(imgs) != 2 {
		t.Errorf("images after a commit and a build that did not fit: %v", imgs)
	}
	s.ok(t, "rm", "twelve")
	// A container that fills the disk and frees it before it fails keeps
	// its status: the disk is not full when it ends.
	if r := s.sb(t, "run", "--rm", "busybox", "sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=64; rm /fill; exit 4"); r.code != 4 || strings.Contains(r.stderr, "Error:") {
		t.Errorf("a container that freed what it filled: want its status 4\n%s", r)
	}
	// fill fills the disk from a container: its command fails (dd's
	// status, kept in inspect), the run says the disk is full, in one
	// line after the container's own output, and the store stays usable.
	fill := func(name string) {
		t.Helper()
		r := s.sb(t, "run", "--name", name, "busybox", "dd", "if=/dev/zero", "of=/fill", "bs=1M", "count=64")
		diskFull(t, s, r)
		if !strings.Contains(r.stderr, "No space left on device") || !strings.Contains(r.stderr, "status 1") {
			t.Errorf("a container filling the disk: want dd's error and its status\n%s", r)
		}
		if code := strings.TrimSpace(s.ok(t, "inspect", "--format", "{{.State.ExitCode}}", name)); code != "1" {
			t.Errorf("a container filling the disk: its exit code is %s, want dd's 1", code)
		}
	}
	fill("filler1")
	diskFull(t, s, s.sb(t, "start", "-a", "filler1"))
	// A run that does not fit, again and again: one line each, no
	// container left (the monitor launched beside the create is
	// abandoned before the run directory goes).
	for range 5 {
		r := s.sb(t, "run", "-d", "--name", "late", "busybox", "sleep", "1000")
		diskFullLine(t, s, r)
		if strings.Contains(r.stderr, "launching the monitor") {
			t.Errorf("a run that did not fit raced its monitor:\n%s", r)
		}
	}
	if ids := strings.Fields(s.ok(t, "ps", "-aq")); len(ids) != 1 {
		t.Errorf("containers after a run that did not fit: %v", ids)
	}
	// The storage library's own lines come with --log-level only.
	if r := s.sb(t, "--log-level=debug", "run", "-d", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "level=") {
		t.Errorf("--log-level=debug on a full disk: want the storage library's lines too\n%s", r)
	}
	// Commit and build on the full disk: refused, nothing left.
	layers = s.layerDirs(t)
	diskFullLine(t, s, s.sb(t, "commit", "filler1", "full"))
	diskFull(t, s, s.sb(t, "build", "-t", "full", buildContext(t, "true")))
	if imgs := strings.Fields(s.ok(t, "images", "-a", "--format", "{{.Repository}}")); len(imgs) != 2 {
		t.Errorf("images after a commit and a build on a full disk: %v", imgs)
	}
	if got := s.layerDirs(t); len(got) != len(layers) {
		t.Errorf("layers after a commit and a build on a full disk: %v, before: %v", got, layers)
	}
	// The commands that free space work on the full disk.
	s.ok(t, "rm", "-f", "filler1")
	fill("filler2")
	s.ok(t, "container", "prune", "-f")
	fill("filler3")
	s.ok(t, "rmi", "second")
	s.ok(t, "rm", "-f", "filler3")
	// A build whose RUN fills the disk says so; its container goes.
	diskFull(t, s, s.sb(t, "build", "-t", "filled", buildContext(t, "dd if=/dev/zero of=/fill bs=1M count=64")))
	// run --rm: the disk is told full before the removal frees it.
	diskFull(t, s, s.sb(t, "run", "--rm", "busybox", "dd", "if=/dev/zero", "of=/fill", "bs=1M", "count=64"))
	if ids := strings.Fields(s.ok(t, "ps", "-aq")); len(ids) != 0 {
		t.Errorf("containers after a run --rm and a build that filled the disk: %v", ids)
	}
	// With room again, all works.
	s.ok(t, "run", "-d", "--name", "after", "busybox", "sleep", "1000")
	s.ok(t, "exec", "after", "sh", "-c", "echo kept > /kept")
	s.ok(t, "commit", "after", "after")
	if out := s.ok(t, "run", "--rm", "after", "cat", "/kept"); out != "kept\n" {
		t.Errorf("the image committed once the disk was freed: /kept is %q", out)
	}
	s.ok(t, "build", "-t", "built", buildContext(t, "echo built > /built"))
	s.ok(t, "rm", "-f", "after")
	if r := s.sb(t, "system", "check", "--max", "0s"); r.code != 0 {
		t.Errorf("system check after the disk was freed:\n%s", r)
	}
	if ms := s.mounts(t); len(ms) > 0 {
		t.Errorf("mounts left: %v", ms)
	}
}
