package integration

// Rootless integration tests of build and commit: a multi-stage
// Dockerfile using every instruction, the layer cache, bad input, an
// interrupted build, and built images through save/load and a registry.

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeContext makes a build context of files (path: content).
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// multiStageContext is a copy of testdata/build-multistage, the context
// that make bench builds too: its ignore file leaves out logs/, tarsrc/
// and *.key files but takes keep.key back; files.tgz is made here.
func multiStageContext(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ctx")
	if out, err := exec.Command("cp", "-r", filepath.Join("testdata", "build-multistage"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	if out, err := exec.Command("tar", "-C", filepath.Join(dir, "tarsrc"), "-czf", filepath.Join(dir, "files.tgz"), "d").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	return dir
}

// buildContainers lists the build containers left in the store (ps
// lists them only with --external).
func buildContainers(t *testing.T) []string {
	t.Helper()
	return strings.Fields(ok(t, "ps", "-aq", "--external", "--filter", "label=sandbox.build=true"))
}

var imageIDLine = regexp.MustCompile(`(?m)^[0-9a-f]{64}$`)

func TestBuildMultiStage(t *testing.T) {
	t.Parallel()
	dir := multiStageContext(t)
	r := sbWith(t, cmdOpts{timeout: 3 * time.Minute}, "build", "--build-arg", "EXTRA=given", "--label", "from.flag=yes", "-t", "it/multistage:1", dir)
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{"[1/2] STEP 1/6: FROM ${BASE} AS builder\n", "[2/2] STEP 20/20: CMD", "[2/2] COMMIT it/multistage:1\n", "Successfully tagged"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	id := lines[len(lines)-1]
	if !imageIDLine.MatchString(id) {
		t.Fatalf("last line %q is not an image id", id)
	}
	if got := run(t, "it/multistage:1"); got != "version=1.0 extra=given\n" {
		t.Errorf("CMD through ENTRYPOINT printed %q", got)
	}
	out := run(t, "--entrypoint", "", "it/multistage:1", "sh", "-c",
		`id -un; pwd; cat /app/greeting.txt /app/data/listing.txt /app/extracted/d/t.txt; stat -c '%n %u:%g %a' /app/owned.txt /app/keep.key; ls /app`)
	want := "appuser\n/app/data\nhello world\na.txt\nkeep.key\nsub\nintar\n/app/owned.txt 1234:1234 644\n/app/keep.key 0:0 750\nbase-group\ndata\nextracted\ngreeting.txt\nkeep.key\nowned.txt\nstate\n"
	// state: the image's VOLUME /app/state, an anonymous volume at run.
	if out != want {
		t.Errorf("the image's files:\n%s\nwant:\n%s", out, want)
	}
	var cfg []struct {
		ID     string `json:"Id"`
		Config struct {
			User         string
			ExposedPorts map[string]any
			Volumes      map[string]any
			Labels       map[string]string
			StopSignal   string
			WorkingDir   string
			Entrypoint   []string
			Env          []string
		}
	}
	if err := json.Unmarshal([]byte(ok(t, "image", "inspect", "it/multistage:1")), &cfg); err != nil || len(cfg) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	c := cfg[0].Config
	if cfg[0].ID != "sha256:"+id || c.User != "appuser" || c.StopSignal != "SIGINT" || c.WorkingDir != "/app/data" ||
		c.Labels["org.example.title"] != "built" || c.Labels["from.flag"] != "yes" || c.ExposedPorts["9090/udp"] == nil ||
		c.ExposedPorts["8080/tcp"] == nil || c.Volumes["/app/state"] == nil || strings.Join(c.Entrypoint, " ") != "/bin/sh -c" {
		t.Errorf("configuration: %+v", cfg[0])
	}
	// HEALTHCHECK, ONBUILD and the history are in the image's own
	// configuration, which save writes out.
	raw := savedConfig(t, "it/multistage:1")
	for _, want := range []string{`"Healthcheck":{"Test":["CMD-SHELL","test -f /app/greeting.txt"]`, `"OnBuild":["RUN echo child"]`,
		`"created_by":"/bin/sh -c #(nop) USER appuser"`, `"created_by":"/bin/sh -c echo \"$GREETING\" \u003e /app/greeting.txt"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("saved configuration lacks %s:\n%s", want, raw)
		}
	}
	// Intermediate images are cache: images lists the result only.
	if strings.Contains(ok(t, "images", "--no-trunc"), id) == false {
		t.Errorf("images does not list %s", id)
	}
	// --target builds the first stage alone.
	r = sb(t, "build", "--target", "builder", "-q", dir)
	if r.code != 0 || !imageIDLine.MatchString(strings.TrimSpace(r.stdout)) || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("build -q --target builder: %s", r)
	}
	if got := run(t, strings.TrimSpace(r.stdout), "cat", "/out/version.txt"); got != "version=1.0 extra=default\n" {
		t.Errorf("target stage: %q", got)
	}
}

// savedConfig is an image's configuration JSON, as save writes it.
func savedConfig(t *testing.T, ref string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "img.tar")
	ok(t, "save", "-o", file, ref)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, ".json") || !strings.Contains(h.Name, "/") {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = data
		}
	}
	var m []struct{ Config string }
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || len(m) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	return string(files[m[0].Config])
}

// TestBuildHeredocNetwork: here-documents in RUN, and RUN without a
// network.
func TestBuildHeredocNetwork(t *testing.T) {
	t.Parallel()
	dir := writeContext(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM busybox
RUN <<EOF
echo doc-%d > /doc
EOF
RUN cat <<EOT >> /doc
second line
EOT
RUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /nets
`, time.Now().UnixNano())})
	id := strings.TrimSpace(ok(t, "build", "-q", "--network", "none", dir))
	if got := run(t, id, "sh", "-c", "cat /nets; tail -n 1 /doc"); got != "lo\nsecond line\n" {
		t.Errorf("heredocs and --network none: %q", got)
	}
}

// savedLayers lists the files of each layer of a docker-archive, in
// order, directories left out.
func savedLayers(t *testing.T, file string) [][]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	contents := map[string][]string{}
	var manifest []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "manifest.json" {
			if manifest, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
			continue
		}
		lr := tar.NewReader(tr)
		for {
			lh, err := lr.Next()
			if err != nil {
				break // not a layer, or its end
			}
			if lh.Typeflag != tar.TypeDir {
				contents[h.Name] = append(contents[h.Name], strings.TrimPrefix(lh.Name, "./"))
			}
		}
	}
	var m []struct{ Layers []string }
	if err := json.Unmarshal(manifest, &m); err != nil || len(m) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	var out [][]string
	for _, l := range m[0].Layers {
		out = append(out, contents[l])
	}
	return out
}

