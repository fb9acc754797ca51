package integration

// Rootless integration tests of the commands that look at containers:
// logs (follow, tail, timestamps, since/until, rotated files), inspect of
// containers and images, ps filters, -l and -n, top, and container prune.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bgContainer starts a container with run -d and returns its full id; it
// is removed when the test ends.
func bgContainer(t *testing.T, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(ok(t, append([]string{"run", "-d"}, args...)...))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q, want a full id", id)
	}
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	return id
}

// removeAfter removes a named container when the test ends.
func removeAfter(t *testing.T, name string) {
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", name) })
}

func TestLogsFollow(t *testing.T) {
	t.Parallel()
	for _, rm := range []bool{false, true} {
		t.Run(fmt.Sprintf("rm=%v", rm), func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"-v", dir + ":/sync", "busybox", "sh", "-c",
				"echo first; while [ ! -e /sync/go ]; do sleep 0.05; done; echo second; echo third >&2"}
			if rm {
				args = append([]string{"--rm"}, args...)
			}
			id := bgContainer(t, args...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := command(ctx, nil, "logs", "-f", id)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The first line is there before anything more is written.
			buf := make([]byte, len("first\n"))
			if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "first\n" {
				t.Fatalf("logs -f began with %q (%v), want %q", buf, err, "first\n")
			}
			if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rest, err := io.ReadAll(stdout)
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("logs -f: %v: %s", err, stderr.String())
			}
			if ctx.Err() != nil {
				t.Fatal("logs -f did not end when the container exited")
			}
			if string(rest) != "second\n" || stderr.String() != "third\n" {
				t.Errorf("logs -f after the start: stdout %q, stderr %q; want %q and %q", rest, stderr.String(), "second\n", "third\n")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("logs -f took %v to end after the container was let go", d)
			}
		})
	}
}

