// Rootless integration tests (privilege tier: unprivileged user) of a kill
// at every step: the fault-injection build of sandbox and its helpers
// (bin/faultinject/, tag faultinject) kills itself with SIGKILL at the step
// SANDBOX_FAULT names; after each kill the next ordinary command must work, and leave
// no mount, no process, no container or layer that nothing refers to, and
// no half-named image.

package integration

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
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
	// stdin is both commands' standard input.
	stdin string
}

// The build the build steps are killed in: two stages, a RUN in each, a
// COPY --from the first (which mounts its image) and a COPY from the
// context. Its layer steps, which a rebuild takes from the cache.
const (
	faultDockerfile = "FROM busybox AS a\nRUN echo a > /a\nFROM busybox\nCOPY --from=a /a /a\nCOPY file /file\nRUN cat /a /file > /both\n"
	faultBuildSteps = 4
)

// cachedAfter is how many of the build's steps a rebuild after a kill at
// step must take from the cache at least: what the killed build finished
// is valid cache, which the recovery keeps.
func cachedAfter(step string) int {
	switch step {
	case faultinject.BuildStep:
		return 1 // the first stage's RUN
	case faultinject.BuildImage, faultinject.BuildNamed:
		return faultBuildSteps
	}
	return 0
}

func TestKillAtEveryStep(t *testing.T) {
	t.Parallel()
	faultBin := filepath.Join(filepath.Dir(env.bin), "faultinject", "sandbox")
	if _, err := os.Stat(faultBin); err != nil {
		t.Fatalf("the fault-injection build: %v (hack/stage-tests.sh builds it)", err)
	}
	const name = victim
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
	// commit --pause of a running container passes every commit step.
	changed := func(t *testing.T, s storeCmd) {
		s.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "echo changed > /changed; exec sleep 1000")
	}
	commit := []string{"commit", "--pause", name, "committed"}
	// The build reads its context from standard input, which it
	// unpacks in the store's scratch space: a kill leaves that too.
	buildCtx := writeContext(t, map[string]string{"Dockerfile": faultDockerfile, "file": "from the context\n"})
	ctxTar, err := exec.Command("tar", "-C", buildCtx, "-c", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	build := []string{"build", "--progress", "plain", "-t", "built", "-"}
	buildAt := func(step string) faultCase {
		return faultCase{step: step, setup: none, cmd: build, retry: build, stdin: string(ctxTar)}
	}
	cases := []faultCase{
		{faultinject.CreateClaimed, none, create, create, ""},
		{faultinject.CreateStored, none, create, create, ""},
		{faultinject.CreateMounted, none, create, create, ""},
		{faultinject.CreateConfigured, none, create, create, ""},
		{faultinject.RunLaunched, none, runD, runD, ""},
		{faultinject.StartMounted, exited, []string{"start", name}, []string{"start", name}, ""},
		{faultinject.StartLaunched, exited, []string{"start", name}, []string{"start", name}, ""},
		{faultinject.ExecPrepared, running, []string{"exec", name, "sleep", "1000"}, []string{"exec", name, "true"}, ""},
		{faultinject.ExecStarted, running, []string{"exec", name, "sleep", "1000"}, []string{"exec", name, "true"}, ""},
		{faultinject.StopRequested, running, []string{"stop", "-t", "1", name}, []string{"stop", "-t", "1", name}, ""},
		{faultinject.StopSignalled, running, []string{"stop", "-t", "1", name}, []string{"stop", "-t", "1", name}, ""},
		{faultinject.RmKilled, running, []string{"rm", "-f", name}, []string{"rm", "-f", "-i", name}, ""},
		{faultinject.RmUnmounted, running, []string{"rm", "-f", name}, []string{"rm", "-f", "-i", name}, ""},
		{faultinject.RmDeleted, running, []string{"rm", "-f", name}, []string{"rm", "-f", "-i", name}, ""},
		{faultinject.PullBegun, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}, ""},
		{faultinject.PullBlob, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}, ""},
		{faultinject.PullCommit, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}, ""},
		{faultinject.PullStored, none, []string{"pull", "-q", pullRef}, []string{"pull", "-q", pullRef}, ""},
		{faultinject.ImportBegun, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}, ""},
		{faultinject.ImportBlob, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}, ""},
		{faultinject.ImportCommit, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}, ""},
		{faultinject.ImportStored, none, []string{"import", tarball, "imported"}, []string{"import", tarball, "imported"}, ""},
		{faultinject.CommitPaused, changed, commit, commit, ""},
		{faultinject.CommitDiff, changed, commit, commit, ""},
		{faultinject.CommitLayer, changed, commit, commit, ""},
		{faultinject.CommitImage, changed, commit, commit, ""},
		{faultinject.CommitNamed, changed, commit, commit, ""},
		buildAt(faultinject.BuildBegun),
		buildAt(faultinject.BuildCopying),
		buildAt(faultinject.BuildContainer),
		buildAt(faultinject.BuildRan),
		buildAt(faultinject.BuildDiff),
		buildAt(faultinject.BuildLayer),
		buildAt(faultinject.BuildStep),
		buildAt(faultinject.BuildImage),
		buildAt(faultinject.BuildNamed),
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
	k := killer{s: newStoreCmd(t), bin: faultBin, pullRef: pullRef}
	var psTimes []time.Duration
	pauses := delegated(t)
	for _, c := range cases {
		if c.step == faultinject.CommitPaused && !pauses {
			// commit --pause cannot pause here, and so never passes it.
			t.Logf("%s: no delegated cgroup v2 here: TestCgroupKilledCommitPaused kills there in the VM", c.step)
			continue
		}
		t.Run(c.step, func(t *testing.T) { psTimes = append(psTimes, k.kill(t, c)) })
	}
	sort.Slice(psTimes, func(i, j int) bool { return psTimes[i] < psTimes[j] })
	if n := len(psTimes); n > 0 {
		t.Logf("ps -a right after a kill: median %v, max %v over %d kills", psTimes[n/2], psTimes[n-1], n)
	}
}

