package integration

// Rootless integration tests of the run and create flags that scripts
// use: --replace, --tz, --timeout, --init, the JSON --entrypoint, --pull's
// spellings, --memory=0 and -a. Where podman's output is meant to be the
// same, the reference runs beside sandbox.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunReplace: --replace removes a container of the same name, running
// or only created, and needs --name.
func TestRunReplace(t *testing.T) {
	t.Parallel()
	const name = "run-replace"
	old := detached(t, "--name", name, "busybox", "sleep", "60")
	waitState(t, old, "running")
	id := detached(t, "--replace", "--name", name, "busybox", "sleep", "60")
	if id == old {
		t.Fatal("--replace kept the old container")
	}
	if ids := strings.Join(containerIDs(t), " "); strings.Contains(ids, old) {
		t.Errorf("the replaced container %.12s is still there", old)
	}
	created := strings.TrimSpace(ok(t, "create", "--replace", "--name", name, "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", created) })
	if ids := strings.Join(containerIDs(t), " "); strings.Contains(ids, id) || !strings.Contains(ids, created) {
		t.Errorf("create --replace: want only %.12s named %s, have %s", created, name, ids)
	}
	// A name no container has is no error.
	if out := run(t, "--replace", "--name", "run-replace-none", "busybox", "echo", "hi"); out != "hi\n" {
		t.Errorf("run --replace with a free name printed %q", out)
	}
	fails(t, 125, []string{"--replace", "--name"}, "run", "--rm", "--replace", "busybox", "true")
}

// TestRunTimezone: --tz binds the zone's file on /etc/localtime, as
// podman does; local is the host's own zone.
func TestRunTimezone(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	for _, tz := range []string{"Asia/Tokyo", "America/New_York", "local"} {
		args := []string{"run", "--rm", "--tz", tz, "busybox", "date", "+%Z"}
		got := ok(t, args...)
		if want := p.ok(t, args...); got != want {
			t.Errorf("--tz %s: sandbox says %q, podman %q", tz, got, want)
		}
	}
	if got := run(t, "--tz", "Asia/Tokyo", "busybox", "date", "+%Z"); got != "JST\n" {
		t.Errorf("--tz Asia/Tokyo: date says %q, want JST", got)
	}
	host, err := exec.Command("date", "+%Z").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, "--tz", "local", "busybox", "date", "+%Z"); got != string(host) {
		t.Errorf("--tz local: date says %q, the host %q", got, host)
	}
	refusedRun(t, "run-refused-1", []string{`"Bad/Zone"`, "IANA"}, "run", "--rm", "--tz", "Bad/Zone", "busybox", "true")
	refusedRun(t, "run-refused-2", []string{`"../../etc/passwd"`, "IANA"}, "create", "--tz", "../../etc/passwd", "busybox", "true")
}

// TestRunTimeout: --timeout kills the container after that many seconds.
func TestRunTimeout(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := sb(t, "run", "--rm", "--timeout", "1", "busybox", "sleep", "30")
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("--timeout 1: the container ran %v", took)
	}
	// Killed by SIGKILL: 128+9. Podman 4.3 (conmon) exits 255 here.
	if r.code != 137 {
		t.Errorf("--timeout: want exit 137\n%s", r)
	}
	if out := run(t, "--timeout", "30", "busybox", "echo", "in time"); out != "in time\n" {
		t.Errorf("--timeout 30: %q", out)
	}
	// A flag value that does not parse: cobra's words and usage hint, as
	// podman's.
	if r := sb(t, "run", "--rm", "--timeout", "-1", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, `"-1" for "--timeout"`) {
		t.Errorf("--timeout -1: want exit 125 naming the value\n%s", r)
	}
}

