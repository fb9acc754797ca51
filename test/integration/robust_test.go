package integration

// Rootless integration tests of what goes wrong: bad input, concurrent
// runs, commands killed half-way, a locked store, a keeper that is gone,
// missing host programs. Each must end in one clear line and leave nothing
// behind.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sandbox/spec"
)

// noLeftovers checks that the store holds exactly the containers it held
// before (by id) and that no extra mounts appeared.
func noLeftovers(t *testing.T, before []string) {
	t.Helper()
	after := containerIDs(t)
	sort.Strings(before)
	sort.Strings(after)
	if strings.Join(before, " ") != strings.Join(after, " ") {
		t.Errorf("containers left behind:\nbefore %v\nafter  %v", before, after)
	}
}

func TestBadInput(t *testing.T) {
	// Not parallel: it compares the store's containers and monitors
	// before and after.
	before := containerIDs(t)
	monitorsBefore := monitorPids()
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"malformed image reference", []string{"run", "--rm", "Not/Valid:ref", "true"}, []string{"Not/Valid:ref", "NAME[:TAG]"}},
		{"unknown image, --pull=never", []string{"run", "--rm", "--pull=never", "nosuch/image:1", "true"}, []string{"nosuch/image:1", "no such image"}},
		{"unknown image, no registry", []string{"run", "--rm", "127.0.0.1:1/nosuch:1", "true"}, []string{"127.0.0.1:1/nosuch"}},
		{"bad --pull", []string{"run", "--rm", "--pull=sometimes", "busybox", "true"}, []string{"sometimes", "always, missing, never or newer"}},
		{"bad -e", []string{"run", "--rm", "-e", "=value", "busybox", "true"}, []string{"=value", "KEY=VALUE"}},
		{"missing --env-file", []string{"run", "--rm", "--env-file", "/no/such/envfile", "busybox", "true"}, []string{"/no/such/envfile"}},
		{"relative volume source", []string{"run", "--rm", "-v", "rel/dir:/x", "busybox", "true"}, []string{"rel/dir:/x", "absolute"}},
		{"relative volume destination", []string{"run", "--rm", "-v", dir + ":rel", "busybox", "true"}, []string{dir + ":rel", "destination"}},
		{"volume options", []string{"run", "--rm", "-v", dir + ":/x:rx", "busybox", "true"}, []string{"rx"}},
		{"missing bind source", []string{"run", "--rm", "-v", "/no/such/dir:/x", "busybox", "true"}, []string{"/no/such/dir", "does not exist"}},
		{"bad --mount", []string{"run", "--rm", "--mount", "type=nfs,target=/x", "busybox", "true"}, []string{"type=nfs,target=/x", "bind, volume or tmpfs"}},
		{"--mount without target", []string{"run", "--rm", "--mount", "type=tmpfs", "busybox", "true"}, []string{"type=tmpfs", "no target"}},
		{"relative --mount target", []string{"run", "--rm", "--mount", "type=bind,source=" + dir + ",target=rel", "busybox", "true"}, []string{"target=rel", "absolute"}},
		{"bad --tmpfs", []string{"run", "--rm", "--tmpfs", "/x:size=lots", "busybox", "true"}, []string{"lots"}},
		{"unknown user", []string{"run", "--rm", "-u", "nosuchuser", "busybox", "true"}, []string{"nosuchuser", "/etc/passwd"}},
		{"unknown group", []string{"run", "--rm", "-u", "root:nosuchgroup", "busybox", "true"}, []string{"nosuchgroup", "/etc/group"}},
		{"empty group", []string{"run", "--rm", "-u", "root:", "busybox", "true"}, []string{"root:", "USER[:GROUP]"}},
		{"relative workdir", []string{"run", "--rm", "-w", "rel", "busybox", "true"}, []string{"rel", "absolute"}},
		{"bad name", []string{"run", "--rm", "--name", "-bad", "busybox", "true"}, []string{"-bad"}},
		{"bad --userns", []string{"run", "--rm", "--userns", "auto", "busybox", "true"}, []string{"auto", "keep-id"}},
		{"bad storage driver", []string{"--storage-driver", "zfs", "images"}, []string{"zfs", "overlay"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fails(t, 125, c.want, c.args...)
		})
	}
	noLeftovers(t, before)
	if ms := storeMounts(t); len(ms) > 0 {
		t.Errorf("mounts left behind: %v", ms)
	}
	// run starts its monitor before it checks the flags: a run that
	// fails the check ends the monitor it started, and reaps it.
	noMonitorsLeft(t, monitorsBefore)
}

