package integration

// Rootless integration tests of exec: a process entered into a running
// container's namespaces by the pre-runtime hook.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// execTarget starts a container for exec tests.
// By default its pid 1 is "sleep 300" and /tmp/marker exists.
func execTarget(t *testing.T, args ...string) string {
	t.Helper()
	ready := len(args) == 0
	if ready {
		args = []string{"busybox", "sh", "-c", "echo in-rootfs > /tmp/marker; exec sleep 300"}
	}
	id := detached(t, args...)
	waitState(t, id, "running")
	if ready {
		eventually(t, 5*time.Second, func() error {
			if r := sb(t, "exec", id, "test", "-e", "/tmp/marker"); r.code != 0 {
				return fmt.Errorf("container not ready: %s", r)
			}
			return nil
		})
	}
	return id
}

func TestExecNamespaces(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	pid := stateOf(t, id).Pid
	out := ok(t, "exec", id, "sh", "-c", `cat /tmp/marker; tr '\0' ' ' < /proc/1/cmdline; echo; hostname; for n in user mnt pid uts ipc net cgroup; do echo $n $(readlink /proc/1/ns/$n) $(readlink /proc/self/ns/$n); done`)
	if !strings.HasPrefix(out, "in-rootfs\nsleep 300 \n"+id[:12]+"\n") {
		t.Errorf("exec does not see the container's rootfs, pid 1 and hostname:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[1] != f[2] {
			t.Errorf("exec is in another %s namespace than pid 1: %s", f[0], line)
		}
	}
	// The container's pid 1 as the host sees it has the same namespaces.
	for _, ns := range []string{"mnt", "pid", "net", "uts"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if !strings.Contains(out, ns+" "+want+" "+want) {
			t.Errorf("%s namespace: the container's is %s:\n%s", ns, want, out)
		}
	}
}

func TestExecFlags(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("FROMFILE=1\n"), 0o644)
	r := sbWith(t, cmdOpts{env: []string{"HOSTVAR=h"}}, "exec", "-e", "A=1", "-e", "HOSTVAR", "--env-file", envFile, "-w", "/tmp", "-u", "nobody", id,
		"sh", "-c", "id; pwd; echo $A $HOSTVAR $FROMFILE $HOME $PATH; grep CapEff /proc/self/status")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{"uid=65534(nobody)", "/tmp\n", "1 h 1 /home /usr/local/sbin", "CapEff:\t0000000000000000"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r.stdout)
		}
	}
	if out := ok(t, "exec", id, "grep", "CapEff", "/proc/self/status"); !strings.Contains(out, "00000000a80425fb") {
		t.Errorf("exec does not have the container's capabilities: %s", out)
	}
	if out := ok(t, "exec", "--privileged", id, "grep", "CapEff", "/proc/self/status"); strings.Contains(out, "00000000a80425fb") {
		t.Errorf("exec --privileged kept the default capabilities: %s", out)
	}
	if r := sbWith(t, cmdOpts{stdin: "piped\n"}, "exec", "-i", id, "cat"); r.code != 0 || r.stdout != "piped\n" {
		t.Errorf("exec -i: %s", r)
	}
	if r := sbWith(t, cmdOpts{stdin: "not read\n"}, "exec", id, "cat"); r.code != 0 || r.stdout != "" {
		t.Errorf("exec without -i read stdin: %s", r)
	}
	// -d returns at once; the process runs on in the container.
	start := time.Now()
	ok(t, "exec", "-d", id, "sh", "-c", "sleep 1; echo done > /tmp/detached")
	if time.Since(start) > 900*time.Millisecond {
		t.Errorf("exec -d waited %v", time.Since(start))
	}
	eventually(t, 10*time.Second, func() error {
		if r := sb(t, "exec", id, "cat", "/tmp/detached"); r.stdout != "done\n" {
			return fmt.Errorf("detached exec did not finish: %s", r)
		}
		return nil
	})
}

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"sh", "-c", "exit 7"}, 7, ""},
		{[]string{"no-such-cmd"}, 127, "no-such-cmd"},
		{[]string{"/etc/passwd"}, 126, "permission denied"},
		{[]string{"sh", "-c", "kill -TERM $$"}, 143, ""},
	} {
		r := sb(t, append([]string{"exec", id}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("exec %v: want exit %d naming %q: %s", c.args, c.code, c.msg, r)
		}
	}
}

