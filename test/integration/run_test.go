package integration

// Rootless integration tests of run in the foreground: namespaces, file
// systems, the image's configuration, and every flag of the foundation.

import (
	"context"
	"encoding/json"
	"errors"
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

	"golang.org/x/sys/unix"
)

func TestRunEcho(t *testing.T) {
	t.Parallel()
	if out := run(t, "busybox", "echo", "hello", "world"); out != "hello world\n" {
		t.Fatalf("got %q", out)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"own code", []string{"busybox", "sh", "-c", "exit 42"}, 42, ""},
		{"not found", []string{"busybox", "no-such-command"}, 127, "no-such-command"},
		{"not found by path", []string{"busybox", "/no/such"}, 127, "/no/such"},
		{"not executable", []string{"busybox", "/etc/passwd"}, 126, "permission denied"},
		{"a directory", []string{"busybox", "/etc"}, 126, "is a directory"},
		{"sandbox error", []string{"--no-such-flag", "busybox"}, 125, "no-such-flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := sb(t, append([]string{"run", "--rm"}, c.args...)...)
			if r.code != c.code {
				t.Fatalf("want exit %d\n%s", c.code, r)
			}
			if c.msg != "" && !strings.Contains(r.stderr, c.msg) {
				t.Fatalf("stderr does not name %q\n%s", c.msg, r)
			}
		})
	}
}

// TestKilledBySignal checks that a container killed by signal N exits
// 128+N: pid 1 cannot be killed from inside its namespace, so the test
// kills it from outside.
func TestKilledBySignal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "run", "--rm", "--name", "killed", "busybox", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	eventually(t, 10*time.Second, func() error {
		var list []struct {
			Names []string
			Pid   int
		}
		if err := json.Unmarshal([]byte(ok(t, "ps", "--format", "json")), &list); err != nil {
			return err
		}
		for _, c := range list {
			if c.Names[0] == "killed" && c.Pid > 0 {
				pid = c.Pid
				return nil
			}
		}
		return fmt.Errorf("container not running yet")
	})
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 137 {
		t.Fatalf("exit %v, want 137", err)
	}
}

// TestNamespaces checks that the container has its own mount, pid, uts,
// ipc, cgroup and network namespaces, in the keeper's user namespace.
func TestNamespaces(t *testing.T) {
	t.Parallel()
	host := map[string]string{}
	for _, ns := range []string{"mnt", "pid", "uts", "ipc", "net", "cgroup"} {
		l, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		host[ns] = l
	}
	out := run(t, "busybox", "sh", "-c", "for n in mnt pid uts ipc net cgroup; do echo $n $(readlink /proc/self/ns/$n); done; echo pid1 $(cat /proc/1/cmdline | tr '\\0' ' '); echo self $$; cat /proc/self/uid_map")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && host[f[0]] != "" && host[f[0]] == f[1] {
			t.Errorf("container shares the host's %s namespace (%s)", f[0], f[1])
		}
	}
	if !strings.Contains(out, "pid1 sh -c") || !strings.Contains(out, "self 1\n") {
		t.Errorf("the command is not pid 1 of its own pid namespace:\n%s", out)
	}
	uid := fmt.Sprint(os.Getuid())
	if !regexp.MustCompile(`(?m)^\s*0\s+` + uid + `\s+1$`).MatchString(out) {
		t.Errorf("uid 0 is not mapped to the user (%s):\n%s", uid, out)
	}
	if !regexp.MustCompile(`(?m)^\s*1\s+\d+\s+\d+$`).MatchString(out) {
		t.Errorf("no subordinate range mapped from 1:\n%s", out)
	}
}