// TestRunInit: --init runs catatonit as pid 1 with the command as its
// child, as podman's --init does; the command's status is the container's.
func TestRunInit(t *testing.T) {
	t.Parallel()
	out := run(t, "--init", "busybox", "sh", "-c", `echo $$; tr '\0' ' ' </proc/1/cmdline`)
	pid, cmdline, _ := strings.Cut(out, "\n")
	if pid == "1" || cmdline != "/dev/init -- sh -c echo $$; tr '\\0' ' ' </proc/1/cmdline " {
		t.Errorf("--init: want the command under /dev/init as pid 1, have %q", out)
	}
	if r := sb(t, "run", "--rm", "--init", "busybox", "sh", "-c", "exit 3"); r.code != 3 {
		t.Errorf("--init: want the command's exit 3\n%s", r)
	}
	// A shell as pid 1 ignores SIGTERM; under the init, stop ends it at once.
	id := detached(t, "--init", "busybox", "sh", "-c", "sleep 60 & wait")
	waitState(t, id, "running")
	start := time.Now()
	ok(t, "stop", "-t", "20", id)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stop of an --init container took %v", took)
	}
}

// TestRunEntrypointJSON: --entrypoint takes docker's JSON array form; the
// image's Cmd goes, as with the plain form.
func TestRunEntrypointJSON(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	for _, args := range [][]string{
		{"--entrypoint", `["echo","a b","c"]`, "busybox", "d"},
		{"--entrypoint", `["sh","-c","echo $0 $1","x"]`, "busybox", "y"},
		{"--entrypoint", "echo", "busybox", "plain"},
	} {
		full := append([]string{"run", "--rm"}, args...)
		got := ok(t, full...)
		if want := p.ok(t, full...); got != want {
			t.Errorf("%q: sandbox printed %q, podman %q", args, got, want)
		}
	}
	if got := run(t, "--entrypoint", `["echo","a b","c"]`, "busybox", "d"); got != "a b c d\n" {
		t.Errorf("JSON entrypoint: %q", got)
	}
	fails(t, 125, []string{"invalid --entrypoint", "JSON array"}, "run", "--rm", "--entrypoint", `["echo",`, "busybox")
}

// TestRunPullSpellings: --pull always, missing, never and newer (as
// missing) in any case; podman 4.3 refuses true and false, and so does
// sandbox.
func TestRunPullSpellings(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	for _, pull := range []string{"missing", "newer", "never", "Never", "MISSING"} {
		if out := run(t, "--pull", pull, "busybox", "echo", "ok"); out != "ok\n" {
			t.Errorf("--pull %s: %q", pull, out)
		}
	}
	for _, pull := range []string{"true", "false", "sometimes"} {
		fails(t, 125, []string{`"` + pull + `"`, "always, missing, never or newer"}, "run", "--rm", "--pull", pull, "busybox", "true")
		if r := p.run("run", "--rm", "--pull", pull, "busybox", "true"); r.code != 125 {
			t.Errorf("podman takes --pull %s:\n%s", pull, r)
		}
	}
	fails(t, 125, []string{"no-such-image"}, "run", "--rm", "--pull", "never", "no-such-image", "true")
}

// TestRunMemoryZero: --memory=0 is no limit, and needs no cgroup.
func TestRunMemoryZero(t *testing.T) {
	t.Parallel()
	if out := run(t, "--memory=0", "busybox", "echo", "ok"); out != "ok\n" {
		t.Errorf("--memory=0: %q", out)
	}
	fails(t, 125, []string{`"1m"`, "6m"}, "run", "--rm", "--memory=1m", "busybox", "true")
}