func TestExecBadInput(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	stopped := strings.TrimSpace(ok(t, "create", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", stopped) })
	fails(t, 125, []string{"nosuchctr"}, "exec", "nosuchctr", "true")
	fails(t, 125, []string{"not running"}, "exec", stopped, "true")
	fails(t, 125, []string{"needs a command"}, "exec", id)
	fails(t, 125, []string{"nosuchuser"}, "exec", "-u", "nosuchuser", id, "true")
	fails(t, 125, []string{"=oops"}, "exec", "-e", "=oops", id, "true")
	fails(t, 125, []string{"rel", "absolute"}, "exec", "-w", "rel", id, "true")
}

func TestExecConcurrent(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	var wg sync.WaitGroup
	outs := make([]result, 20)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = sb(t, "exec", id, "sh", "-c", fmt.Sprintf("echo %d", i))
		}()
	}
	wg.Wait()
	for i, r := range outs {
		if r.code != 0 || r.stdout != fmt.Sprintf("%d\n", i) {
			t.Errorf("concurrent exec %d: %s", i, r)
		}
	}
}

// TestExecContainerExits: the container ends while an exec runs in it;
// the exec ends too, killed with the pid namespace.
func TestExecContainerExits(t *testing.T) {
	t.Parallel()
	id := execTarget(t, "busybox", "sh", "-c", "sleep 0.7")
	start := time.Now()
	r := sbRaw(&cmdOpts{timeout: 20 * time.Second}, "exec", id, "sleep", "30")
	if r.code != 137 || time.Since(start) > 10*time.Second {
		t.Errorf("exec when the container exits: %s after %v, want 137 soon", r, time.Since(start))
	}
}

func TestExecSignals(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "exec", id, "sh", "-c", `trap "echo got-TERM; exit 5" TERM; echo ready; while :; do sleep 0.05; done`)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if string(buf[:n]) != "ready\n" {
		t.Fatalf("exec printed %q", buf[:n])
	}
	cmd.Process.Signal(syscall.SIGTERM)
	rest := make([]byte, 64)
	m, _ := out.Read(rest)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 || string(rest[:m]) != "got-TERM\n" {
		t.Errorf("SIGTERM to exec: %v, output %q", err, rest[:m])
	}
}

// TestExecSignalDispositions: the exec'd command starts with every signal
// at its default, even when sandbox exec was started with signals ignored.
func TestExecSignalDispositions(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"ignore-signals", env.bin}, globalArgs()...)
	out, err := exec.CommandContext(ctx, helperBin(t), append(args, "exec", id, "grep", "-E", "SigIgn|SigBlk", "/proc/self/status")...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasSuffix(line, "0000000000000000") {
			t.Errorf("exec'd command starts with %q, want no signal ignored or blocked", line)
		}
	}
}

func TestExecTTY(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	master, slave := openPty(t)
	unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 88})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "exec", "-it", id, "sh", "-c", "tty; stty size; read l; echo got:$l; exit 3")
	out, err := onTerminal(t, cmd, master, slave, 400*time.Millisecond, "typed\r")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("exec -it: %v, want status 3", err)
	}
	for _, want := range []string{"/dev/pts/", "33 88", "got:typed"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in terminal output %q", want, out)
		}
	}
}

func TestExecInTop(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	ok(t, "exec", "-d", id, "sleep", "77")
	eventually(t, 5*time.Second, func() error {
		if out := ok(t, "top", id); !strings.Contains(out, "sleep 77") {
			return fmt.Errorf("top does not show the exec'd process:\n%s", out)
		}
		return nil
	})
}
