package integration

// The reference the CLI tests compare sandbox with: rootless podman with
// runc, run as the test user with a store of its own.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reference is rootless podman with runc, run as the test user with a
// store of its own.
type reference struct {
	bin   string
	store []string
}

// newReference prepares podman with an empty store, removed at the end of
// the test. Podman is installed with the test dependencies: its absence
// is a failure, not a skip.
func newReference(t *testing.T) *reference {
	t.Helper()
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Fatalf("podman, the reference these tests compare with, is not installed (apt-get install podman runc): %v", err)
	}
	root, err := os.MkdirTemp(filepath.Dir(env.root), "podman-root-")
	if err != nil {
		t.Fatal(err)
	}
	runroot, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "podman-run-")
	if err != nil {
		t.Fatal(err)
	}
	p := &reference{bin: bin, store: podmanStoreArgs(root, runroot)}
	t.Cleanup(func() {
		p.run("rm", "-a", "-f", "-t", "0")
		// podman's conmon and its "container cleanup" finish after rm
		// returns, and may still write into the store: wait for them
		// (their command lines name the store's root).
		for deadline := time.Now().Add(10 * time.Second); len(storeProcesses(root)) > 0; {
			if time.Now().After(deadline) {
				t.Errorf("podman's processes outlived rm -a -f by 10 s: %q", storeProcesses(root))
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Files of subordinate ids: removed from inside podman's namespace,
		// in the same process as the unmount of the overlay driver's bind
		// mount of its directory (a podman that opens the store mounts it).
		if r := p.run("unshare", "sh", "-c", `umount "$1/overlay" 2>/dev/null; rm -rf "$1"`, "sh", root); r.code != 0 {
			t.Errorf("podman cleanup: %s", r)
		}
		os.RemoveAll(runroot)
	})
	return p
}

// run runs podman with args against its store.
func (p *reference) run(args ...string) result {
	cmd := exec.Command(p.bin, append(append([]string{}, p.store...), args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: append([]string{"(podman)"}, args...), stdout: stdout.String(), stderr: stderr.String()}
	if ee, isExit := err.(*exec.ExitError); isExit {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

// withBusybox imports the test image into podman's store.
func (p *reference) withBusybox(t *testing.T) {
	t.Helper()
	if r := p.run("import", "--change", `CMD ["sh"]`, env.tarball, "busybox"); r.code != 0 {
		t.Fatalf("podman import: %s", r)
	}
}

// ok runs podman, which must succeed, and returns its standard output.
func (p *reference) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

// cmd prepares podman with args against its store.
func (p *reference) cmd(args ...string) *exec.Cmd {
	return exec.Command(p.bin, append(append([]string{}, p.store...), args...)...)
}

// podmanStoreArgs are podman's global flags for a store of its own.
func podmanStoreArgs(root, runroot string) []string {
	return []string{"--runtime", "runc", "--root", root, "--runroot", runroot}
}
