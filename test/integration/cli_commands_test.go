// Rootless integration tests (privilege tier: rootless integration) of
// the commands a script meets: exists, wait --condition, save to a pipe,
// port --all, unknown subcommands, and the files podman puts in a
// container (/run/.containerenv, keep-id's passwd entry). Each compares
// with rootless podman, the reference, run as the same user with a store
// of its own.

package integration

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// sharedPodman is the reference's store for this run, made on first use,
// with the same busybox image as sandbox's.
var sharedPodman struct {
	once sync.Once
	root string
	err  error
}

// podman runs the reference as the test user with its own store.
func podman(t *testing.T, args ...string) result {
	t.Helper()
	sharedPodman.once.Do(func() {
		if _, err := exec.LookPath("podman"); err != nil {
			sharedPodman.err = fmt.Errorf("podman, the reference these tests compare with, is not installed: %w", err)
			return
		}
		dir, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "sandbox-it-podman-")
		if err != nil {
			sharedPodman.err = err
			return
		}
		sharedPodman.root = dir
		if r := podmanRaw("import", "--change", `CMD ["sh"]`, env.tarball, "busybox"); r.code != 0 {
			sharedPodman.err = fmt.Errorf("podman import busybox: %s", r)
		}
	})
	if sharedPodman.err != nil {
		t.Fatal(sharedPodman.err)
	}
	return podmanRaw(args...)
}

func podmanRaw(args ...string) result {
	p := &reference{bin: "podman", store: podmanStoreArgs(filepath.Join(sharedPodman.root, "root"), filepath.Join(sharedPodman.root, "run"))}
	return p.run(args...)
}

// cleanupPodman removes the reference's store, from inside its user
// namespace, where its files belong to subordinate ids.
func cleanupPodman() {
	if sharedPodman.root == "" {
		return
	}
	podmanRaw("rm", "-af", "-t", "0")
	podmanRaw("unshare", "rm", "-rf", filepath.Join(sharedPodman.root, "root"), filepath.Join(sharedPodman.root, "run"))
	os.RemoveAll(sharedPodman.root)
}

// sameOutput runs args with sandbox and podman and checks that both end with
// code and print want (both ignored when "-"), and nothing on stderr when
// the code is not 125.
func sameOutput(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	for _, r := range []result{sb(t, args...), podman(t, args...)} {
		if r.code != code || (want != "-" && r.stdout != want) || (code != 125 && r.stderr != "") {
			t.Errorf("want exit %d and stdout %q\n%s", code, want, r)
		}
	}
}

func TestExists(t *testing.T) {
	t.Parallel()
	ok(t, "create", "--name", "exists-ctr", "busybox", "true")
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", "exists-ctr") })
	podman(t, "create", "--name", "exists-ctr", "busybox", "true")
	sameOutput(t, 0, "", "container", "exists", "exists-ctr")
	sameOutput(t, 1, "", "container", "exists", "exists-nothing")
	sameOutput(t, 0, "", "image", "exists", "busybox")
	sameOutput(t, 1, "", "image", "exists", "exists-nothing")
	// An image is no container and a container no image.
	sameOutput(t, 1, "", "container", "exists", "busybox")
	sameOutput(t, 1, "", "image", "exists", "exists-ctr")
	if out := ok(t, "container", "inspect", "--format", "{{.Name}}", "exists-ctr"); strings.TrimSpace(strings.TrimPrefix(out, "/")) != "exists-ctr" {
		t.Errorf("container inspect: %q", out)
	}
	fails(t, 125, []string{"busybox"}, "container", "inspect", "busybox")
}

func TestUnknownSubcommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"container", "bogus"}, {"image", "bogus"}, {"bogus"}} {
		r := sb(t, args...)
		want := fmt.Sprintf("Error: unknown command %q for %q", "bogus", strings.Join(append([]string{"sandbox"}, args[:len(args)-1]...), " "))
		if r.code != 125 || r.stdout != "" || !strings.HasPrefix(r.stderr, want) {
			t.Errorf("want exit 125 and %q\n%s", want, r)
		}
		if p := podman(t, args...); p.code != 125 {
			t.Errorf("podman fails otherwise:\n%s", p)
		}
	}
	// The group alone still prints its help, as docker does.
	if r := sb(t, "container"); r.code != 0 || !strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("sandbox container:\n%s", r)
	}
}