// TestRunAttachStreams: -a attaches only the streams named; with -d it is
// an error, as in docker.
func TestRunAttachStreams(t *testing.T) {
	t.Parallel()
	const both = "echo out; echo err >&2"
	for _, tc := range []struct {
		attach   []string
		out, err string
	}{
		{nil, "out\n", "err\n"},
		{[]string{"-a", "stdout"}, "out\n", ""},
		{[]string{"-a", "STDERR"}, "", "err\n"},
		{[]string{"-a", "stdout", "-a", "stderr"}, "out\n", "err\n"},
	} {
		args := append(append([]string{"run", "--rm"}, tc.attach...), "busybox", "sh", "-c", both)
		r := sb(t, args...)
		if r.code != 0 || r.stdout != tc.out || r.stderr != tc.err {
			t.Errorf("%q: want stdout %q, stderr %q\n%s", tc.attach, tc.out, tc.err, r)
		}
	}
	// Standard input goes in only with -i and -a stdin (or no -a).
	if r := sbWith(t, cmdOpts{stdin: "in\n"}, "run", "--rm", "-i", "-a", "stdin", "-a", "stdout", "busybox", "cat"); r.code != 0 || r.stdout != "in\n" {
		t.Errorf("-i -a stdin -a stdout: %s", r)
	}
	// Without -a stdin the container's input stays open and empty, as in
	// docker: a read waits (here until its timeout).
	if r := sbWith(t, cmdOpts{stdin: "in\n"}, "run", "--rm", "-i", "-a", "stdout", "busybox", "sh", "-c", `read -t 2 l; echo "got:$l"`); r.code != 0 || r.stdout != "got:\n" {
		t.Errorf("-i -a stdout: standard input went in: %s", r)
	}
	refusedRun(t, "run-refused-3", []string{"-a", "-d"}, "run", "-d", "-a", "stdout", "busybox", "true")
	refusedRun(t, "run-refused-4", []string{`"tty"`, "STDIN, STDOUT or STDERR"}, "run", "--rm", "-a", "tty", "busybox", "true")
}