func TestNetworkModes(t *testing.T) {
	t.Parallel()
	none := run(t, "--network", "none", "busybox", "cat", "/proc/net/dev")
	if strings.Count(none, ":") != 1 || !strings.Contains(none, "lo:") {
		t.Errorf("--network none: want only lo, got:\n%s", none)
	}
	if out := run(t, "--network", "none", "busybox", "ip", "link", "show", "lo"); !strings.Contains(out, "UP") {
		t.Errorf("loopback is not up:\n%s", out)
	}
	hostDev, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	hostOut := run(t, "--network", "host", "busybox", "cat", "/proc/net/dev")
	if strings.Count(hostOut, ":") != strings.Count(string(hostDev), ":") {
		t.Errorf("--network host: want the host's interfaces\nhost:\n%s\ncontainer:\n%s", hostDev, hostOut)
	}
	h, _ := os.Hostname()
	if out := run(t, "--network", "host", "busybox", "hostname"); strings.TrimSpace(out) != h {
		t.Errorf("--network host: hostname %q, want the host's %q", out, h)
	}
	fails(t, 125, []string{"bogus", "none, host"}, "run", "--rm", "--network", "bogus", "busybox", "true")
}

func TestFileSystems(t *testing.T) {
	t.Parallel()
	out := run(t, "busybox", "sh", "-c", "cat /proc/self/mountinfo | awk '{print $5, $6, $9}'\n"+fileSystemChecks)
	for _, want := range append([]string{
		"/proc rw,nosuid,nodev,noexec", "/dev rw,nosuid", "/dev/pts ", "/dev/shm rw,nosuid,nodev,noexec", "/dev/mqueue ", "/sys ro,",
		"keys=0", "firmware=0",
	}, fileSystemsSeen...) {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// The root is the container's layer, and the host's / is gone.
	if strings.Contains(run(t, "busybox", "ls", "/"), "work") {
		t.Error("the host's root is visible")
	}
}

func TestEtcFiles(t *testing.T) {
	t.Parallel()
	out := run(t, "--name", "etcfiles", "--hostname", "box1", "busybox", "sh", "-c", "cat /etc/hostname; cat /etc/hosts; echo ---; cat /etc/resolv.conf")
	for _, want := range []string{"box1\n", "127.0.0.1\tlocalhost", "box1 etcfiles"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	resolv := out[strings.Index(out, "---"):]
	if regexp.MustCompile(`nameserver 127\.`).MatchString(resolv) {
		t.Errorf("a loopback nameserver that the container cannot reach:\n%s", resolv)
	}
	id := strings.TrimSpace(run(t, "busybox", "hostname"))
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("default hostname %q is not the short id", id)
	}
}

// imageWith imports the busybox tarball under name with --change values.
func imageWith(t *testing.T, name string, changes ...string) {
	t.Helper()
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	ok(t, append(args, env.tarball, name)...)
}

func TestImageConfig(t *testing.T) {
	t.Parallel()
	imageWith(t, "cfgtest:1",
		`ENTRYPOINT ["/bin/sh", "-c", "echo entry \"$0\" \"$@\"; pwd; id -un; echo FOO=$FOO PATH=$PATH HOME=$HOME"]`,
		`CMD ["fromcmd"]`, "WORKDIR /srv/app", "USER nobody", "ENV FOO=bar PATH=/bin:/custom")
	out := run(t, "cfgtest:1")
	for _, want := range []string{"entry fromcmd", "/srv/app\n", "nobody\n", "FOO=bar", "PATH=/bin:/custom", "HOME=/home"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// A command replaces Cmd, not the entrypoint.
	if out := run(t, "cfgtest:1", "given"); !strings.Contains(out, "entry given") {
		t.Errorf("command did not replace Cmd:\n%s", out)
	}
	// --entrypoint replaces the entrypoint and drops Cmd; "" clears it.
	if out := run(t, "--entrypoint", "/bin/echo", "cfgtest:1"); out != "\n" {
		t.Errorf("--entrypoint kept the image's Cmd: %q", out)
	}
	if out := run(t, "--entrypoint", "", "cfgtest:1", "echo", "cleared"); out != "cleared\n" {
		t.Errorf("--entrypoint \"\": %q", out)
	}
	// An image without Env gets the default PATH.
	imageWith(t, "noenv:1")
	if out := run(t, "noenv:1", "sh", "-c", "echo $PATH"); out != "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" {
		t.Errorf("default PATH: %q", out)
	}
	fails(t, 125, []string{"no command"}, "run", "--rm", "noenv:1")
}

func TestEnvFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(file, []byte("# comment\nFROMFILE=1\n\nQUOTED=\"kept\"\nFROMHOST\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := sbWith(t, cmdOpts{env: []string{"FROMHOST=h", "PASSED=p"}},
		"run", "--rm", "--env-file", file, "-e", "A=1", "-e", "PASSED", "-e", "UNSET_ANYWHERE", "-e", "FROMFILE=2", "busybox", "env")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{"A=1\n", "PASSED=p\n", "FROMFILE=2\n", "QUOTED=\"kept\"\n", "FROMHOST=h\n", "HOME=/root\n", "HOSTNAME="} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "UNSET_ANYWHERE") {
		t.Errorf("an unset variable was passed:\n%s", r.stdout)
	}
}

func TestWorkdirHostname(t *testing.T) {
	t.Parallel()
	if out := run(t, "-w", "/new/dir", "--hostname", "hostx", "busybox", "sh", "-c", "pwd; hostname"); out != "/new/dir\nhostx\n" {
		t.Errorf("got %q", out)
	}
}

func TestUser(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":             "uid=0(root) gid=0(root) groups=0(root),10(wheel)",
		"nobody":       "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)",
		"1234":         "uid=1234 gid=0(root) groups=0(root)",
		"1234:5":       "uid=1234 gid=5(tty) groups=5(tty)",
		"daemon:tty":   "uid=1(daemon) gid=5(tty) groups=5(tty)",
		"www-data:100": "uid=33(www-data) gid=100(users) groups=100(users)",
	}
	for u, want := range cases {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			args := []string{"busybox", "id"}
			if u != "" {
				args = append([]string{"-u", u}, args...)
			}
			if out := strings.TrimSpace(run(t, args...)); out != want {
				t.Errorf("-u %q: got %q, want %q", u, out, want)
			}
		})
	}
	// A non-root user keeps only the bounding set.
	out := run(t, "-u", "nobody", "busybox", "grep", "CapEff", "/proc/self/status")
	if !strings.Contains(out, "0000000000000000") {
		t.Errorf("non-root user has effective capabilities: %s", out)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	capEff := func(args ...string) string {
		out := run(t, append(args, "busybox", "grep", "CapEff", "/proc/self/status")...)
		return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "CapEff:"))
	}
	// docker's default set.
	if got := capEff(); got != "00000000a80425fb" {
		t.Errorf("default capabilities %s, want docker's 00000000a80425fb", got)
	}
	if got := capEff("--cap-drop", "CHOWN"); got != "00000000a80425fa" {
		t.Errorf("--cap-drop CHOWN: %s", got)
	}
	if got := capEff("--cap-add", "net_admin"); got != "00000000a80435fb" {
		t.Errorf("--cap-add net_admin: %s", got)
	}
	if got := capEff("--cap-drop", "ALL", "--cap-add", "CAP_KILL"); got != "0000000000000020" {
		t.Errorf("--cap-drop ALL --cap-add CAP_KILL: %s", got)
	}
	// The bounding set holds what was granted and nothing more, for root
	// and for any other user: it caps what an execve can give back, and a
	// set left whole would let a set-user-ID root binary of the image
	// regain every capability (CAP_SYS_ADMIN among them).
	capBnd := func(args ...string) string {
		out := run(t, append(args, "busybox", "grep", "CapBnd", "/proc/self/status")...)
		return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "CapBnd:"))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "00000000a80425fb"},
		{[]string{"-u", "nobody"}, "00000000a80425fb"},
		{[]string{"--cap-drop", "CHOWN"}, "00000000a80425fa"},
		{[]string{"--cap-drop", "ALL", "--cap-add", "CAP_KILL", "-u", "1234"}, "0000000000000020"},
	} {
		if got := capBnd(tc.args...); got != tc.want {
			t.Errorf("%q: bounding set %s, want %s", tc.args, got, tc.want)
		}
	}
	priv := capEff("--privileged")
	if priv == "00000000a80425fb" || !strings.HasPrefix(priv, "000001ff") && !strings.HasPrefix(priv, "000000ff") && !strings.HasPrefix(priv, "0000003f") {
		t.Errorf("--privileged: %s", priv)
	}
	if out := run(t, "--privileged", "busybox", "sh", "-c", "wc -c < /proc/keys; echo 1 > /proc/sys/kernel/domainname 2>&1 || true"); strings.HasPrefix(out, "0\n") && !strings.Contains(out, "Permission") {
		t.Logf("privileged /proc: %s", out)
	}
	fails(t, 125, []string{"NOT_A_CAP"}, "run", "--rm", "--cap-add", "NOT_A_CAP", "busybox", "true")
}

func TestVolumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	out := run(t, "-v", dir+":/data", "-v", ro+":/ro:ro", "--mount", "type=bind,source="+dir+",target=/m2,readonly",
		"--mount", "type=tmpfs,target=/t1,tmpfs-size=1m", "--tmpfs", "/t2:size=2m,mode=1777",
		"busybox", "sh", "-c", `
			cat /data/in; echo written > /data/out
			touch /ro/x 2>/dev/null || echo ro-refused
			touch /m2/x 2>/dev/null || echo m2-refused
			grep -E ' /t1 | /t2 ' /proc/self/mounts`)
	for _, want := range []string{"from host", "ro-refused", "m2-refused", "tmpfs /t1 tmpfs rw,nosuid,nodev,relatime,size=1024k", "tmpfs /t2 tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(data) != "written\n" {
		t.Errorf("write through the volume: %q %v", data, err)
	}
	if entries, _ := os.ReadDir(ro); len(entries) != 0 {
		t.Error("a read-only volume was written")
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	out := run(t, "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c", "touch /x 2>/dev/null || echo root-ro; touch /scratch/y && echo tmpfs-rw; echo h > /etc/hostname 2>/dev/null; echo done")
	if !strings.Contains(out, "root-ro") || !strings.Contains(out, "tmpfs-rw") {
		t.Errorf("got:\n%s", out)
	}
}

