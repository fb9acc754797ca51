// Rootless integration tests (privilege tier: unprivileged user) of a kill
// at every step: the fault-injection build of sandbox (bin/faultinject/,
// tag faultinject) kills itself with SIGKILL at the step SANDBOX_FAULT
// names; after each kill the next ordinary command must work, and leave
// no mount, no process, no container or layer that nothing refers to, and
// no half-named image.

package integration

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sandbox/internal/faultinject"
)

// faultCase kills one command at one step.
type faultCase struct {
	step string
	// setup makes what the command acts on.
	setup func(t *testing.T, s storeCmd)
	// cmd is the command killed; retry the ordinary command after it,
	// which must succeed.
	cmd, retry []string
}

func TestKillAtEveryStep(t *testing.T) {
	t.Parallel()
	faultBin := filepath.Join(filepath.Dir(env.bin), "faultinject", "sandbox")
	if _, err := os.Stat(faultBin); err != nil {
		t.Fatalf("the fault-injection build: %v (hack/stage-tests.sh builds it)", err)
	}
	const name = "victim"
	running := func(t *testing.T, s storeCmd) { s.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "1000") }
	exited := func(t *testing.T, s storeCmd) {
		running(t, s)
		s.ok(t, "stop", "-t", "0", name)
	}
	none := func(*testing.T, storeCmd) {}
	// An image whose layer the store does not have: pulls and imports
	// of it make layers, which a kill can leave.
	tarball := extraTarball(t)
	pullRef := env.registry + "/faults/extra:1"
	ok(t, "import", tarball, "faults-extra")
	ok(t, "push", "-q", "faults-extra", pullRef)
	ok(t, "rmi", "faults-extra")
	create := []string{"create", "--name", name, "busybox", "sleep", "1000"}
	runD := []string{"run", "-d", "--name", name, "busybox", "sleep", "1000"}
	cases := []faultCase{
		{faultinject.CreateClaimed, none, create, create},
		{faultinject.CreateStored, none, create, create},
		{faultinject.CreateMounted, none, create, create},
		{faultinject.CreateConfigured, none, create, create},
		{faultinject.RunLaunched, none, runD, runD},
		{faultinject.StartMounted, exited, []string{"start", name}, []string{"start", name}},
		{faultinject.StartLaunched, exited, []string{"start", name}, []string{"start", name}},
		{faultinject.ExecPrepared, running, []string{"exec", name, "sleep", "1000"}, []string{"exec", name, "true"}},
		{faultinject.ExecStarted, running, []string{"exec", name, "sleep", "1000"}, []string{"exec", name, "true"}},
		{faultinject.StopRequested, running, []string{"stop", "-t", "1", name}, []string{"stop", "-t", "1", name}},
		{faultinject.StopSignalled, running, []string{"stop", "-t", "1", name}, []string{"stop", "-t", "1", name}},
		{faultinject.RmKilled, running, []string{"rm", "-f", name}, []string{"rm", "-f", "-i", name}},
		{faultinject.RmUnmounted, running, []string{"rm", "-f", name}, []string{"rm", "-f", "-i", name}},
		{faultinject.RmDeleted, running, []string{"rm", "-f", name}, []string{"rm", "-f", "-i", name}},
		{faultinject.PullBegun, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}},
		{faultinject.PullBlob, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}},
		{faultinject.PullCommit, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}},
		{faultinject.PullStored, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}},
		{faultinject.ImportBegun, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}},
		{faultinject.ImportBlob, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}},
		{faultinject.ImportCommit, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}},
		{faultinject.ImportStored, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}},
	}
	// Every step named in the code is walked here.
	walked := map[string]bool{}
	for _, c := range cases {
		walked[c.step] = true
	}
	for _, step := range faultinject.Steps {
		if !walked[step] {
			t.Errorf("step %s is not in the table", step)
		}
	}
	s := newStoreCmd(t)
	var psTimes []time.Duration
	for _, c := range cases {
		t.Run(c.step, func(t *testing.T) {
			// Whatever happens, the next case starts from a clean store.
			t.Cleanup(func() {
				s.sb(t, "rm", "-f", "-i", name)
				s.sb(t, "rmi", "-i", pullRef, "imported")
			})
			c.setup(t, s)
			r := sbWith(t, cmdOpts{bin: faultBin, env: []string{faultinject.Env + "=" + c.step}}, append(append([]string{}, s.args...), c.cmd...)...)
			// Killed: the command itself (no exit status), or for pull
			// and import the image helper, which the command reports.
			helper := r.code == 125 && strings.Contains(r.stderr, "image helper: signal: killed")
			if r.code != -1 && !helper {
				t.Fatalf("want the command killed at %s\n%s", c.step, r)
			}
			start := time.Now()
			s.ok(t, "ps", "-a")
			psTimes = append(psTimes, time.Since(start))
			// No half-named image: the transfer's image is there with
			// its name, or not at all (what it left goes with the retry).
			if imgs := s.ok(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); strings.Contains(imgs, "<none>") {
				t.Errorf("an image without its name after the kill:\n%s", imgs)
			}
			s.ok(t, c.retry...)
			// What the retry made goes again, by ordinary commands.
			s.ok(t, "rm", "-f", "-i", name)
			if strings.HasPrefix(c.step, "pull.") {
				s.ok(t, "rmi", pullRef)
			}
			if strings.HasPrefix(c.step, "import.") {
				// A second import of a tarball is a new image (its own
				// creation time): the first, if the kill left it whole,
				// lost its name to it, as in docker.
				s.ok(t, "rmi", "imported")
				s.ok(t, "system", "prune", "-f")
			}
			assertStoreClean(t, s)
		})
	}
	sort.Slice(psTimes, func(i, j int) bool { return psTimes[i] < psTimes[j] })
	if n := len(psTimes); n > 0 {
		t.Logf("ps -a right after a kill: median %v, max %v over %d kills", psTimes[n/2], psTimes[n-1], n)
	}
}

// assertStoreClean checks what a store with only the busybox image must
// look like: no container, one image, no mount under it in the keeper,
// no process that serves it, and system check finds nothing, not even a
// layer that nothing refers to however young.
func assertStoreClean(t *testing.T, s storeCmd) {
	t.Helper()
	if ids := strings.Fields(s.ok(t, "ps", "-aq")); len(ids) > 0 {
		t.Errorf("containers left: %v", ids)
	}
	if imgs := strings.Fields(s.ok(t, "images", "--format", "{{.Repository}}:{{.Tag}}")); len(imgs) != 1 || imgs[0] != "busybox:latest" {
		t.Errorf("images: %v, want only busybox", imgs)
	}
	if ms := s.mounts(t); len(ms) > 0 {
		t.Errorf("mounts left: %v", ms)
	}
	if ps := storeProcesses(s.root); len(ps) > 0 {
		t.Errorf("processes left that serve the store: %v", ps)
	}
	if r := s.sb(t, "system", "check", "--max", "0s"); r.code != 0 {
		t.Errorf("system check:\n%s", r)
	}
}

// storeProcesses lists the processes whose command line names dir (the
// monitors and their cleanups name their store's root).
func storeProcesses(dir string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(data), dir) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return out
}

// extraTarball is the busybox tarball with one more file: a layer of its
// own.
func extraTarball(t *testing.T) string {
	t.Helper()
	in, err := os.Open(env.tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := filepath.Join(t.TempDir(), "extra.tar")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	body := []byte(strings.Repeat("a layer of its own\n", 4096))
	if err := tw.WriteHeader(&tar.Header{Name: "etc/faults-extra", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