// killer kills commands at their steps in a store of its own.
type killer struct {
	s storeCmd
	// bin is the fault-injection build of sandbox; pullRef the image
	// the pull steps pull.
	bin, pullRef string
}

// victim is the container the cases act on.
const victim = "victim"

// kill runs c's command killed at its step, then checks that the next
// commands work and that the store is left clean. It returns how long
// the first ps -a took.
func (k killer) kill(t *testing.T, c faultCase) time.Duration {
	s, name := k.s, victim
	// Whatever happens, the next case starts from a clean store.
	t.Cleanup(func() {
		s.sb(t, "rm", "-f", "-i", name)
		s.sb(t, "rmi", "-i", k.pullRef, "imported", "committed", "built")
		s.sb(t, "image", "prune", "-f")
	})
	c.setup(t, s)
	r := sbWith(t, cmdOpts{bin: k.bin, stdin: c.stdin, env: []string{faultinject.Env + "=" + c.step}}, append(append([]string{}, s.args...), c.cmd...)...)
	// Killed: the command itself (no exit status), or for pull,
	// import and build the helper, which the command reports.
	helper := r.code == 125 && strings.Contains(r.stderr, " helper: signal: killed")
	if r.code != -1 && !helper {
		t.Fatalf("want the command killed at %s\n%s", c.step, r)
	}
	if strings.HasSuffix(c.step, ".blob") || strings.HasSuffix(c.step, ".commit") {
		// A transfer killed while it copies leaves its temporary files
		// in the store's scratch space, for the next transfer to remove,
		// not in /var/tmp, where nothing would.
		if left, _ := filepath.Glob(filepath.Join(s.root, "sandbox-scratch", "copy-*")); len(left) == 0 {
			t.Errorf("no scratch directory of the killed %s in the store", c.step)
		}
	}
	start := time.Now()
	ps := s.ok(t, "ps", "-a", "--format", "{{.Names}} {{.Status}}")
	took := time.Since(start)
	// Within a second; in the cgroup v2 VM, whose CPU is emulated (TCG)
	// and about ten times slower, within ten.
	limit := time.Second
	if inVM() {
		limit = 10 * time.Second
	}
	if took > limit {
		t.Errorf("ps -a took %v after the kill, want it within %v", took, limit)
	}
	// No half-named image: the transfer's image is there with
	// its name, or not at all (what it left goes with the retry).
	if imgs := s.ok(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); strings.Contains(imgs, "<none>") {
		t.Errorf("an image without its name after the kill:\n%s", imgs)
	}
	switch {
	case strings.HasPrefix(c.step, "commit."):
		// Not left paused by the killed commit --pause.
		if !strings.HasPrefix(ps, name+" Up ") || strings.Contains(ps, "Paused") {
			t.Errorf("after the kill, ps -a shows %q: want %s running", ps, name)
		}
	case strings.HasPrefix(c.step, "build."):
		// A build's containers are not the user's.
		if ps != "" {
			t.Errorf("after the kill, ps -a lists %q: want nothing", ps)
		}
	}
	retry := sbWith(t, cmdOpts{stdin: c.stdin}, append(append([]string{}, s.args...), c.retry...)...)
	if retry.code != 0 {
		t.Fatalf("the retry: %s", retry)
	}
	out := retry.stdout
	if n, want := strings.Count(out, "--> Using cache "), cachedAfter(c.step); n < want {
		t.Errorf("the rebuild took %d steps from the cache, want at least %d: the kill's recovery lost cache\n%s", n, want, out)
	}
	// What the retry made goes again, by ordinary commands.
	s.ok(t, "rm", "-f", "-i", name)
	if strings.HasPrefix(c.step, "commit.") || strings.HasPrefix(c.step, "build.") {
		// The image of a commit or build killed once it was
		// named lost its name to the retry's: dangling, as in
		// docker; so do a build's step images (cache).
		s.ok(t, "rmi", map[bool]string{true: "committed", false: "built"}[strings.HasPrefix(c.step, "commit.")])
		s.ok(t, "image", "prune", "-f")
	}
	if strings.HasPrefix(c.step, "pull.") {
		s.ok(t, "rmi", k.pullRef)
	}
	if strings.HasPrefix(c.step, "import.") {
		// A second import of a tarball is a new image (its own
		// creation time): the first, if the kill left it whole,
		// lost its name to it, as in docker.
		s.ok(t, "rmi", "imported")
		s.ok(t, "system", "prune", "-f")
	}
	assertStoreClean(t, s)
	return took
}