// TestRunAnonymousVolume: -v /PATH is a directory of the container's own,
// owned by its root, kept across starts and removed with the container.
func TestRunAnonymousVolume(t *testing.T) {
	t.Parallel()
	id := strings.TrimSpace(ok(t, "create", "-v", "/data", "busybox", "sh", "-c", "cat /data/f 2>/dev/null; echo kept >/data/f; stat -c %u:%g /data"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	if out := ok(t, "start", "-a", id); out != "0:0\n" {
		t.Errorf("first start: %q", out)
	}
	if out := ok(t, "start", "-a", id); out != "kept\n0:0\n" {
		t.Errorf("second start: %q", out)
	}
	// An anonymous volume of the store's (volume ls lists it), which rm
	// -v removes with the container.
	name := strings.TrimSpace(ok(t, "inspect", "--format", "{{range .Mounts}}{{.Name}}{{end}}", id))
	dir := filepath.Join(env.root, "volumes", name, "_data")
	if _, err := os.Stat(dir); name == "" || err != nil {
		t.Fatalf("the volume's directory: %q, %v", dir, err)
	}
	ok(t, "rm", "-v", id)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rm -v left the volume %s: %v", dir, err)
	}
	fails(t, 125, []string{`"data"`, "absolute"}, "run", "--rm", "-v", "data", "busybox", "true")
}

// TestRunVolumeChown: -v SRC:DST:U gives the source, recursively, to the
// container's user as podman does (the same host ids); :z and :Z are
// accepted and do nothing without SELinux.
func TestRunVolumeChown(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	hostOwner := func(dir string) string {
		out, err := exec.Command("stat", "-c", "%u:%g", dir, filepath.Join(dir, "sub", "f")).Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	var owners []string
	for _, tool := range []string{"sandbox", "podman"} {
		dir := filepath.Join(t.TempDir(), "vol")
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sub", "f"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"run", "--rm", "-u", "1000:1000", "-v", dir + ":/d:U,z", "busybox", "stat", "-c", "%u:%g", "/d", "/d/sub/f"}
		var out string
		if tool == "sandbox" {
			out = ok(t, args...)
		} else {
			out = p.ok(t, args...)
		}
		if out != "1000:1000\n1000:1000\n" {
			t.Errorf("%s: -v :U: owners inside %q", tool, out)
		}
		owners = append(owners, hostOwner(dir))
		// Give it back, so that the test's clean-up can remove it.
		ok(t, "run", "--rm", "-v", dir+":/d:U,Z", "busybox", "true")
	}
	if owners[0] != owners[1] {
		t.Errorf("-v :U: host owners: sandbox %q, podman %q", owners[0], owners[1])
	}
}

// TestRunNetworkBridgeCIDR: --network bridge is the default network, as
// for rootless podman; slirp4netns:cidr= moves the container's network
// and the addresses it is told of.
func TestRunNetworkBridgeCIDR(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	// The nameservers are left out: podman puts slirp4netns's first, sandbox
	// only when the host's resolver is on its loopback.
	const show = "ip -4 -o addr show tap0 | awk '{print $4}'; ip route | awk '/default/{print $3}'"
	def := run(t, "busybox", "sh", "-c", show)
	if got := run(t, "--network", "bridge", "busybox", "sh", "-c", show); got != def {
		t.Errorf("--network bridge: %q, the default: %q", got, def)
	}
	args := []string{"run", "--rm", "--network", "slirp4netns:cidr=10.0.3.0/24", "busybox", "sh", "-c", show}
	got := ok(t, args...)
	if want := "10.0.3.100/24\n10.0.3.2\n"; got != want {
		t.Errorf("cidr=10.0.3.0/24: %q, want %q", got, want)
	}
	if want := p.ok(t, args...); got != want {
		t.Errorf("cidr=10.0.3.0/24: sandbox %q, podman %q", got, want)
	}
	fails(t, 125, []string{`cidr="10.0.3.0/28"`, "prefix length"}, "run", "--rm", "--network", "slirp4netns:cidr=10.0.3.0/28", "busybox", "true")
}

// TestRunLogDriver: --log-driver none writes no log (logs says so, as
// podman's); json-file is k8s-file by another name; --log-opt path= puts
// the log there. passthrough: the container writes to the caller's own
// streams (a pipe here) and reads its standard input, as podman's; no log;
// refused with -t.
func TestRunLogDriver(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	dir := t.TempDir()
	for _, tool := range []string{"sandbox", "podman"} {
		name := "log-driver-none-" + tool
		args := []string{"run", "--name", name, "--log-driver", "none", "busybox", "echo", "shown"}
		logs := []string{"logs", name}
		var out string
		var r result
		if tool == "sandbox" {
			t.Cleanup(func() { sbRaw(nil, "rm", "-f", name) })
			out, r = ok(t, args...), sb(t, logs...)
		} else {
			out, r = p.ok(t, args...), p.run(logs...)
		}
		if out != "shown\n" {
			t.Errorf("%s: --log-driver none: a foreground run printed %q", tool, out)
		}
		if want := "this container is using the 'none' log driver"; r.code != 125 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: logs of a none container: want exit 125 saying %q\n%s", tool, want, r)
		}
	}
	file := filepath.Join(dir, "c.log")
	id := strings.TrimSpace(ok(t, "run", "-d", "--log-driver", "json-file", "--log-opt", "path="+file, "busybox", "echo", "to the file"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	ok(t, "wait", id)
	if out := ok(t, "logs", id); out != "to the file\n" {
		t.Errorf("logs with path=: %q", out)
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.HasSuffix(string(data), " stdout F to the file\n") {
		t.Errorf("the log at path=: %q, %v", data, err)
	}
	if out := ok(t, "inspect", "--format", "{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Path}} {{.LogPath}}", id); out != "json-file "+file+" "+file+"\n" {
		t.Errorf("inspect: %q", out)
	}
	for _, tool := range []string{"sandbox", "podman"} {
		name := "log-driver-pass-" + tool
		args := []string{"run", "--name", name, "--log-driver", "passthrough", "busybox", "sh", "-c",
			"cat; echo out; echo err >&2; readlink /proc/self/fd/1 | cut -d: -f1; exit 4"}
		var cmd *exec.Cmd
		if tool == "sandbox" {
			t.Cleanup(func() { sbRaw(nil, "rm", "-f", name) })
			cmd = command(context.Background(), nil, args...)
		} else {
			cmd = p.cmd(args...)
		}
		var stdout, stderr strings.Builder
		cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader("in\n"), &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 4 {
			t.Errorf("%s: --log-driver passthrough: %v, want exit 4", tool, err)
		}
		// The container's stdout is the caller's pipe itself.
		if stdout.String() != "in\nout\npipe\n" || !strings.Contains(stderr.String(), "err\n") {
			t.Errorf("%s: --log-driver passthrough printed %q and %q", tool, stdout.String(), stderr.String())
		}
		var r result
		if tool == "sandbox" {
			r = sb(t, "logs", name)
		} else {
			r = p.run("logs", name)
		}
		if want := "this container is using the 'passthrough' log driver"; r.code != 125 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: logs of a passthrough container: want exit 125 saying %q\n%s", tool, want, r)
		}
	}
	refusedRun(t, "run-refused-5", []string{"passthrough", "-t/--tty"}, "run", "--rm", "-t", "--log-driver", "passthrough", "busybox", "true")
	refusedRun(t, "run-refused-6", []string{`"journald"`, "k8s-file, json-file, none or passthrough"}, "run", "--rm", "--log-driver", "journald", "busybox", "true")
	refusedRun(t, "run-refused-7", []string{"path=" + dir + "/no/such/c.log", "not a directory"}, "run", "--rm", "--log-opt", "path="+dir+"/no/such/c.log", "busybox", "true")
}

// TestRunPreserveFds: --preserve-fds N gives the command the caller's
// descriptors 3..2+N, as podman's does; one that is not open is refused.
func TestRunPreserveFds(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	args := []string{"run", "--rm", "--preserve-fds", "2", "busybox", "sh", "-c", "cat <&3; echo to fd4 >&4; ls /proc/self/fd | wc -l"}
	for _, tool := range []string{"sandbox", "podman"} {
		in, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inW.WriteString("from fd3\n"); err != nil {
			t.Fatal(err)
		}
		inW.Close()
		outFile := filepath.Join(t.TempDir(), "fd4")
		out, err := os.Create(outFile)
		if err != nil {
			t.Fatal(err)
		}
		var cmd *exec.Cmd
		if tool == "sandbox" {
			cmd = command(context.Background(), nil, args...)
		} else {
			cmd = p.cmd(args...)
		}
		cmd.ExtraFiles = []*os.File{in, out}
		stdout, err := cmd.Output()
		in.Close()
		out.Close()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", tool, args, err, stdout)
		}
		// 0, 1, 2, 3, 4 and ls's own directory.
		if string(stdout) != "from fd3\n6\n" {
			t.Errorf("%s: the command read and counted %q", tool, stdout)
		}
		if data, err := os.ReadFile(outFile); err != nil || string(data) != "to fd4\n" {
			t.Errorf("%s: fd 4 got %q, %v", tool, data, err)
		}
	}
	refusedRun(t, "run-refused-8", []string{"--preserve-fds 2", "descriptor 3 is not open"}, "run", "--rm", "--preserve-fds", "2", "busybox", "true")
}

// refusedRun runs run or create (args[0]) with --name name and the rest of
// args: it must fail with 125 naming each of want, and leave no container
// of that name.
func refusedRun(t *testing.T, name string, want []string, args ...string) {
	t.Helper()
	fails(t, 125, want, append([]string{args[0], "--name", name}, args[1:]...)...)
	if r := sb(t, "container", "exists", name); r.code != 1 {
		t.Errorf("a refused %s left a container named %s\n%s", args[0], name, r)
	}
}