func TestBuildCache(t *testing.T) {
	t.Parallel()
	// A word of this test's own keeps other builds' layers out of the way.
	word := fmt.Sprintf("cache-%d", time.Now().UnixNano())
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN echo " + word + " > /first\nARG LATE=x\nCOPY a.txt /a\nRUN cat /first /a > /both && echo $LATE >> /both\nCMD [\"cat\", \"/both\"]\n",
		"a.txt":      "alpha\n",
	})
	build := func(args ...string) (string, []int) {
		t.Helper()
		r := sbWith(t, cmdOpts{timeout: 2 * time.Minute}, append(append([]string{"build"}, args...), dir)...)
		if r.code != 0 {
			t.Fatal(r)
		}
		// The steps (by number) that came from the cache.
		var hits []int
		step := 0
		for _, line := range strings.Split(r.stdout, "\n") {
			if n, err := fmt.Sscanf(line, "STEP %d/", &step); n == 1 && err == nil {
				continue
			}
			if strings.HasPrefix(line, "--> Using cache ") {
				hits = append(hits, step)
			}
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		return lines[len(lines)-1], hits
	}
	first, hits := build("-t", "it/cache:1")
	if len(hits) != 0 {
		t.Fatalf("first build used the cache at steps %v", hits)
	}
	second, hits := build("-t", "it/cache:1")
	if fmt.Sprint(hits) != "[2 4 5]" || second != first {
		t.Errorf("unchanged rebuild: cache hits at %v (want [2 4 5]), id %s then %s", hits, first, second)
	}
	// A touched file with the same content keeps the cache.
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	if _, hits = build(); fmt.Sprint(hits) != "[2 4 5]" {
		t.Errorf("after touching a.txt: cache hits at %v", hits)
	}
	// A changed source invalidates from its COPY on, not before.
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("beta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id, hits := build("-t", "it/cache:2")
	if fmt.Sprint(hits) != "[2]" {
		t.Errorf("after changing a.txt: cache hits at %v, want [2]", hits)
	}
	if got := run(t, id); got != word+"\nbeta\nx\n" {
		t.Errorf("rebuilt image: %q", got)
	}
	// A build argument invalidates the steps that see it.
	if _, hits = build("--build-arg", "LATE=y"); fmt.Sprint(hits) != "[2]" {
		t.Errorf("with --build-arg LATE=y: cache hits at %v, want [2]", hits)
	}
	// --no-cache builds anew; the tag moves to the new image.
	again, hits := build("--no-cache", "-t", "it/cache:2")
	if len(hits) != 0 || again == id {
		t.Errorf("--no-cache used the cache at %v (id %s, before %s)", hits, again, id)
	}
	if got := ok(t, "images", "-q", "--no-trunc", "it/cache:2"); !strings.Contains(got, again) || strings.Contains(got, id) {
		t.Errorf("it/cache:2 names %q, want %s", got, again)
	}
}

// TestBuildBadInput runs alone (not parallel): it checks that nothing is
// left behind, containers, mounts or images.
func TestBuildBadInput(t *testing.T) {
	ctxDir := writeContext(t, map[string]string{"a.txt": "a\n"})
	df := func(body string) string {
		p := filepath.Join(t.TempDir(), "Dockerfile")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	imagesBefore := ok(t, "images", "-q", "--no-trunc")
	mountsBefore := storeMounts(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"missing context", []string{"build", "/nonexistent/ctx"}, 125, []string{"/nonexistent/ctx"}},
		{"missing Dockerfile", []string{"build", "-f", "/nonexistent/Dockerfile", ctxDir}, 125, []string{"/nonexistent/Dockerfile"}},
		{"no Dockerfile in the context", []string{"build", ctxDir}, 125, []string{"no Containerfile or Dockerfile", ctxDir}},
		{"syntax error", []string{"build", "-f", df("FROM busybox\nRUN true\nENV\n"), ctxDir}, 125, []string{"Dockerfile:3", "ENV"}},
		{"unknown instruction", []string{"build", "-f", df("FROM busybox\nFOO bar\n"), ctxDir}, 125, []string{"Dockerfile:2", "unknown instruction: FOO"}},
		{"COPY source missing", []string{"build", "-f", df("FROM busybox\nCOPY nothere /x\n"), ctxDir}, 125, []string{"Dockerfile:2", "nothere", "not found"}},
		{"COPY source outside", []string{"build", "-f", df("FROM busybox\nCOPY ../a.txt /x\n"), ctxDir}, 125, []string{"../a.txt", "outside the build context"}},
		{"no such target", []string{"build", "--target", "nope", "-f", df("FROM busybox AS one\nRUN true\n"), ctxDir}, 125, []string{`"nope"`, "one"}},
		{"failing RUN", []string{"build", "-t", "it/never:1", "-f", df("FROM busybox\nCOPY a.txt /a\nRUN echo out; exit 3\n"), ctxDir}, 3, []string{`STEP "RUN echo out; exit 3"`, "exit status 3"}},
		{"bad --pull", []string{"build", "--pull=sometimes", ctxDir}, 125, []string{"sometimes", "missing, always or never"}},
		{"remote ADD", []string{"build", "-f", df("FROM busybox\nADD https://example.com/x /x\n"), ctxDir}, 125, []string{"https://example.com/x", "not supported"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sb(t, c.args...)
			if r.code != c.code {
				t.Fatalf("want exit %d: %s", c.code, r)
			}
			msg := strings.TrimSpace(r.stderr)
			if lines := strings.Split(msg, "\n"); c.code == 125 && len(lines) != 1 {
				t.Errorf("want one line of error: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
		})
	}
	if ids := buildContainers(t); len(ids) > 0 {
		t.Errorf("build containers left: %v", ids)
	}
	if got := ok(t, "images", "-q", "--no-trunc"); got != imagesBefore {
		t.Errorf("images changed:\n%s\nwas:\n%s", got, imagesBefore)
	}
	if got := storeMounts(t); strings.Join(got, " ") != strings.Join(mountsBefore, " ") {
		t.Errorf("mounts left: %v (before: %v)", got, mountsBefore)
	}
}

// TestBuildInterrupted presses ctrl-c during a RUN (SIGINT to the
// process group), then sends SIGTERM to the command alone: each time the
// build ends, and its container goes with it. Not parallel: no other
// build may run.
func TestBuildInterrupted(t *testing.T) {
	for _, group := range []bool{true, false} {
		dir := writeContext(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM busybox\nRUN echo started-%d; sleep 60\n", time.Now().UnixNano())})
		cmd := command(t.Context(), nil, "build", dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "started-") {
				break
			}
		}
		if len(buildContainers(t)) == 0 {
			t.Error("no build container while RUN runs")
		}
		start := time.Now()
		if group {
			err = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		} else {
			err = cmd.Process.Signal(syscall.SIGTERM)
		}
		if err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err == nil {
			t.Fatal("an interrupted build succeeded")
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("the build took %v to stop", d)
		}
		if ids := buildContainers(t); len(ids) > 0 {
			t.Errorf("build containers left after the signal (group %v): %v", group, ids)
		}
	}
}

// TestBuildImageTravels moves a built image through save, rmi, load, a
// registry and a fresh store, and a build context through stdin.
func TestBuildImageTravels(t *testing.T) {
	t.Parallel()
	word := fmt.Sprintf("travel-%d", time.Now().UnixNano())
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY msg /msg\nRUN echo " + word + " >> /msg\nCMD [\"cat\", \"/msg\"]\n",
		"msg":        "hello\n",
	})
	ok(t, "build", "-q", "-t", "it/travel:1", dir)
	want := "hello\n" + word + "\n"
	file := filepath.Join(t.TempDir(), "travel.tar")
	ok(t, "save", "-o", file, "it/travel:1")
	// The RUN's layer has its change and not the files its container had
	// mounted (/etc/hosts...).
	layers := savedLayers(t, file)
	if len(layers) != 3 || strings.Join(layers[2], " ") != "msg" {
		t.Errorf("the layers hold %q: want the base, msg, msg", layers)
	}
	ok(t, "rmi", "it/travel:1")
	ok(t, "load", "-i", file)
	if got := run(t, "it/travel:1"); got != want {
		t.Errorf("loaded image printed %q", got)
	}
	// A registry of its own: the shared one may be in use by others.
	addr, stop, err := registry(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ref := addr + "/it/travel:1"
	ok(t, "tag", "it/travel:1", ref)
	ok(t, "push", "-q", ref)
	root := filepath.Join(t.TempDir(), "root")
	stores := []string{"--root", root, "--runroot", filepath.Join(t.TempDir(), "runroot")}
	t.Cleanup(func() { sb(t, append(stores, "unshare", "rm", "-rf", root)...) })
	ok(t, append(stores, "pull", "-q", ref)...)
	if got := ok(t, append(stores, "run", "--rm", ref)...); got != want {
		t.Errorf("pulled into a fresh store, the image printed %q", got)
	}
	// build - reads the context as a tar on standard input.
	tarball, err := exec.Command("tar", "-C", dir, "-c", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	r := sbWith(t, cmdOpts{stdin: string(tarball)}, "build", "-q", "-t", "it/stdin:1", "-")
	if r.code != 0 {
		t.Fatal(r)
	}
	if got := run(t, "it/stdin:1"); got != want {
		t.Errorf("image built from stdin printed %q", got)
	}
	iid := filepath.Join(t.TempDir(), "iid")
	id := strings.TrimSpace(ok(t, "build", "-q", "--iidfile", iid, dir))
	if data, err := os.ReadFile(iid); err != nil || string(data) != "sha256:"+id {
		t.Errorf("--iidfile wrote %q (%v), want sha256:%s", data, err, id)
	}
}

func TestCommit(t *testing.T) {
	t.Parallel()
	name := fmt.Sprintf("commit-src-%d", time.Now().UnixNano())
	ok(t, "run", "--name", name, "-e", "FROMRUN=1", "busybox", "sh", "-c", "echo changed > /changed; rm /bin/true")
	t.Cleanup(func() { sb(t, "rm", "-f", name) })
	id := strings.TrimSpace(ok(t, "commit", "-c", `CMD ["cat", "/changed"]`, "-c", "ENV ADDED=yes", "-m", "a message", "-a", "Jane Doe", name, "it/committed:1"))
	if !imageIDLine.MatchString(id) {
		t.Fatalf("commit printed %q", id)
	}
	if got := run(t, "it/committed:1"); got != "changed\n" {
		t.Errorf("committed image printed %q", got)
	}
	if got := run(t, "it/committed:1", "sh", "-c", "echo $FROMRUN $ADDED; test -e /bin/true || echo deleted"); got != "1 yes\ndeleted\n" {
		t.Errorf("committed environment and deletion: %q", got)
	}
	if out := ok(t, "image", "inspect", "--format", "{{.Author}}", "it/committed:1"); !strings.Contains(out, "Jane Doe") {
		t.Errorf("author: %q", out)
	}
	if raw := savedConfig(t, "it/committed:1"); !strings.Contains(raw, `"comment":"a message"`) {
		t.Errorf("history lacks the message: %s", raw)
	}
	// A running container, paused while its changes are read.
	running := name + "-running"
	ok(t, "run", "-d", "--name", running, "busybox", "sh", "-c", "echo live > /live; sleep 60")
	t.Cleanup(func() { sb(t, "rm", "-f", running) })
	eventually(t, 10*time.Second, func() error {
		if r := sb(t, "exec", running, "test", "-e", "/live"); r.code != 0 {
			return fmt.Errorf("no /live yet: %s", r)
		}
		return nil
	})
	ok(t, "commit", "--pause", running, "it/committed:2")
	if got := run(t, "it/committed:2", "cat", "/live"); got != "live\n" {
		t.Errorf("committed running container: %q", got)
	}
	if st := ok(t, "inspect", "--format", "{{.State.Status}}", running); strings.TrimSpace(st) != "running" {
		t.Errorf("after commit --pause the container is %q", st)
	}
	fails(t, 125, []string{"no-such-container"}, "commit", "no-such-container")
	fails(t, 125, []string{"BAD:ref"}, "commit", name, "BAD:ref")
	fails(t, 125, []string{"FROM"}, "commit", "-c", "FROM busybox", name)
}

// TestBuildAgainstPodman builds the same Dockerfiles with podman build
// (buildah) and compares the step lines, the exit codes and the image's
// configuration.
func TestBuildAgainstPodman(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	good := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nARG WHO=world\nENV GREETING=hello\nRUN echo \"$GREETING $WHO\" > /greeting\nCOPY a.txt /data/\nWORKDIR /data\nUSER 1000:1000\nEXPOSE 80\nCMD [\"cat\", \"/greeting\"]\n",
		"a.txt":      "a\n",
	})
	steps := func(out string) []string {
		var s []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "STEP ") || strings.HasPrefix(l, "COMMIT") {
				s = append(s, l)
			}
		}
		return s
	}
	r := sbWith(t, cmdOpts{timeout: 2 * time.Minute}, "build", "--build-arg", "WHO=there", "-t", "it/vspodman:1", good)
	pr := p.run("build", "--build-arg", "WHO=there", "-t", "it/vspodman:1", good)
	if r.code != 0 || pr.code != 0 {
		t.Fatalf("%s\n%s", r, pr)
	}
	if got, want := strings.Join(steps(r.stdout), "\n"), strings.Join(steps(pr.stdout), "\n"); got != want {
		t.Errorf("step lines:\n%s\npodman's:\n%s", got, want)
	}
	if got, want := run(t, "it/vspodman:1"), p.ok(t, "run", "--rm", "it/vspodman:1"); got != want || got != "hello there\n" {
		t.Errorf("the image printed %q, podman's %q", got, want)
	}
	var ours, theirs []struct{ Config map[string]any }
	if err := json.Unmarshal([]byte(ok(t, "image", "inspect", "it/vspodman:1")), &ours); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(p.ok(t, "image", "inspect", "it/vspodman:1")), &theirs); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Cmd", "WorkingDir", "User", "ExposedPorts"} {
		if got, want := fmt.Sprint(ours[0].Config[k]), fmt.Sprint(theirs[0].Config[k]); got != want {
			t.Errorf("Config.%s = %s, podman's %s", k, got, want)
		}
	}
	// Exit codes of failures.
	for name, body := range map[string]string{
		"failing RUN":   "FROM busybox\nRUN exit 7\n",
		"missing COPY":  "FROM busybox\nCOPY nothere /x\n",
		"no such image": "FROM it/no-such-image:1\n",
	} {
		df := filepath.Join(t.TempDir(), "Dockerfile")
		if err := os.WriteFile(df, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := sb(t, "build", "--pull=never", "-f", df, good)
		pr := p.run("build", "--pull=never", "-f", df, good)
		if r.code != pr.code || r.code == 0 {
			t.Errorf("%s: exit %d, podman's %d\n%s\n%s", name, r.code, pr.code, r, pr)
		}
	}
}