// assertStoreClean checks what a store with only the busybox image must
// look like: no container, one image, no mount under it in the keeper,
// no process that serves it, and system check finds nothing, not even a
// layer that nothing refers to however young.
func assertStoreClean(t *testing.T, s storeCmd) {
	t.Helper()
	if ids := strings.Fields(s.ok(t, "ps", "-aq", "--external")); len(ids) > 0 {
		t.Errorf("containers left (build containers included): %v", ids)
	}
	// The layer buffers of commit and build, and build's scratch space.
	for _, pattern := range []string{filepath.Join(s.runroot(), "sandbox-layer-*"), filepath.Join(s.root, "sandbox-scratch", "*")} {
		if left, _ := filepath.Glob(pattern); len(left) > 0 {
			t.Errorf("files left: %v", left)
		}
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

// TestCgroupKilledCommitPaused kills commit --pause while the container
// is frozen (and once its image is named, before the thaw): the next
// command that reads the container's state thaws it. Pausing needs a
// delegated cgroup v2: the VM tier runs this.
func TestCgroupKilledCommitPaused(t *testing.T) {
	needLimits(t)
	t.Parallel()
	faultBin := filepath.Join(filepath.Dir(env.bin), "faultinject", "sandbox")
	k := killer{s: newStoreCmd(t), bin: faultBin}
	changed := func(t *testing.T, s storeCmd) {
		s.ok(t, "run", "-d", "--name", victim, "busybox", "sh", "-c", "echo changed > /changed; exec sleep 1000")
	}
	commit := []string{"commit", "--pause", victim, "committed"}
	for _, step := range []string{faultinject.CommitPaused, faultinject.CommitNamed} {
		t.Run(step, func(t *testing.T) { k.kill(t, faultCase{step, changed, commit, commit, ""}) })
	}
}

// TestKilledBuildKeepsOthersImages kills a build while a commit without
// a name finishes beside it: the recovery of the killed build, by the
// next build, removes what the build left, and not the commit's image,
// which has no name either.
func TestKilledBuildKeepsOthersImages(t *testing.T) {
	t.Parallel()
	faultBin := filepath.Join(filepath.Dir(env.bin), "faultinject", "sandbox")
	s := newStoreCmd(t)
	s.ok(t, "run", "-d", "--name", "src", "busybox", "sh", "-c", "echo x > /x; exec sleep 1000")
	t.Cleanup(func() { s.sb(t, "rm", "-f", "src") })
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN sleep 3\n"})
	killed := make(chan result, 1)
	go func() {
		killed <- sbWith(t, cmdOpts{bin: faultBin, env: []string{faultinject.Env + "=" + faultinject.BuildRan}}, append(append([]string{}, s.args...), "build", "-q", dir)...)
	}()
	eventually(t, 10*time.Second, func() error {
		if ids := strings.Fields(s.ok(t, "ps", "-q", "--external", "--filter", "label=sandbox.build=true")); len(ids) == 0 {
			return errors.New("no RUN container yet")
		}
		return nil
	})
	id := strings.TrimSpace(s.ok(t, "commit", "src"))
	if r := <-killed; r.code != 125 || !strings.Contains(r.stderr, "build helper: signal: killed") {
		t.Fatalf("want the build killed at %s\n%s", faultinject.BuildRan, r)
	}
	s.ok(t, "build", "-q", dir)
	if imgs := s.ok(t, "images", "-a", "-q", "--no-trunc"); !strings.Contains(imgs, id) {
		t.Errorf("the commit's image %s went with the killed build's recovery: images -a lists\n%s", id, imgs)
	}
	if ids := strings.Fields(s.ok(t, "ps", "-aq", "--external")); len(ids) != 1 {
		t.Errorf("containers after the rebuild: %v, want only src", ids)
	}
}

// TestKilledBuildRepaired kills a build once its RUN's changes are in the
// layer buffer: system check names what it left (its container, the
// killed transfer), --repair removes it, and no build is needed for that.
func TestKilledBuildRepaired(t *testing.T) {
	t.Parallel()
	faultBin := filepath.Join(filepath.Dir(env.bin), "faultinject", "sandbox")
	s := newStoreCmd(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo a > /a\n"})
	r := sbWith(t, cmdOpts{bin: faultBin, env: []string{faultinject.Env + "=" + faultinject.BuildDiff}}, append(append([]string{}, s.args...), "build", "-q", dir)...)
	if r.code != 125 || !strings.Contains(r.stderr, "build helper: signal: killed") {
		t.Fatalf("want the build killed at %s\n%s", faultinject.BuildDiff, r)
	}
	check := s.sb(t, "system", "check", "--max", "0s")
	if check.code != 1 || !strings.Contains(check.stdout, "a build container whose build (pid ") || !strings.Contains(check.stdout, "was killed") {
		t.Errorf("system check after the kill: want the build container and the killed build named\n%s", check)
	}
	s.sb(t, "system", "check", "--repair", "--max", "0s")
	assertStoreClean(t, s)
}