func TestLogsOptions(t *testing.T) {
	t.Parallel()
	name := "logopts"
	removeAfter(t, name)
	ok(t, "run", "--name", name, "busybox", "sh", "-c",
		"echo a1; echo e1 >&2; printf part; sleep 0.2; echo ial; sleep 2.5; echo b1; echo b2")

	r := sb(t, "logs", name)
	if r.code != 0 || r.stdout != "a1\npartial\nb1\nb2\n" || r.stderr != "e1\n" {
		t.Fatalf("logs: %s", r)
	}
	if r := sb(t, "logs", "--tail", "2", name); r.stdout != "b1\nb2\n" || r.stderr != "" {
		t.Errorf("logs --tail 2: %s", r)
	}
	if r := sb(t, "logs", "--tail", "0", name); r.stdout != "" || r.stderr != "" {
		t.Errorf("logs --tail 0: %s", r)
	}
	if r := sb(t, "logs", "-n", "all", name); r.stdout != "a1\npartial\nb1\nb2\n" {
		t.Errorf("logs -n all: %s", r)
	}

	// -t: one RFC 3339 timestamp with nine decimals before each line, the
	// line joined from partial records included.
	r = sb(t, "logs", "-t", name)
	stamp := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$`)
	times := map[string]time.Time{}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		m := stamp.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("logs -t line %q: want TIMESTAMP TEXT", line)
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatal(err)
		}
		times[m[2]] = ts
	}
	if len(times) != 4 || times["partial"].IsZero() || !stamp.MatchString(strings.TrimSpace(r.stderr)) {
		t.Fatalf("logs -t: %s", r)
	}
	b1 := times["b1"]
	// The sleep leaves room for --since values cut to whole seconds.
	if b1.Sub(times["partial"]) < 2500*time.Millisecond {
		t.Fatalf("b1 at %v, partial at %v: want the sleep between them", b1, times["partial"])
	}

	before := b1.Add(-500 * time.Millisecond)
	cases := []struct {
		args           []string
		stdout, stderr string
	}{
		{[]string{"--since", b1.Format(time.RFC3339Nano)}, "b1\nb2\n", ""},
		{[]string{"--since", before.Format(time.RFC3339)}, "b1\nb2\n", ""},
		{[]string{"--since", before.Local().Format("2006-01-02T15:04:05.999999999")}, "b1\nb2\n", ""},
		{[]string{"--since", fmt.Sprintf("%d.%09d", before.Unix(), before.Nanosecond())}, "b1\nb2\n", ""},
		{[]string{"--until", before.Format(time.RFC3339Nano)}, "a1\npartial\n", "e1\n"},
		{[]string{"--until", strconv.FormatInt(before.Unix(), 10)}, "a1\npartial\n", "e1\n"},
		{[]string{"--since", "10m"}, "a1\npartial\nb1\nb2\n", "e1\n"},
		{[]string{"--until", "10m"}, "", ""},
		{[]string{"--since", "1h", "--until", before.Format(time.RFC3339Nano), "--tail", "1"}, "", ""},
		{[]string{"--since", before.Format(time.RFC3339Nano), "-t"}, b1.Format("2006-01-02T15:04:05.000000000Z") + " b1\n" +
			times["b2"].Format("2006-01-02T15:04:05.000000000Z") + " b2\n", ""},
	}
	for _, c := range cases {
		r := sb(t, append(append([]string{"logs"}, c.args...), name)...)
		if r.code != 0 || r.stdout != c.stdout || r.stderr != c.stderr {
			t.Errorf("logs %v: want stdout %q stderr %q\n%s", c.args, c.stdout, c.stderr, r)
		}
	}

	fails(t, 125, []string{"bogus", "--since"}, "logs", "--since", "bogus", name)
	fails(t, 125, []string{"2026-13-45", "--until"}, "logs", "--until", "2026-13-45", name)
	fails(t, 125, []string{"--tail", "lots"}, "logs", "--tail", "lots", name)
	fails(t, 125, []string{"no such container", "nologs"}, "logs", "nologs")
}

func TestLogsRotated(t *testing.T) {
	t.Parallel()
	name := "logrot"
	removeAfter(t, name)
	// One line at a time, so that the monitor writes (and rotates)
	// between lines: 150 lines of ~50 bytes in the log are over 3k.
	ok(t, "run", "--name", name, "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "busybox", "sh", "-c",
		`i=0; while [ $i -lt 150 ]; do echo "line $i"; i=$((i+1)); sleep 0.005; done`)
	logPath := strings.TrimSpace(ok(t, "inspect", "--format", "{{.LogPath}}", name))
	for _, f := range []string{logPath, logPath + ".1", logPath + ".2"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatalf("rotated log: %v", err)
		}
		if fi.Size() > 1024 {
			t.Errorf("%s has %d bytes, over max-size 1k", f, fi.Size())
		}
	}
	if _, err := os.Stat(logPath + ".3"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s.3: %v; want no such file (max-file 3)", logPath, err)
	}
	// What is kept is the last part, whole and in order, across the files.
	lines := strings.Split(strings.TrimSuffix(ok(t, "logs", name), "\n"), "\n")
	if len(lines) < 20 || len(lines) >= 150 {
		t.Fatalf("logs shows %d lines, want the last part of 150", len(lines))
	}
	first := 150 - len(lines)
	for i, l := range lines {
		if want := fmt.Sprintf("line %d", first+i); l != want {
			t.Fatalf("line %d of logs is %q, want %q", i, l, want)
		}
	}
	if out := ok(t, "logs", "--tail", "3", name); out != "line 147\nline 148\nline 149\n" {
		t.Errorf("logs --tail 3 of a rotated log: %q", out)
	}
	if opts := ok(t, "inspect", "--format", `{{index .HostConfig.LogConfig.Config "max-file"}} {{.HostConfig.LogConfig.Type}}`, name); opts != "3 k8s-file\n" {
		t.Errorf("inspect log config: %q", opts)
	}
}

// inspectDoc is the part of inspect's container document the tests read.
type inspectDoc struct {
	Id, Created, Path, Image, Name, LogPath, HostnamePath, Driver, Platform string
	Args                                                                    []string
	State                                                                   struct {
		Status                string
		Running               bool
		Pid, ExitCode         int
		StartedAt, FinishedAt string
	}
	HostConfig struct {
		Binds         []string
		NetworkMode   string
		AutoRemove    bool
		Tmpfs         map[string]string
		RestartPolicy struct{ Name string }
		LogConfig     struct {
			Type   string
			Config map[string]string
		}
	}
	GraphDriver struct{ Name string }
	Mounts      []struct {
		Type, Source, Destination, Mode string
		RW                              bool
	}
	Config struct {
		Hostname, Image, WorkingDir, StopSignal string
		Cmd, Env                                []string
		Labels                                  map[string]string
		StopTimeout                             *int
	}
	NetworkSettings struct{ Ports map[string]any }
}

func inspectOf(t *testing.T, args ...string) []inspectDoc {
	t.Helper()
	var docs []inspectDoc
	out := ok(t, append([]string{"inspect"}, args...)...)
	if err := json.Unmarshal([]byte(out), &docs); err != nil {
		t.Fatalf("inspect output: %v\n%s", err, out)
	}
	return docs
}

func TestInspectContainer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := "insp"
	removeAfter(t, name)
	r := sb(t, "run", "--name", name, "-v", dir+":/data:ro", "--tmpfs", "/scratch:size=1m", "--label", "team=obs",
		"--log-opt", "max-size=2k", "--stop-timeout", "7", "-w", "/tmp", "busybox", "sh", "-c", "exit 3")
	if r.code != 3 {
		t.Fatal(r)
	}
	if out := ok(t, "inspect", "--format", "{{.State.ExitCode}}", name); out != "3\n" {
		t.Errorf("inspect --format '{{.State.ExitCode}}': %q, want 3", out)
	}
	docs := inspectOf(t, name)
	if len(docs) != 1 {
		t.Fatalf("inspect of one container gave %d documents", len(docs))
	}
	d := docs[0]
	if len(d.Id) != 64 {
		t.Fatalf("inspect Id %q", d.Id)
	}
	imageID := strings.TrimPrefix(strings.TrimSpace(ok(t, "images", "-q", "--no-trunc", "busybox")), "sha256:")
	checks := []struct {
		what      string
		got, want any
	}{
		{"Id", regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(d.Id), true},
		{"Name", d.Name, "/" + name},
		{"Path", d.Path, "sh"},
		{"Args", strings.Join(d.Args, "|"), "-c|exit 3"},
		{"Image", d.Image, "sha256:" + imageID},
		{"Platform", d.Platform, "linux"},
		{"Driver", d.Driver != "" && d.Driver == d.GraphDriver.Name, true},
		{"State.Status", d.State.Status, "exited"},
		{"State.Running", d.State.Running, false},
		{"State.Pid", d.State.Pid, 0},
		{"State.ExitCode", d.State.ExitCode, 3},
		{"HostConfig.Binds", strings.Join(d.HostConfig.Binds, ","), dir + ":/data:ro"},
		{"HostConfig.NetworkMode", d.HostConfig.NetworkMode, "slirp4netns"},
		{"HostConfig.Tmpfs", d.HostConfig.Tmpfs["/scratch"], "size=1m"},
		{"HostConfig.RestartPolicy", d.HostConfig.RestartPolicy.Name, "no"},
		{"HostConfig.LogConfig.Type", d.HostConfig.LogConfig.Type, "k8s-file"},
		{"HostConfig.LogConfig max-size", d.HostConfig.LogConfig.Config["max-size"], "2048"},
		{"Config.Image", d.Config.Image, "busybox"},
		{"Config.Cmd", strings.Join(d.Config.Cmd, "|"), "sh|-c|exit 3"},
		{"Config.WorkingDir", d.Config.WorkingDir, "/tmp"},
		{"Config.Labels", d.Config.Labels["team"], "obs"},
		{"Config.StopSignal", d.Config.StopSignal, "SIGTERM"},
		{"Config.StopTimeout", d.Config.StopTimeout != nil && *d.Config.StopTimeout == 7, true},
		{"Config.Hostname", d.Config.Hostname, d.Id[:12]},
		{"NetworkSettings.Ports", d.NetworkSettings.Ports != nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	var mounts []string
	for _, m := range d.Mounts {
		mounts = append(mounts, fmt.Sprintf("%s %s %s %s %v", m.Type, m.Source, m.Destination, m.Mode, m.RW))
	}
	if want := []string{"bind " + dir + " /data ro false", "tmpfs  /scratch size=1m true"}; strings.Join(mounts, "\n") != strings.Join(want, "\n") {
		t.Errorf("Mounts:\n%s\nwant:\n%s", strings.Join(mounts, "\n"), strings.Join(want, "\n"))
	}
	for _, ts := range []string{d.Created, d.State.StartedAt, d.State.FinishedAt} {
		if tm, err := time.Parse(time.RFC3339Nano, ts); err != nil || time.Since(tm) > time.Hour || time.Since(tm) < 0 {
			t.Errorf("time %q: %v, want a recent RFC 3339 time", ts, err)
		}
	}
	if data, err := os.ReadFile(d.HostnamePath); err != nil || string(data) != d.Id[:12]+"\n" {
		t.Errorf("HostnamePath %s: %q, %v", d.HostnamePath, data, err)
	}
	if _, err := os.Stat(d.LogPath); err != nil {
		t.Errorf("LogPath: %v", err)
	}

	// A running container, found by id prefix, with its pid.
	id := bgContainer(t, "busybox", "sleep", "30")
	run := inspectOf(t, id[:10])
	if len(run) != 1 || run[0].Id != id || !run[0].State.Running || run[0].State.Status != "running" || run[0].State.Pid <= 0 {
		t.Fatalf("inspect of a running container: %+v", run)
	}
	if !processAlive(run[0].State.Pid) {
		t.Errorf("State.Pid %d is not a live process", run[0].State.Pid)
	}
	if out := ok(t, "container", "inspect", "--format", "{{.State.Status}} {{.State.Pid}} {{json .Config.Cmd}}", id); out != fmt.Sprintf("running %d [\"sleep\",\"30\"]\n", run[0].State.Pid) {
		t.Errorf("container inspect --format: %q", out)
	}
	// Two at once, in order.
	if both := inspectOf(t, name, id); len(both) != 2 || both[0].Name != "/"+name || both[1].Id != id {
		t.Errorf("inspect of two containers: %+v", both)
	}
	if out := ok(t, "inspect", "--type", "container", "--format", "{{.Name}}", name); out != "/"+name+"\n" {
		t.Errorf("inspect --type container: %q", out)
	}
}

func TestInspectErrors(t *testing.T) {
	t.Parallel()
	r := fails(t, 125, []string{"no such object", "nosuchthing"}, "inspect", "nosuchthing")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("inspect of nothing printed %q, want []", r.stdout)
	}
	fails(t, 125, []string{"no such object", "Not/Valid"}, "inspect", "Not/Valid")
	fails(t, 125, []string{"no such container", "busybox"}, "inspect", "--type", "container", "busybox")
	fails(t, 125, []string{"no such image", "nosuchimage"}, "image", "inspect", "nosuchimage")
	fails(t, 125, []string{"--type", "volume"}, "inspect", "--type", "volume", "busybox")
	fails(t, 125, []string{"{{.Nope"}, "inspect", "--format", "{{.Nope", "busybox")
	fails(t, 125, []string{"Nope"}, "inspect", "--format", "{{.Nope}}", "busybox")
	// What is found is printed; what is not is the error.
	r = sb(t, "inspect", "--format", "{{.Id}}", "busybox", "nosuchthing")
	if r.code != 125 || !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(r.stdout) || !strings.Contains(r.stderr, "no such object: nosuchthing") {
		t.Errorf("inspect of one image and one unknown name:\n%s", r)
	}
}

func TestInspectImage(t *testing.T) {
	t.Parallel()
	imageID := strings.TrimPrefix(strings.TrimSpace(ok(t, "images", "-q", "--no-trunc", "busybox")), "sha256:")
	for _, args := range [][]string{{"inspect", "busybox"}, {"image", "inspect", "busybox"}, {"inspect", "--type", "image", imageID[:12]}} {
		var docs []struct {
			Id, Created, Os, Architecture string
			RepoTags, RepoDigests         []string
			Size                          int64
			Config                        struct{ Cmd []string }
			RootFS                        struct {
				Type   string
				Layers []string
			}
		}
		out := ok(t, args...)
		if err := json.Unmarshal([]byte(out), &docs); err != nil || len(docs) != 1 {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		d := docs[0]
		if d.Id != "sha256:"+imageID || !containsStr(d.RepoTags, "busybox:latest") || strings.Join(d.Config.Cmd, " ") != "sh" ||
			d.Os != "linux" || d.Architecture != runtime.GOARCH || d.Size <= 0 || d.RootFS.Type != "layers" || len(d.RootFS.Layers) != 1 {
			t.Errorf("%v: %+v", args, d)
		}
		if _, err := time.Parse(time.RFC3339Nano, d.Created); err != nil {
			t.Errorf("%v: Created %q: %v", args, d.Created, err)
		}
	}
	if out := ok(t, "image", "inspect", "--format", "{{.Id}} {{.Config.Cmd}} {{.Os}}", "busybox"); out != "sha256:"+imageID+" [sh] linux\n" {
		t.Errorf("image inspect --format: %q", out)
	}
}

func containsStr(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// psNames lists the names ps prints with args, sorted.
func psNames(t *testing.T, args ...string) string {
	t.Helper()
	out := ok(t, append(append([]string{"ps"}, args...), "--format", "{{.Names}}")...)
	names := strings.Fields(out)
	sort.Strings(names)
	return strings.Join(names, " ")
}

func TestPsFilters(t *testing.T) {
	t.Parallel()
	// Every query is limited to this test's containers by name (a filter
	// of another key ands with it).
	imageWith(t, "psf/img:1", "LABEL psf=1")
	runID := bgContainer(t, "--name", "psf-run", "--label", "tier=web", "busybox", "sleep", "30")
	removeAfter(t, "psf-exit")
	ok(t, "run", "--name", "psf-exit", "--label", "tier=db", "busybox", "true")
	removeAfter(t, "psf-new")
	ok(t, "create", "--name", "psf-new", "busybox", "true")
	removeAfter(t, "psf-other")
	ok(t, "create", "--name", "psf-other", "psf/img:1", "true")
	otherImage := strings.TrimSpace(ok(t, "images", "-q", "psf/img:1"))

	mine := "name=^psf-"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--filter", mine}, "psf-run"},
		{[]string{"-a", "--filter", mine}, "psf-exit psf-new psf-other psf-run"},
		{[]string{"--filter", mine, "--filter", "status=running"}, "psf-run"},
		// A status filter lists every state, as -a does.
		{[]string{"--filter", mine, "--filter", "status=exited"}, "psf-exit"},
		{[]string{"--filter", mine, "--filter", "status=created", "--filter", "status=exited"}, "psf-exit psf-new psf-other"},
		{[]string{"--filter", mine, "--filter", "status=paused"}, ""},
		{[]string{"-a", "--filter", "name=^psf-(run|new)$"}, "psf-new psf-run"},
		{[]string{"-a", "--filter", "name=^/psf-exit$"}, "psf-exit"},
		{[]string{"-a", "--filter", mine, "--filter", "label=tier"}, "psf-exit psf-run"},
		{[]string{"-a", "--filter", mine, "--filter", "label=tier=db"}, "psf-exit"},
		// Label filters are all to match, as docker's and podman's.
		{[]string{"-a", "--filter", mine, "--filter", "label=tier=db", "--filter", "label=tier=web"}, ""},
		{[]string{"-a", "--filter", mine, "--filter", "label=tier", "--filter", "label=tier=db"}, "psf-exit"},
		{[]string{"-a", "--filter", mine, "--filter", "label=psf"}, "psf-other"}, // the image's label
		{[]string{"-a", "--filter", mine, "--filter", "ancestor=psf/img:1"}, "psf-other"},
		{[]string{"-a", "--filter", mine, "--filter", "ancestor=" + otherImage}, "psf-other"},
		{[]string{"-a", "--filter", mine, "--filter", "ancestor=busybox"}, "psf-exit psf-new psf-run"},
		{[]string{"-a", "--filter", mine, "--filter", "ancestor=nosuch/image"}, ""},
		{[]string{"-a", "--filter", mine, "--filter", "id=" + runID[:8]}, "psf-run"},
		{[]string{"-a", "--filter", mine, "--filter", "status=exited", "--filter", "label=tier=web"}, ""},
	}
	for _, c := range cases {
		if got := psNames(t, c.args...); got != c.want {
			t.Errorf("ps %v: %q, want %q", c.args, got, c.want)
		}
	}
	if out := ok(t, "ps", "-q", "--no-trunc", "--filter", "id="+runID[:8]); out != runID+"\n" {
		t.Errorf("ps -q with an id filter: %q", out)
	}
	if out := ok(t, "ps", "--filter", "name=^psf-run$", "--format", `{{.Label "tier"}} {{.Size}}`); !strings.HasPrefix(out, "web 0B (virtual ") {
		t.Errorf(`ps --format '{{.Label "tier"}}': %q`, out)
	}
	for _, c := range []struct{ filter, want string }{
		{"bogus=1", "bogus"}, {"status=sleeping", "sleeping"}, {"name=[", "name=["}, {"label", "label"}, {"status=", "status="},
	} {
		fails(t, 125, []string{"invalid filter", c.want}, "ps", "--filter", c.filter)
	}
}

func TestPsLatest(t *testing.T) {
	// Not parallel: -l and -n look at every container.
	removeAfter(t, "latest1")
	removeAfter(t, "latest2")
	ok(t, "create", "--name", "latest1", "busybox", "true")
	time.Sleep(10 * time.Millisecond)
	id2 := strings.TrimSpace(ok(t, "create", "--name", "latest2", "busybox", "true"))
	if got := psNames(t, "-l"); got != "latest2" {
		t.Errorf("ps -l: %q, want the created container latest2", got)
	}
	if got := psNames(t, "--latest", "-a"); got != "latest2" {
		t.Errorf("ps --latest -a: %q", got)
	}
	if out := ok(t, "ps", "-n", "2", "--format", "{{.Names}}"); out != "latest2\nlatest1\n" {
		t.Errorf("ps -n 2: %q, want latest2 then latest1", out)
	}
	if out := ok(t, "ps", "--last", "1", "-q", "--no-trunc"); out != id2+"\n" {
		t.Errorf("ps --last 1 -q: %q", out)
	}
	if got := psNames(t, "-n", "5", "--filter", "name=^latest1$"); got != "latest1" {
		t.Errorf("ps -n with a filter: %q", got)
	}
}

// topRows runs top and returns its rows split into fields, header first.
func topRows(t *testing.T, args ...string) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(ok(t, append([]string{"top"}, args...)...), "\n"), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func TestTop(t *testing.T) {
	t.Parallel()
	id := bgContainer(t, "-u", "37", "busybox", "sh", "-c", "sleep 30 & sleep 30")
	var rows [][]string
	eventually(t, 10*time.Second, func() error {
		rows = topRows(t, id)
		if len(rows) != 3 {
			return fmt.Errorf("top shows %d lines, want a header and two processes: %q", len(rows), rows)
		}
		// The shell's child runs sh until it has executed sleep.
		for _, r := range rows[1:] {
			if len(r) > 7 && r[7] == "sh" {
				return fmt.Errorf("a process has not executed sleep yet: %q", r)
			}
		}
		return nil
	})
	if h := strings.Join(rows[0], " "); h != "USER PID PPID %CPU ELAPSED TTY TIME COMMAND" {
		t.Errorf("top header %q", h)
	}
	// The container's pids; the user named by its own /etc/passwd (37 is
	// operator there, list on Debian hosts).
	first, second := rows[1], rows[2]
	if len(first) != 9 || first[0] != "operator" || first[1] != "1" || first[2] != "0" || first[5] != "?" || first[7] != "sleep" || first[8] != "30" {
		t.Errorf("top first process %q", first)
	}
	if len(second) != 9 || second[0] != "operator" || second[1] == "1" || second[2] != "1" || second[7] != "sleep" {
		t.Errorf("top second process %q", second)
	}
	for _, r := range rows[1:] {
		if _, err := strconv.ParseFloat(r[3], 64); err != nil {
			t.Errorf("%%CPU %q: %v", r[3], err)
		}
		if _, err := time.ParseDuration(r[4]); err != nil {
			t.Errorf("ELAPSED %q: %v", r[4], err)
		}
	}
	// ps options are accepted and ignored.
	if withOpts := topRows(t, id, "-ef"); len(withOpts) != 3 {
		t.Errorf("top with ps options: %q", withOpts)
	}
	ok(t, "kill", id)
	eventually(t, 10*time.Second, func() error {
		if r := sb(t, "top", id); r.code != 125 || !strings.Contains(r.stderr, "not running") {
			return fmt.Errorf("top of a stopped container: %s", r)
		}
		return nil
	})
	fails(t, 125, []string{"no such container", "notop"}, "top", "notop")
}

func TestContainerPrune(t *testing.T) {
	// Not parallel: it removes every container that is not running.
	removeAfter(t, "prune-created")
	created := strings.TrimSpace(ok(t, "create", "--name", "prune-created", "busybox", "true"))
	removeAfter(t, "prune-exited")
	ok(t, "run", "--name", "prune-exited", "busybox", "true")
	exited := strings.TrimSpace(ok(t, "ps", "-aq", "--no-trunc", "--filter", "name=^prune-exited$"))
	running := bgContainer(t, "--name", "prune-running", "busybox", "sleep", "30")

	// Without -f it asks; with no terminal to ask on, it refuses, and on
	// a terminal anything but y keeps everything.
	fails(t, 125, []string{"-f"}, "container", "prune")
	if out := pruneAnswering(t, "n"); out != "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] Total reclaimed space: 0B\n" {
		t.Errorf("prune answered n printed %q", out)
	}
	if got := psNames(t, "-a", "--filter", "name=^prune-"); got != "prune-created prune-exited prune-running" {
		t.Fatalf("prune without -f removed something: %q", got)
	}

	out := ok(t, "container", "prune", "-f")
	m := regexp.MustCompile(`^Deleted Containers:\n((?:[0-9a-f]{64}\n)+)\nTotal reclaimed space: [0-9.]+[kMG]?B\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("container prune -f printed:\n%s", out)
	}
	deleted := strings.Fields(m[1])
	if !containsStr(deleted, created) || !containsStr(deleted, exited) || containsStr(deleted, running) {
		t.Errorf("deleted %v; want %.12s and %.12s, not %.12s", deleted, created, exited, running)
	}
	if got := psNames(t, "-a", "--filter", "name=^prune-"); got != "prune-running" {
		t.Errorf("after prune: %q, want only the running container", got)
	}
	if r := psNames(t, "-a", "--filter", "status=exited", "--filter", "status=created"); r != "" {
		t.Errorf("containers that do not run left after prune: %q", r)
	}
	if out := ok(t, "container", "prune", "--force"); out != "Total reclaimed space: 0B\n" {
		t.Errorf("prune with nothing to remove: %q", out)
	}
	// Answered y on a terminal, it removes.
	removeAfter(t, "prune-again")
	again := strings.TrimSpace(ok(t, "create", "--name", "prune-again", "busybox", "true"))
	if out := pruneAnswering(t, "y"); !strings.Contains(out, "[y/N] Deleted Containers:\n"+again+"\n") {
		t.Errorf("prune answered y printed %q", out)
	}
}

// pruneAnswering runs container prune with a terminal as its standard
// input, answers its question, and returns what it printed.
func pruneAnswering(t *testing.T, answer string) string {
	t.Helper()
	master, slave := openPty(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "container", "prune")
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte(answer + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("container prune answered %q: %v: %s", answer, err, stderr.String())
	}
	return stdout.String()
}