func TestInteractive(t *testing.T) {
	t.Parallel()
	r := sbWith(t, cmdOpts{stdin: "line one\nline two\n"}, "run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo after-eof")
	if r.code != 0 || r.stdout != "line one\nline two\nafter-eof\n" {
		t.Fatalf("got %s", r)
	}
	// Without -i the container's stdin is empty.
	r = sbWith(t, cmdOpts{stdin: "ignored\n"}, "run", "--rm", "busybox", "cat")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("without -i: %s", r)
	}
}

func TestStdoutStderr(t *testing.T) {
	t.Parallel()
	r := sb(t, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("streams mixed: %s", r)
	}
}

// TestLargeOutput: output much larger than the monitor's read buffer
// (4 KiB, growing to 32 KiB as reads fill it) reaches the command and the
// log whole and in order, on both streams.
func TestLargeOutput(t *testing.T) {
	t.Parallel()
	var want strings.Builder
	for i := 1; i <= 100000; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	script := "seq 1 100000; seq 1 100000 >&2"
	r := sb(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c", script)
	if r.code != 0 || r.stdout != want.String() || r.stderr != want.String() {
		t.Fatalf("run: exit %d, stdout %d bytes, stderr %d bytes, want 0 and %d bytes each, the same as seq's",
			r.code, len(r.stdout), len(r.stderr), want.Len())
	}
	id := detached(t, "--network", "none", "busybox", "sh", "-c", script)
	if w := sb(t, "wait", id); w.code != 0 || w.stdout != "0\n" {
		t.Fatalf("wait: %s", w)
	}
	logs := sb(t, "logs", id)
	if logs.code != 0 || logs.stdout != want.String() || logs.stderr != want.String() {
		t.Fatalf("logs: exit %d, stdout %d bytes, stderr %d bytes, want 0 and %d bytes each, the same as seq's",
			logs.code, len(logs.stdout), len(logs.stderr), want.Len())
	}
}

// openPty returns a terminal pair for a test.
// onTerminal runs cmd with slave as its controlling terminal and standard
// streams, types input on master after delay, and returns everything the
// terminal showed and cmd's Wait error. It closes both ends.
func onTerminal(t *testing.T, cmd *exec.Cmd, master, slave *os.File, delay time.Duration, input string) (string, error) {
	t.Helper()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out := make(chan string)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		out <- b.String()
	}()
	time.Sleep(delay)
	master.Write([]byte(input))
	err := cmd.Wait()
	master.Close()
	return <-out, err
}

