package integration

// Rootless integration tests of containers that outlive the command:
// run -d, start, stop, kill, restart, wait, attach, rename, restart
// policies, a killed monitor, and many containers at once.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// detached starts a container with run -d and returns its full id; the
// container is removed when the test ends.
func detached(t *testing.T, args ...string) string {
	t.Helper()
	out := ok(t, append([]string{"run", "-d"}, args...)...)
	id := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q, want a full id", out)
	}
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	return id
}

type psEntry struct {
	Id       string
	Names    []string
	State    string
	ExitCode int
	Pid      int
}

// psAll lists every container with its state.
func psAll(t *testing.T) map[string]psEntry {
	t.Helper()
	var list []psEntry
	if err := json.Unmarshal([]byte(ok(t, "ps", "-a", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]psEntry{}
	for _, e := range list {
		out[e.Id] = e
	}
	return out
}

func stateOf(t *testing.T, id string) psEntry {
	t.Helper()
	return psAll(t)[id]
}

func waitState(t *testing.T, id, state string) psEntry {
	t.Helper()
	var e psEntry
	eventually(t, 15*time.Second, func() error {
		e = stateOf(t, id)
		if e.State != state {
			return fmt.Errorf("container %.12s is %q, want %q", id, e.State, state)
		}
		return nil
	})
	return e
}

func TestRunDetached(t *testing.T) {
	t.Parallel()
	id := detached(t, "--name", "det", "busybox", "sleep", "30")
	if e := waitState(t, id, "running"); e.Names[0] != "det" || e.Pid <= 0 {
		t.Errorf("ps: %+v", e)
	}
	fails(t, 2, []string{"det", "stop it first"}, "rm", "det")
	ok(t, "rm", "-f", "det")
	if _, there := psAll(t)[id]; there {
		t.Error("rm -f left the container")
	}
}

// TestRunDetachedInheritedFds: a descriptor that run -d's caller left open
// without close-on-exec (as shells and CI runners do) is not kept by the
// container's monitor: whoever waits for its end does not wait for the
// container.
func TestRunDetachedInheritedFds(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "run", "-d", "busybox", "sleep", "30")
	// At descriptors 3 to 9: beyond those that sandbox hands its monitor.
	cmd.ExtraFiles = []*os.File{w, w, w, w, w, w, w}
	out, err := cmd.Output()
	w.Close()
	if err != nil {
		t.Fatalf("run -d: %v", err)
	}
	id := strings.TrimSpace(string(out))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	waitState(t, id, "running")
	got := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(r)
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("read the inherited pipe: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the inherited pipe is still open 5 s after run -d returned: the monitor kept it")
	}
	if e := stateOf(t, id); e.State != "running" {
		t.Errorf("container is %q, want running", e.State)
	}
}

func TestRunDetachedRm(t *testing.T) {
	t.Parallel()
	id := detached(t, "--rm", "busybox", "sh", "-c", "sleep 0.2")
	eventually(t, 10*time.Second, func() error {
		if _, there := psAll(t)[id]; there {
			return fmt.Errorf("run -d --rm container still listed")
		}
		return nil
	})
}

// TestStopTimeout: a pid 1 that ignores SIGTERM ends about a second after
// stop -t 1 with status 137.
func TestStopTimeout(t *testing.T) {
	t.Parallel()
	id := detached(t, "busybox", "sh", "-c", `trap "" TERM; while :; do sleep 0.1; done`)
	waitState(t, id, "running")
	start := time.Now()
	if out := ok(t, "stop", "-t", "1", id); out != id+"\n" {
		t.Errorf("stop printed %q", out)
	}
	took := time.Since(start)
	if took < time.Second || took > 3*time.Second {
		t.Errorf("stop -t 1 took %v, want about a second", took)
	}
	if e := stateOf(t, id); e.State != "exited" || e.ExitCode != 137 {
		t.Errorf("after stop: %+v, want exited 137", e)
	}
	if out := ok(t, "wait", id); out != "137\n" {
		t.Errorf("wait printed %q", out)
	}
	// Stopping a stopped container does nothing, successfully.
	ok(t, "stop", id)
}

func TestStopSignal(t *testing.T) {
	t.Parallel()
	id := detached(t, "--stop-signal", "USR1", "busybox", "sh", "-c", `trap "exit 11" USR1; trap "exit 12" TERM; while :; do sleep 0.05; done`)
	waitState(t, id, "running")
	start := time.Now()
	ok(t, "stop", id)
	if e := stateOf(t, id); e.ExitCode != 11 || time.Since(start) > 3*time.Second {
		t.Errorf("--stop-signal USR1: %+v after %v", e, time.Since(start))
	}
	fails(t, 125, []string{"SIGNOPE"}, "run", "--rm", "--stop-signal", "SIGNOPE", "busybox", "true")
}

