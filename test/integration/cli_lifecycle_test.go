package integration

// Rootless integration tests of the lifecycle commands' --all, --ignore,
// rm -t and exit statuses, each beside the same invocation of the
// reference (rootless podman with runc) where the two are meant to agree.

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// same runs args in sandbox and in podman and checks that both exit with
// code and that both say each of want on standard error.
func same(t *testing.T, p *reference, code int, want []string, args ...string) {
	t.Helper()
	for _, r := range []result{sb(t, args...), p.run(args...)} {
		if r.code != code {
			t.Errorf("want exit %d\n%s", code, r)
			continue
		}
		for _, w := range want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr does not say %q\n%s", w, r)
			}
		}
		if len(want) == 0 && r.stderr != "" {
			t.Errorf("want nothing on stderr\n%s", r)
		}
	}
}

// missing is podman's error for a name that names no container.
func missing(name string) string {
	return `Error: no container with name or ID "` + name + `" found: no such container`
}

// TestLifecycleExitCodes: the statuses of podman's manual pages (and
// docker's): 1 for a name that names no container, 2 for rm of a running
// one, 0 when -f or --ignore makes a missing one no error; the others
// named are still acted on.
func TestLifecycleExitCodes(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	const gone = "lc-exit-nosuch"
	same(t, p, 1, []string{missing(gone)}, "rm", gone)
	same(t, p, 0, nil, "rm", "-f", gone)
	same(t, p, 0, nil, "rm", "--ignore", gone)
	same(t, p, 0, nil, "rm", "-i", gone)
	same(t, p, 0, nil, "stop", "--ignore", gone)
	same(t, p, 0, nil, "stop", "-i", gone)
	same(t, p, 1, []string{"Error: " + gone + ": image not known"}, "rmi", gone)
	same(t, p, 0, nil, "rmi", "-i", gone)
	same(t, p, 0, nil, "rmi", "-f", gone)
	// Podman 4.3 exits 125 here, against its own manual page (1 for a
	// container that does not exist); sandbox keeps to the manual and to
	// docker. The words are the same.
	for _, cmd := range []string{"stop", "kill", "pause", "unpause", "restart", "start"} {
		r := fails(t, 1, []string{missing(gone)}, cmd, gone)
		pr := p.run(cmd, gone)
		if cmd == "unpause" && strings.Contains(pr.stderr, "not supported for cgroupv1 rootless containers") {
			// Podman refuses unpause on a host with a cgroup v1 hierarchy
			// before it looks the name up.
			continue
		}
		if !strings.Contains(pr.stderr, missing(gone)) || pr.code == 0 {
			t.Errorf("podman %s says otherwise:\n%s\nsandbox:\n%s", cmd, pr, r)
		}
	}

	// rm of a running container without -f: 2, in both.
	id := detached(t, "--name", "lc-exit-up", "busybox", "sleep", "30")
	waitState(t, id, "running")
	if r := p.run("run", "-d", "--name", "lc-exit-up", "busybox", "sleep", "30"); r.code != 0 {
		t.Fatal(r)
	}
	same(t, p, 2, []string{"running"}, "rm", "lc-exit-up")
	if e := stateOf(t, id); e.State != "running" {
		t.Errorf("rm without -f: %+v", e)
	}
	// rm -f of it, and of a missing name beside it: 0.
	if r := sb(t, "rm", "-f", "lc-exit-up", gone); r.code != 0 || r.stdout != "lc-exit-up\n" || r.stderr != "" {
		t.Errorf("rm -f of a running and a missing container:\n%s", r)
	}

	// Several names, one missing: the others are acted on, status 1.
	// (Podman 4.3 looks every name up first and acts on none.)
	c1 := strings.TrimSpace(ok(t, "create", "--name", "lc-exit-c1", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", c1) })
	r := fails(t, 1, []string{missing(gone)}, "rm", gone, "lc-exit-c1")
	if r.stdout != "lc-exit-c1\n" {
		t.Errorf("rm printed %q, want the one removed", r.stdout)
	}
	if _, there := psAll(t)[c1]; there {
		t.Error("rm of a missing and a present container left the present one")
	}
	// A missing name and a running container: 2 (podman's manual: 1 only
	// when there are no other failures).
	id2 := detached(t, "busybox", "sleep", "30")
	waitState(t, id2, "running")
	fails(t, 2, []string{missing(gone), id2[:12]}, "rm", gone, id2[:12])
	// A sandbox failure among them is 125.
	c3 := strings.TrimSpace(ok(t, "create", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", c3) })
	if r := sb(t, "kill", gone, c3); r.code != 125 || strings.Count(r.stderr, "Error: ") != 2 || !strings.Contains(r.stderr, "not running") {
		t.Errorf("kill of a missing and a stopped container: want 125 and an error line each\n%s", r)
	}

	// rmi of an image a container uses: 2, in both (sandbox in a store of
	// its own: the shared one's busybox is every test's).
	in := inOwnStore(t)
	if r := in("create", "busybox", "true"); r.code != 0 {
		t.Fatal(r)
	}
	if r := p.run("create", "busybox", "true"); r.code != 0 {
		t.Fatal(r)
	}
	for _, r := range []result{in("rmi", "busybox"), p.run("rmi", "busybox")} {
		if r.code != 2 || !strings.Contains(r.stderr, "in use by a container") {
			t.Errorf("rmi of an image in use: want exit 2\n%s", r)
		}
	}
	if r := in("rmi", "busybox", gone); r.code != 2 {
		t.Errorf("rmi of an image in use and a missing one: want exit 2\n%s", r)
	}
}

// inOwnStore runs sandbox commands in a store of the test's own (with
// the test image), for the commands that act on every container (--all):
// the other tests' containers stay out of reach.
func inOwnStore(t *testing.T) func(args ...string) result {
	t.Helper()
	store := ownStore(t)
	return func(args ...string) result { return sbRaw(nil, append(append([]string{}, store...), args...)...) }
}

// states maps the names of a store's containers to their states.
func states(t *testing.T, in func(args ...string) result) map[string]string {
	t.Helper()
	r := in("ps", "-a", "--format", "{{.Names}} {{.State}}")
	if r.code != 0 {
		t.Fatal(r)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if name, state, found := strings.Cut(line, " "); found {
			m[name] = state
		}
	}
	return m
}

// lines are the sorted lines of out.
func lines(out string) []string {
	l := strings.Fields(out)
	sort.Strings(l)
	return l
}

// TestLifecycleAll: --all acts on the containers the command applies to,
// and prints their full ids: stop, kill, pause the running ones, unpause
// the paused, start (--all only: -a is --attach) the created and exited,
// restart every one (--running: the running), rm every one (the running
// with -f only: 2 without).
func TestLifecycleAll(t *testing.T) {
	t.Parallel()
	in := inOwnStore(t)
	mustIn := func(args ...string) string {
		t.Helper()
		r := in(args...)
		if r.code != 0 {
			t.Fatal(r)
		}
		return r.stdout
	}
	up := strings.TrimSpace(mustIn("run", "-d", "--name", "up", "busybox", "sleep", "60"))
	created := strings.TrimSpace(mustIn("create", "--name", "created", "busybox", "sleep", "60"))
	check := func(what string, want map[string]string) {
		t.Helper()
		eventually(t, 15*time.Second, func() error {
			got := states(t, in)
			for name, state := range want {
				if got[name] != state {
					return &stateError{what, got}
				}
			}
			return nil
		})
	}
	check("run -d", map[string]string{"up": "running", "created": "created"})

	if out := mustIn("kill", "-a"); strings.TrimSpace(out) != up {
		t.Errorf("kill -a printed %q, want the running one's id", out)
	}
	check("kill -a", map[string]string{"up": "exited", "created": "created"})
	if out := mustIn("start", "--all"); strings.Join(lines(out), " ") != strings.Join(lines(up+" "+created), " ") {
		t.Errorf("start --all printed %q", out)
	}
	check("start --all", map[string]string{"up": "running", "created": "running"})
	if r := in("start", "--all", "-a"); r.code != 125 || !strings.Contains(r.stderr, "all containers") {
		t.Errorf("start --all -a:\n%s", r)
	}
	if r := in("stop", "-a", "up"); r.code != 125 || !strings.Contains(r.stderr, "no arguments are needed with --all") {
		t.Errorf("stop -a with a name:\n%s", r)
	}
	if r := in("stop"); r.code != 125 || !strings.Contains(r.stderr, "at least one name or id") {
		t.Errorf("stop without names:\n%s", r)
	}
	mustIn("stop", "-t", "0", "created")
	if out := mustIn("stop", "-a", "-t", "0"); strings.TrimSpace(out) != up {
		t.Errorf("stop -a printed %q, want the running one's id", out)
	}
	check("stop -a", map[string]string{"up": "exited", "created": "exited"})
	mustIn("start", "up")
	if out := mustIn("restart", "--running", "-t", "0"); strings.TrimSpace(out) != up {
		t.Errorf("restart --running printed %q", out)
	}
	check("restart --running", map[string]string{"up": "running", "created": "exited"})
	if out := mustIn("restart", "-a", "-t", "0"); len(lines(out)) != 2 {
		t.Errorf("restart -a printed %q, want both ids", out)
	}
	check("restart -a", map[string]string{"up": "running", "created": "running"})

	// pause -a and unpause -a where cgroup v2 is delegated; elsewhere the
	// refusal of each running container, and nothing paused to unpause.
	delegated, err := delegatedHere()
	if err != nil {
		t.Fatal(err)
	}
	if delegated {
		if out := mustIn("pause", "-a"); len(lines(out)) != 2 {
			t.Errorf("pause -a printed %q", out)
		}
		check("pause -a", map[string]string{"up": "paused", "created": "paused"})
		if out := mustIn("unpause", "-a"); len(lines(out)) != 2 {
			t.Errorf("unpause -a printed %q", out)
		}
		check("unpause -a", map[string]string{"up": "running", "created": "running"})
	} else {
		if r := in("pause", "-a"); r.code != 125 || strings.Count(r.stderr, "Error: pause needs a delegated cgroup v2") != 2 {
			t.Errorf("pause -a without delegation:\n%s", r)
		}
		if r := in("unpause", "-a"); r.code != 0 || r.stdout != "" {
			t.Errorf("unpause -a with nothing paused:\n%s", r)
		}
	}

	mustIn("stop", "-t", "0", "created")
	r := in("rm", "-a")
	if r.code != 2 || strings.TrimSpace(r.stdout) != created || !strings.Contains(r.stderr, up) {
		t.Errorf("rm -a with a running container: want exit 2, the stopped one removed\n%s", r)
	}
	check("rm -a", map[string]string{"up": "running"})
	if out := mustIn("rm", "-a", "-f"); strings.TrimSpace(out) != up {
		t.Errorf("rm -a -f printed %q", out)
	}
	if got := states(t, in); len(got) != 0 {
		t.Errorf("after rm -a -f: %v", got)
	}
	if r := in("rm", "-a"); r.code != 0 || r.stdout != "" {
		t.Errorf("rm -a of nothing:\n%s", r)
	}
}

type stateError struct {
	what string
	got  map[string]string
}

func (e *stateError) Error() string {
	var kv []string
	for k, v := range e.got {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return "after " + e.what + ": " + strings.Join(kv, " ")
}

// TestRmTimeIgnore: rm -f -t N sends the stop signal and waits up to N
// seconds before SIGKILL (without -t: SIGKILL at once, as docker);
// rm/stop --ignore pass over a missing name and act on the others.
func TestRmTimeIgnore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	id := detached(t, "-v", dir+":/out", "busybox", "sh", "-c", `trap "echo term > /out/got; exit 3" TERM; while :; do sleep 0.1; done`)
	waitState(t, id, "running")
	start := time.Now()
	if out := ok(t, "rm", "-f", "-t", "5", id); out != id+"\n" {
		t.Errorf("rm -f -t printed %q", out)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "got")); err != nil || string(got) != "term\n" {
		t.Errorf("rm -f -t 5: the container did not get its stop signal (%q, %v)", got, err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("rm -f -t 5 of a container that ends on SIGTERM took %v", took)
	}

	// A pid 1 that ignores SIGTERM: killed after the timeout.
	id2 := detached(t, "busybox", "sh", "-c", `trap "" TERM; while :; do sleep 0.1; done`)
	waitState(t, id2, "running")
	start = time.Now()
	ok(t, "rm", "-f", "--time", "1", id2)
	if took := time.Since(start); took < time.Second || took > 4*time.Second {
		t.Errorf("rm -f -t 1 of a container that ignores SIGTERM took %v, want about a second", took)
	}
	// Without -t: SIGKILL at once.
	id3 := detached(t, "busybox", "sh", "-c", `trap "" TERM; while :; do sleep 0.1; done`)
	waitState(t, id3, "running")
	start = time.Now()
	ok(t, "rm", "-f", id3)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("rm -f took %v, want SIGKILL at once", took)
	}
	fails(t, 125, []string{"--time"}, "rm", "-f", "-t", "-1", "x")
	for _, id := range []string{id, id2, id3} {
		if _, there := psAll(t)[id]; there {
			t.Errorf("%.12s still listed after rm -f", id)
		}
	}

	// --ignore: the missing name is passed over, silently; the others are
	// acted on.
	const gone = "lc-ign-nosuch"
	c := strings.TrimSpace(ok(t, "create", "--name", "lc-ign-c", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", c) })
	if r := sb(t, "stop", "--ignore", gone, "lc-ign-c"); r.code != 0 || r.stdout != "lc-ign-c\n" || r.stderr != "" {
		t.Errorf("stop --ignore:\n%s", r)
	}
	if r := sb(t, "rm", "-i", gone, "lc-ign-c"); r.code != 0 || r.stdout != "lc-ign-c\n" || r.stderr != "" {
		t.Errorf("rm -i:\n%s", r)
	}
	if _, there := psAll(t)[c]; there {
		t.Error("rm -i left the container named beside a missing one")
	}
	// --ignore is about missing names only: a running container is still
	// refused.
	id4 := detached(t, "busybox", "sleep", "30")
	waitState(t, id4, "running")
	fails(t, 2, []string{id4[:12]}, "rm", "-i", id4[:12])
	if r := sb(t, "rmi", "-i", gone, "lc-ign-image-missing-too"); r.code != 0 || r.stderr != "" {
		t.Errorf("rmi -i:\n%s", r)
	}
}