func TestWaitCreated(t *testing.T) {
	t.Parallel()
	ok(t, "create", "--name", "wait-created", "busybox", "sh", "-c", "exit 3")
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", "wait-created") })
	podman(t, "create", "--name", "wait-created", "busybox", "sh", "-c", "exit 3")
	r := sbWith(t, cmdOpts{timeout: 10 * time.Second}, "wait", "wait-created")
	if r.code != 0 || r.stdout != "0\n" {
		t.Fatalf("want 0 at once\n%s", r)
	}
	sameOutput(t, 0, "0\n", "wait", "wait-created")
	// Once it has run, its own status.
	ok(t, "start", "wait-created")
	if out := ok(t, "wait", "wait-created"); out != "3\n" {
		t.Errorf("wait after start: %q", out)
	}
}

func TestWaitCondition(t *testing.T) {
	t.Parallel()
	ok(t, "create", "--name", "wait-cond", "busybox", "sleep", "30")
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", "wait-cond") })
	podman(t, "create", "--name", "wait-cond", "busybox", "sleep", "30")
	sameOutput(t, 0, "-1\n", "wait", "--condition", "created", "wait-cond")
	sameOutput(t, 0, "0\n", "wait", "--condition", "stopped", "wait-cond")
	sameOutput(t, 0, "0\n", "wait", "--condition", "exited", "wait-cond")
	for _, bad := range []string{"healthy", "configured", "bogus"} {
		fails(t, 125, []string{`"` + bad + `"`, "created, exited, paused, running, stopped"}, "wait", "--condition", bad, "wait-cond")
		if p := podman(t, "wait", "--condition", bad, "wait-cond"); p.code != 125 {
			t.Errorf("podman:\n%s", p)
		}
	}
	// running: returns once the container is started.
	done := make(chan result, 1)
	go func() {
		done <- sbRaw(&cmdOpts{timeout: 20 * time.Second}, "wait", "--condition", "running", "wait-cond")
	}()
	time.Sleep(200 * time.Millisecond)
	ok(t, "start", "wait-cond")
	if r := <-done; r.code != 0 || r.stdout != "-1\n" {
		t.Errorf("wait --condition running:\n%s", r)
	}
	ok(t, "kill", "wait-cond")
	if out := ok(t, "wait", "--condition", "exited", "--condition", "running", "wait-cond"); out != "-1\n" && out != "137\n" {
		t.Errorf("wait for either: %q", out)
	}
}

// tarNames lists the names in a tar stream.
func tarNames(t *testing.T, data string) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(strings.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("not a tar archive (%d bytes): %v", len(data), err)
		}
		names = append(names, h.Name)
	}
}

func TestSavePipe(t *testing.T) {
	t.Parallel()
	// Standard output here is a pipe, as in `sandbox save IMAGE | cat`.
	for _, r := range []result{sb(t, "save", "busybox"), podman(t, "save", "busybox")} {
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		names := strings.Join(tarNames(t, r.stdout), " ")
		if !strings.Contains(names, "manifest.json") {
			t.Errorf("%s: a docker-archive without manifest.json: %s", strings.Join(r.args, " "), names)
		}
	}
	// What went out loads back.
	if r := sbWith(t, cmdOpts{stdin: sb(t, "save", "-q", "busybox").stdout}, "load", "-q"); r.code != 0 || !strings.Contains(r.stdout, "busybox") {
		t.Errorf("load what save wrote:\n%s", r)
	}
}

// userEntry is the test user's name and group name.
func userEntry(t *testing.T) (name, group string) {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return u.Username, g.Name
}