func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

func TestTTY(t *testing.T) {
	t.Parallel()
	master, slave := openPty(t)
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 31, Col: 97}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "run", "--rm", "-it", "busybox", "sh", "-c", "tty; stty size; echo TERM=$TERM; read line; echo got:$line; exit 3")
	got, err := onTerminal(t, cmd, master, slave, 500*time.Millisecond, "typed\r")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("exit: %v, want status 3", err)
	}
	for _, want := range []string{"/dev/pts/0", "31 97", "TERM=xterm", "got:typed"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in terminal output %q", want, got)
		}
	}
}

func TestKeepID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	out := run(t, "--userns=keep-id", "-v", dir+":/data", "busybox", "sh", "-c", "id -u; id -g; stat -c %u /data/mine; stat -c %u /bin/busybox; cat /data/mine; touch /data/new")
	want := fmt.Sprintf("%d\n%d\n%d\n0\nx", uid, gid, uid)
	if out != want {
		t.Errorf("keep-id: got %q, want %q", out, want)
	}
	st, err := os.Stat(filepath.Join(dir, "new"))
	if err != nil {
		t.Fatal(err)
	}
	if owner := st.Sys().(*syscall.Stat_t).Uid; int(owner) != uid {
		t.Errorf("a file made inside belongs to host uid %d, want %d", owner, uid)
	}
}

func TestSignalForwarding(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := []string{"run", "--rm"}
		if tty {
			args = append(args, "-t")
		}
		cmd := command(ctx, nil, append(args, "busybox", "sh", "-c", `trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done`)...)
		var stdout strings.Builder
		pr, pw, _ := os.Pipe()
		cmd.Stdout = pw
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		buf := make([]byte, 64)
		n, _ := pr.Read(buf)
		stdout.Write(buf[:n])
		if err := cmd.Process.Signal(unix.SIGTERM); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(pr)
		stdout.Write(rest)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 || !strings.Contains(stdout.String(), "got-TERM") {
			t.Errorf("tty=%v: SIGTERM not forwarded: exit %v, output %q", tty, err, stdout.String())
		}
	}
}

func TestPsAndRm(t *testing.T) {
	t.Parallel()
	r := sb(t, "run", "--name", "kept", "busybox", "sh", "-c", "exit 3")
	if r.code != 3 {
		t.Fatal(r)
	}
	line := ""
	for _, l := range strings.Split(ok(t, "ps", "-a"), "\n") {
		if strings.HasSuffix(l, " kept") {
			line = l
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{12}\s+busybox\s+"sh -c exit 3"\s+.* ago\s+Exited \(3\) .* ago\s+kept$`).MatchString(line) {
		t.Errorf("ps -a line: %q", line)
	}
	if strings.Contains(ok(t, "ps"), "kept") {
		t.Error("ps without -a shows an exited container")
	}
	if out := ok(t, "ps", "-a", "--format", "{{.Names}} {{.State}}"); !strings.Contains(out, "kept exited\n") {
		t.Errorf("ps --format: %q", out)
	}
	if out := ok(t, "rm", "kept"); out != "kept\n" {
		t.Errorf("rm printed %q", out)
	}
	if strings.Contains(ok(t, "ps", "-a"), "kept") {
		t.Error("removed container still listed")
	}
	fails(t, 1, []string{`no container with name or ID "kept" found: no such container`}, "rm", "kept")
}

// TestSignalDispositions: the container's command starts with every signal
// at its default, even when sandbox itself was started with signals
// ignored (nohup, a shell's background job, make: 32 and 33).
func TestSignalDispositions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"ignore-signals", env.bin}, globalArgs()...)
	cmd := exec.CommandContext(ctx, helperBin(t), append(args, "run", "--rm", "busybox", "grep", "-E", "SigIgn|SigBlk", "/proc/self/status")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasSuffix(line, "0000000000000000") {
			t.Errorf("container starts with %q, want no signal ignored or blocked", line)
		}
	}
}