// noMonitorsLeft checks that no monitor runs (or waits to be reaped) but
// those of before, the monitorPids of an earlier moment.
func noMonitorsLeft(t *testing.T, before []string) {
	t.Helper()
	var left []string
	for _, pid := range monitorPids() {
		if !slices.Contains(before, pid) {
			left = append(left, pid)
		}
	}
	if len(left) > 0 {
		t.Errorf("monitors left by the runs that failed: pids %v", left)
	}
}

// monitorPids lists the pids of the monitors (sandbox-monitor monitor
// RUNDIR) of this user, zombies included: a monitor that its command did
// not reap shows too.
func monitorPids() []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []string{err.Error()}
	}
	uid := os.Getuid()
	var out []string
	for _, e := range entries {
		dir := "/proc/" + e.Name()
		var st syscall.Stat_t
		if syscall.Stat(dir, &st) != nil || int(st.Uid) != uid {
			continue
		}
		if stat, err := os.ReadFile(dir + "/stat"); err == nil && strings.Contains(string(stat), "(sandbox-monito") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestDuplicateName(t *testing.T) {
	// Not parallel: it compares the store's containers before and after.
	ok(t, "create", "--name", "dup", "busybox", "true")
	before := containerIDs(t)
	fails(t, 125, []string{"dup", "in use"}, "run", "--name", "dup", "busybox", "true")
	noLeftovers(t, before)
	ok(t, "rm", "dup")
}

func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	const n = 10
	var wg sync.WaitGroup
	outs := make([]result, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = sb(t, "run", "--rm", "--name", fmt.Sprintf("conc%d", i), "busybox", "sh", "-c", "echo $HOSTNAME; sleep 0.2")
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, r := range outs {
		if r.code != 0 {
			t.Fatalf("a concurrent run failed: %s", r)
		}
		seen[r.stdout] = true
	}
	if len(seen) != n {
		t.Errorf("want %d distinct containers, got %d", n, len(seen))
	}
	eventually(t, 10*time.Second, func() error {
		if out := ok(t, "ps", "-a"); strings.Contains(out, "conc") {
			return fmt.Errorf("--rm containers still listed:\n%s", out)
		}
		return nil
	})
}

// TestKilledRun kills `sandbox run --rm` with SIGKILL at points spread
// over its start; the next command must find no half-made container, and
// no mount of one may stay.
func TestKilledRun(t *testing.T) {
	// Not parallel: it checks the whole store for leftovers.
	before := containerIDs(t)
	for i := 0; i < 16; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := command(ctx, nil, "run", "--rm", "--name", fmt.Sprintf("killed%d", i), "busybox", "true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i) * 2 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
	}
	eventually(t, 10*time.Second, func() error {
		after := containerIDs(t)
		if len(after) != len(before) {
			return fmt.Errorf("after the killed runs the store holds %d containers, before %d:\n%s", len(after), len(before), ok(t, "ps", "-a"))
		}
		return nil
	})
	noLeftovers(t, before)
	eventually(t, 10*time.Second, func() error {
		// A container's root filesystem is overlay/LAYER-ID/merged.
		// containers/storage probes overlay once per run root in
		// overlay/volatile-check*/merged: a probe killed is cleaned by
		// the next open, so none stays either (storage/probe.go).
		layerMount := regexp.MustCompile(`/overlay/([0-9a-f]{64}|volatile-check[^/]*)/merged$`)
		for _, m := range storeMounts(t) {
			if layerMount.MatchString(m) {
				return fmt.Errorf("a container root filesystem or an overlay probe is still mounted: %s", m)
			}
		}
		if probes, err := filepath.Glob(filepath.Join(env.root, "overlay", "volatile-check*")); err != nil || len(probes) > 0 {
			return fmt.Errorf("overlay probes left: %v %v", probes, err)
		}
		return nil
	})
	// The monitor of a run killed after starting it ends by itself when it
	// notices; the next command then removes its run directory.
	eventually(t, 10*time.Second, func() error {
		containerIDs(t)
		// None there at all: every run was killed before its claim (a
		// loaded machine).
		all, err := os.ReadDir(filepath.Join(env.runroot, "sandbox-containers"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// The name links' directory is no run directory.
		var entries []fs.DirEntry
		for _, e := range all {
			if e.Name() != spec.NamesDir {
				entries = append(entries, e)
			}
		}
		if len(entries) != len(before) {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			return fmt.Errorf("%d container run directories left, want %d: %s", len(entries), len(before), strings.Join(names, " "))
		}
		return nil
	})
}

// TestLockedStore holds containers/storage's container store lock (an
// fcntl lock, as containers/storage takes it) while a run starts: the run
// waits, then succeeds once the lock is released.
func TestLockedStore(t *testing.T) {
	t.Parallel()
	lockPath := filepath.Join(env.root, "overlay-containers", "containers.lock")
	f, err := os.OpenFile(lockPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLKW, &lk); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- sb(t, "run", "--rm", "busybox", "echo", "after-lock") }()
	select {
	case r := <-done:
		t.Fatalf("run finished while the store was locked: %s", r)
	case <-time.After(700 * time.Millisecond):
	}
	lk.Type = syscall.F_UNLCK
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.code != 0 || r.stdout != "after-lock\n" {
			t.Fatalf("run after the lock: %s", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not finish after the lock was released")
	}
}

// freshRuntime returns environment entries for a runtime directory of its
// own, so that a keeper is made from scratch for it.
func freshRuntime(t *testing.T) []string {
	t.Helper()
	dir, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "keeper-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killKeeper(t, dir)
		os.RemoveAll(dir)
	})
	return []string{"XDG_RUNTIME_DIR=" + dir}
}

func keeperPid(t *testing.T, runtimeDir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(runtimeDir, "sandbox", "keeper.pid"))
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscan(string(data), &pid)
	return pid
}