func TestKill(t *testing.T) {
	t.Parallel()
	id := detached(t, "busybox", "sh", "-c", `trap "exit 9" HUP; while :; do sleep 0.05; done`)
	waitState(t, id, "running")
	fails(t, 125, []string{"NOSIG"}, "kill", "-s", "NOSIG", id)
	ok(t, "kill", "-s", "HUP", id)
	if e := waitState(t, id, "exited"); e.ExitCode != 9 {
		t.Errorf("kill -s HUP: exit %d, want 9", e.ExitCode)
	}
	fails(t, 125, []string{id[:12], "not running"}, "kill", id[:12])
	id2 := detached(t, "busybox", "sleep", "30")
	waitState(t, id2, "running")
	ok(t, "kill", id2)
	if e := waitState(t, id2, "exited"); e.ExitCode != 137 {
		t.Errorf("kill: exit %d, want 137", e.ExitCode)
	}
}

func TestStartRestartWait(t *testing.T) {
	t.Parallel()
	id := strings.TrimSpace(ok(t, "create", "--name", "created1", "busybox", "sh", "-c", "echo run-$(cat /proc/uptime | cut -d. -f1); exit 4"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	if e := stateOf(t, id); e.State != "created" {
		t.Fatalf("after create: %+v", e)
	}
	// start -a attaches and ends with the container's status.
	r := sb(t, "start", "-a", "created1")
	if r.code != 4 || !strings.HasPrefix(r.stdout, "run-") {
		t.Fatalf("start -a: %s", r)
	}
	// An exited container starts again.
	ok(t, "start", "created1")
	if out := ok(t, "wait", "created1"); out != "4\n" {
		t.Errorf("wait printed %q", out)
	}
	long := detached(t, "busybox", "sleep", "30")
	waitState(t, long, "running")
	// As docker and podman: a start of a running container does nothing.
	before := stateOf(t, long).Pid
	if r := sb(t, "start", long); r.code != 0 || r.stdout != long+"\n" {
		t.Errorf("start of a running container: %s", r)
	}
	if pid := stateOf(t, long).Pid; pid != before {
		t.Errorf("start of a running container changed its pid from %d to %d", before, pid)
	}
	ok(t, "restart", "-t", "0", long)
	after := waitState(t, long, "running")
	if after.Pid == before || after.Pid <= 0 {
		t.Errorf("restart kept pid %d", before)
	}
	// wait on several containers prints each status.
	a := detached(t, "busybox", "sh", "-c", "exit 1")
	b := detached(t, "busybox", "sh", "-c", "sleep 0.3; exit 2")
	if out := ok(t, "wait", a, b); out != "1\n2\n" {
		t.Errorf("wait a b printed %q", out)
	}
	// wait gets the status of a --rm container too.
	c := strings.TrimSpace(ok(t, "run", "-d", "--rm", "busybox", "sh", "-c", "sleep 0.3; exit 5"))
	if out := ok(t, "wait", c); out != "5\n" {
		t.Errorf("wait on a --rm container printed %q", out)
	}
	fails(t, 125, []string{"nosuchctr"}, "wait", "nosuchctr")
}

func TestRename(t *testing.T) {
	t.Parallel()
	id := strings.TrimSpace(ok(t, "create", "--name", "before-rename", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	ok(t, "rename", "before-rename", "after-rename")
	if e := stateOf(t, id); e.Names[0] != "after-rename" {
		t.Errorf("renamed: %+v", e)
	}
	other := strings.TrimSpace(ok(t, "create", "--name", "taken-name", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", other) })
	fails(t, 125, []string{"taken-name", "in use"}, "rename", "after-rename", "taken-name")
	fails(t, 125, []string{"bad name!"}, "rename", "after-rename", "bad name!")
}

func TestAmbiguousPrefix(t *testing.T) {
	t.Parallel()
	// Among enough containers, some one-character prefix is shared.
	ids := map[byte]int{}
	var shared byte
	for i := 0; i < 20 && shared == 0; i++ {
		id := strings.TrimSpace(ok(t, "create", "busybox", "true"))
		t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
		if ids[id[0]]++; ids[id[0]] == 2 {
			shared = id[0]
		}
	}
	if shared == 0 {
		t.Skip("no shared prefix among 20 ids (chance about 1e-6)")
	}
	fails(t, 125, []string{"ambiguous", string(shared)}, "rm", string(shared))
}

func TestAttach(t *testing.T) {
	t.Parallel()
	id := detached(t, "busybox", "sh", "-c", "sleep 0.5; echo late; echo err >&2; exit 6")
	r := sb(t, "attach", id)
	if r.code != 6 || r.stdout != "late\n" || r.stderr != "err\n" {
		t.Errorf("attach: %s", r)
	}
	fails(t, 125, []string{"start it first"}, "attach", id)
}

// TestDetachKeys: ctrl-p ctrl-q on attach's input detaches, leaving the
// container running; what came before reached the container.
func TestDetachKeys(t *testing.T) {
	t.Parallel()
	id := detached(t, "-i", "busybox", "sh", "-c", "while read l; do echo got:$l; done")
	waitState(t, id, "running")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "attach", id)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "hello\n")
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(out, buf, len("got:hello\n"))
	if got := string(buf[:n]); got != "got:hello\n" {
		t.Errorf("container echoed %q", got)
	}
	in.Write([]byte{0x10, 0x11})
	if err := cmd.Wait(); err != nil {
		t.Errorf("attach after the detach keys: %v", err)
	}
	if e := stateOf(t, id); e.State != "running" {
		t.Errorf("container after detach: %+v", e)
	}
	fails(t, 125, []string{"ctrl-9"}, "attach", "--detach-keys", "ctrl-9", id)
}

func TestRestartPolicy(t *testing.T) {
	t.Parallel()
	id := detached(t, "--restart", "on-failure:2", "busybox", "sh", "-c", "echo ran; exit 3")
	if out := ok(t, "wait", id); out != "3\n" {
		t.Errorf("wait printed %q", out)
	}
	eventually(t, 10*time.Second, func() error {
		if e := stateOf(t, id); e.State != "exited" {
			return fmt.Errorf("still %s", e.State)
		}
		return nil
	})
	log := ok(t, "unshare", "sh", "-c", "cat "+env.root+"/overlay-containers/"+id+"/userdata/ctr.log")
	if n := strings.Count(log, "stdout F ran"); n != 3 {
		t.Errorf("on-failure:2 ran %d times, want 3:\n%s", n, log)
	}
	// always restarts until stopped, and stays stopped.
	always := detached(t, "--restart", "always", "busybox", "sh", "-c", "sleep 0.1")
	time.Sleep(700 * time.Millisecond)
	ok(t, "stop", "-t", "1", always)
	time.Sleep(500 * time.Millisecond)
	if e := stateOf(t, always); e.State != "exited" {
		t.Errorf("--restart always after stop: %+v", e)
	}
	fails(t, 125, []string{"sometimes"}, "run", "--rm", "--restart", "sometimes", "busybox", "true")
	fails(t, 125, []string{"--rm"}, "run", "--rm", "--restart", "always", "busybox", "true")
}

// TestMonitorKilled: a monitor killed with SIGKILL leaves a container that
// ps still shows, that rm -f removes, and no process behind.
func TestMonitorKilled(t *testing.T) {
	t.Parallel()
	id := detached(t, "busybox", "sleep", "300")
	pid := waitState(t, id, "running").Pid
	monitor := parentPid(t, pid)
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", monitor)); !strings.HasPrefix(string(comm), "sandbox-monitor") {
		t.Fatalf("parent of the container is %q, not its monitor", comm)
	}
	syscall.Kill(monitor, syscall.SIGKILL)
	if e := stateOf(t, id); e.State != "running" {
		t.Errorf("with its monitor killed the running container shows %+v", e)
	}
	ok(t, "rm", "-f", id)
	eventually(t, 5*time.Second, func() error {
		if processAlive(pid) {
			return fmt.Errorf("container process %d survived rm -f", pid)
		}
		return nil
	})
	// A monitor killed after its container ended: ps shows it exited.
	id2 := detached(t, "busybox", "sh", "-c", "sleep 0.3")
	pid2 := waitState(t, id2, "running").Pid
	syscall.Kill(parentPid(t, pid2), syscall.SIGKILL)
	waitState(t, id2, "exited")
	ok(t, "rm", id2)
}

func parentPid(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// processAlive: a zombie counts as dead (nothing may reap it here).
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(data), ") Z ")
}

// TestManyDetached: fifty run -d at once all start and are listed.
func TestManyDetached(t *testing.T) {
	// Not parallel: it counts the running containers.
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := sbRaw(&cmdOpts{timeout: 120 * time.Second}, "run", "-d", "--name", fmt.Sprintf("many%d", i), "busybox", "sleep", "60")
			if r.code != 0 {
				errs <- fmt.Errorf("%s", r)
				return
			}
			ids[i] = strings.TrimSpace(r.stdout)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Cleanup(func() {
		args := []string{"rm", "-f"}
		for _, id := range ids {
			if id != "" {
				args = append(args, id)
			}
		}
		sbRaw(&cmdOpts{timeout: 120 * time.Second}, args...)
	})
	all := psAll(t)
	for i, id := range ids {
		if e, there := all[id]; !there || e.State != "running" {
			t.Errorf("container many%d (%.12s) is %+v", i, id, e)
		}
	}
	if out := ok(t, "ps", "-q"); strings.Count(out, "\n") < n {
		t.Errorf("ps lists %d running containers, want at least %d", strings.Count(out, "\n"), n)
	}
}