func TestKeepIDPasswd(t *testing.T) {
	t.Parallel()
	name, group := userEntry(t)
	script := fmt.Sprintf("id -un; id -gn; grep '^%s:' /etc/passwd; grep '^%s:' /etc/group", name, group)
	want := fmt.Sprintf("%s\n%s\n%s:*:%d:%d::/tmp:/bin/sh\n%s:x:%d:%s\n", name, group, name, os.Getuid(), os.Getgid(), group, os.Getgid(), name)
	sameOutput(t, 0, want, "run", "--rm", "--userns=keep-id", "-w", "/tmp", "busybox", "sh", "-c", script)
	// As root inside, the entry is there too.
	sameOutput(t, 0, "1\n", "run", "--rm", "--userns=keep-id", "-u", "0", "busybox", "grep", "-c", "^"+name+":", "/etc/passwd")
	// The image is untouched: without keep-id, no such user.
	r := sb(t, "run", "--rm", "busybox", "grep", "-c", "^"+name+":", "/etc/passwd")
	if r.code != 1 || r.stdout != "0\n" {
		t.Errorf("the image's /etc/passwd changed:\n%s", r)
	}
}

func TestContainerEnv(t *testing.T) {
	t.Parallel()
	// Empty, as podman leaves it for a container that is not privileged.
	sameOutput(t, 0, "0\n", "run", "--rm", "busybox", "sh", "-c", "test -f /run/.containerenv && wc -c < /run/.containerenv")
	keys := func(r result) []string {
		var ks []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			k, _, _ := strings.Cut(line, "=")
			ks = append(ks, k)
		}
		return ks
	}
	s := sb(t, "run", "--rm", "--privileged", "--name", "cenv", "busybox", "cat", "/run/.containerenv")
	p := podman(t, "run", "--rm", "--privileged", "--name", "cenv", "busybox", "cat", "/run/.containerenv")
	if s.code != 0 || p.code != 0 || strings.Join(keys(s), " ") != strings.Join(keys(p), " ") {
		t.Fatalf("keys differ from podman's:\n%s\n%s", s, p)
	}
	for _, w := range []string{`engine="sandbox-`, `name="cenv"`, `image="busybox"`, "rootless=1"} {
		if !strings.Contains(s.stdout, w) {
			t.Errorf("/run/.containerenv has no %s:\n%s", w, s.stdout)
		}
	}
}

// freePorts are n free TCP ports of the loopback.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func TestPortAll(t *testing.T) {
	t.Parallel()
	// port --all lists running containers only: one with two ports, one
	// with none, one created only.
	check := func(run func(t *testing.T, args ...string) result) {
		t.Helper()
		p := freePorts(t, 3)
		id := strings.TrimSpace(run(t, "run", "-d", "-p", fmt.Sprintf("%d:80", p[0]), "-p", fmt.Sprintf("127.0.0.1:%d:81/udp", p[1]), "busybox", "sleep", "30").stdout)
		none := strings.TrimSpace(run(t, "run", "-d", "busybox", "sleep", "30").stdout)
		created := strings.TrimSpace(run(t, "create", "-p", fmt.Sprintf("%d:82", p[2]), "busybox", "sleep", "30").stdout)
		defer run(t, "rm", "-f", id, none, created)
		r := run(t, "port", "-a")
		// podman's port -a fails when a container of another test goes
		// while it lists them ("does not exist in database"): its race,
		// not an answer to compare.
		for try := 0; try < 5 && r.code == 125 && strings.Contains(r.stderr, "does not exist in database"); try++ {
			r = run(t, "port", "-a")
		}
		var mine []string
		for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			for _, c := range []string{id, none, created} {
				if len(c) >= 12 && strings.HasPrefix(line, c[:12]+"\t") {
					mine = append(mine, line)
				}
			}
		}
		want := []string{fmt.Sprintf("%.12s\t80/tcp -> 0.0.0.0:%d", id, p[0]), fmt.Sprintf("%.12s\t81/udp -> 127.0.0.1:%d", id, p[1])}
		// Podman lists a container's ports in no fixed order.
		sort.Strings(mine)
		if r.code != 0 || strings.Join(mine, "\n") != strings.Join(want, "\n") {
			t.Errorf("want lines %q\n%s", want, r)
		}
		if r := run(t, "port", "-a", id); r.code != 125 || !strings.Contains(r.stderr, "no arguments are needed with --all") {
			t.Errorf("port -a with a name:\n%s", r)
		}
	}
	check(sb)
	check(podman)
}