// killKeeper kills the keeper of a runtime directory and waits until it is
// dead (a zombie counts: nothing may reap it on some hosts).
func killKeeper(t *testing.T, runtimeDir string) {
	pid := keeperPid(t, runtimeDir)
	if pid <= 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 500; i++ {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(data), ") Z ") {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestKeeperRecreated kills the keeper, as a reboot or a user would: the
// next command starts a new one and works.
func TestKeeperRecreated(t *testing.T) {
	t.Parallel()
	rt := freshRuntime(t)
	dir := strings.TrimPrefix(rt[0], "XDG_RUNTIME_DIR=")
	// A store of its own: one graph root is used with one run root only.
	root := filepath.Join(t.TempDir(), "root")
	stores := []string{"--root", root, "--runroot", filepath.Join(dir, "storage")}
	t.Cleanup(func() { sbWith(t, cmdOpts{env: rt}, append(stores, "unshare", "rm", "-rf", root)...) })
	if r := sbWith(t, cmdOpts{env: rt}, append(stores, "import", env.tarball, "busybox")...); r.code != 0 {
		t.Fatal(r)
	}
	args := append(stores, "run", "--rm", "busybox", "echo", "ok")
	if r := sbWith(t, cmdOpts{env: rt}, args...); r.code != 0 || r.stdout != "ok\n" {
		t.Fatalf("first run: %s", r)
	}
	first := keeperPid(t, dir)
	if first == 0 {
		t.Fatal("no keeper.pid")
	}
	killKeeper(t, dir)
	if r := sbWith(t, cmdOpts{env: rt}, args...); r.code != 0 || r.stdout != "ok\n" {
		t.Fatalf("run after the keeper was killed: %s", r)
	}
	if second := keeperPid(t, dir); second == first || second == 0 {
		t.Errorf("keeper not replaced: %d then %d", first, second)
	}
	// Concurrent commands that find no keeper start one between them.
	killKeeper(t, dir)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := sbWith(t, cmdOpts{env: rt}, append(stores, "images", "-q")...); r.code != 0 {
				t.Errorf("concurrent command without keeper: %s", r)
			}
		}()
	}
	wg.Wait()
	pid := keeperPid(t, dir)
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(comm)) != "sandbox-keeper" {
		t.Errorf("keeper.pid names %d, not a live keeper (%q, %v)", pid, comm, err)
	}
}

// TestMissingNewuidmap: without newuidmap no keeper can be made, and the
// error names the package that provides it.
func TestMissingNewuidmap(t *testing.T) {
	t.Parallel()
	rt := freshRuntime(t)
	bin := t.TempDir() // a PATH with everything but newuidmap
	for _, tool := range []string{"fuse-overlayfs", "getsubids"} {
		if p, err := exec.LookPath(tool); err == nil {
			os.Symlink(p, filepath.Join(bin, tool))
		}
	}
	r := sbWith(t, cmdOpts{env: append(rt, "PATH="+bin)}, "images")
	if r.code != 125 || !strings.Contains(r.stderr, "newuidmap") || !strings.Contains(r.stderr, "uidmap package") {
		t.Fatalf("want exit 125 naming newuidmap and the uidmap package: %s", r)
	}
}

// TestRuntimeDirFallback: without XDG_RUNTIME_DIR (su, cron) a private
// per-user directory is used, with a warning. The test's store is its own:
// a store is used with one run root, and this run root is not the other
// tests' (theirs would not know of a container being made in this one).
func TestRuntimeDirFallback(t *testing.T) {
	t.Parallel()
	fallback := fmt.Sprintf("/tmp/sandbox-run-%d", os.Getuid())
	fresh := pidFromFile(filepath.Join(fallback, "keeper.pid")) == 0
	root, runRoot := filepath.Join(fallback, "it-root"), filepath.Join(fallback, "it-storage")
	t.Cleanup(func() {
		if pid := pidFromFile(filepath.Join(fallback, "keeper.pid")); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		sbRaw(nil, "unshare", "rm", "-rf", root, runRoot, filepath.Join(fallback, "cache"))
	})
	var envNoXDG []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "XDG_RUNTIME_DIR=") {
			envNoXDG = append(envNoXDG, e)
		}
	}
	var stderr strings.Builder
	noXDG := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, env.bin, append([]string{"--root", root, "--runroot", runRoot}, args...)...)
		cmd.Env = envNoXDG
		var stdout, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &errOut
		err := cmd.Run()
		stderr.WriteString(errOut.String())
		if err != nil {
			t.Fatalf("%s without XDG_RUNTIME_DIR: %v\n%s%s", args[0], err, stdout.String(), errOut.String())
		}
		return stdout.String()
	}
	noXDG("import", env.tarball, "busybox")
	if out := noXDG("run", "--rm", "busybox", "echo", "ok"); out != "ok\n" {
		t.Fatalf("run without XDG_RUNTIME_DIR printed %q", out)
	}
	// Once the removal after --rm is over (ps waits for it), the store
	// can go.
	noXDG("ps", "-a")
	if fresh && !strings.Contains(stderr.String(), "XDG_RUNTIME_DIR") {
		t.Errorf("no warning about XDG_RUNTIME_DIR: %q", stderr.String())
	}
	st, err := os.Stat(fallback)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("fallback runtime directory %s: %v %v", fallback, err, st)
	}
}

func pidFromFile(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscan(string(data), &pid)
	return pid
}
