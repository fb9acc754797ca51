package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunTakesTurns: a `sandbox run` waits for its turn to start a
// container while as many starts as there are CPUs are under way
// (prerun/startslot.c), and waits as one small process, before its Go
// runtime or its monitor has started; the turn comes when one is given
// back; a command other than run does not wait; a foreground run gives
// its turn back once its container has started, not when it ends; and a
// run gives it back before it pulls.
// Rootless tier. Not parallel: it holds every turn of the test user for
// a while, which parallel tests' runs would wait behind.
func TestRunTakesTurns(t *testing.T) {
	dir := slotDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	held := holdSlots(t, dir, runtime.NumCPU())
	for i, f := range held {
		if f == nil {
			t.Fatalf("turn %d is held by another process: no run may be under way during this test", i)
		}
	}

	// 1. All taken: a run waits, one thread, no child.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "--log-level", "debug", "run", "--rm", "--network", "none", "busybox", "true")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(time.Second)
	select {
	case err := <-done:
		t.Fatalf("run ended (%v) while every turn was taken: %s", err, out.String())
	default:
	}
	if n := threads(cmd.Process.Pid); n != 1 {
		t.Errorf("a run waiting for its turn has %d threads, want 1: its Go runtime started", n)
	}
	if kids, err := childrenOf(cmd.Process.Pid); err != nil || len(kids) != 0 {
		t.Errorf("a run waiting for its turn has children %v (%v): its monitor started", kids, err)
	}

	// 2. Another command does not wait.
	r := sbRaw(&cmdOpts{timeout: 4 * time.Second}, "ps", "-a")
	if r.code != 0 {
		t.Errorf("ps while every turn was taken (it must not wait for one): %s", r)
	}

	// 3. A turn given back ends the wait.
	for _, f := range held {
		f.Close()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after its wait: %v: %s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run still waiting 30 s after the turns were given back")
	}
	if d := time.Since(begin); d < time.Second {
		t.Errorf("run took %v: it did not wait for its turn", d)
	}
	// --log-level debug tells of the wait.
	if !strings.Contains(out.String(), "for a turn to start a container") {
		t.Errorf("run --log-level debug does not tell of its wait for a turn: %q", out.String())
	}

	// 4. A foreground run holds no turn once its container runs.
	name := "turns-fg"
	fg := command(ctx, nil, "run", "--rm", "--name", name, "--network", "none", "busybox", "sleep", "60")
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb(t, "rm", "-f", name)
		fg.Wait()
	})
	eventually(t, 30*time.Second, func() error {
		if r := sb(t, "inspect", "--format", "{{.State.Running}}", name); strings.TrimSpace(r.stdout) != "true" {
			return fmt.Errorf("container %s not running: %s", name, r)
		}
		return nil
	})
	for i, f := range holdSlots(t, dir, runtime.NumCPU()) {
		if f == nil {
			t.Errorf("turn %d still held while the foreground run's container runs", i)
		} else {
			f.Close()
		}
	}
	if st := procState(fg.Process.Pid); st == 0 || st == 'Z' {
		t.Fatalf("the foreground run is not running (state %q): its turns went with it", st)
	}

	// 5. A run holds no turn while it pulls: here from a registry that
	// takes the connection and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connected := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			connected <- c
		}
	}()
	image := ln.Addr().String() + "/stalled/image:1"
	pull := command(ctx, nil, "run", "--rm", "--network", "none", image, "true")
	if err := pull.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-connected:
		defer c.Close()
	case <-time.After(30 * time.Second):
		pull.Process.Kill()
		pull.Wait()
		t.Fatalf("the run of %s never reached the registry", image)
	}
	for i, f := range holdSlots(t, dir, runtime.NumCPU()) {
		if f == nil {
			t.Errorf("turn %d held while a run waits for the registry", i)
		} else {
			f.Close()
		}
	}
	// Killed: a run that is killed leaves only its claim of a run
	// directory, which the next command removes.
	pull.Process.Kill()
	pull.Wait()
}

// slotDir is the runtime directory where the pre-runtime hook keeps the
// turns: $XDG_RUNTIME_DIR/sandbox when that directory is the user's, as
// hook.c decides.
func slotDir() string {
	xdg := os.Getenv("XDG_RUNTIME_DIR")
	var st syscall.Stat_t
	if xdg != "" && syscall.Stat(xdg, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR && int(st.Uid) == os.Getuid() {
		return filepath.Join(xdg, "sandbox")
	}
	return fmt.Sprintf("/tmp/sandbox-run-%d", os.Getuid())
}

// holdSlots locks the n slot files in dir without waiting, as a run
// would; an element is nil where another process holds that turn. The
// turns held are given back at the test's end, if not before.
func holdSlots(t *testing.T, dir string, n int) []*os.File {
	t.Helper()
	files := make([]*os.File, n)
	for i := range files {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("start-slot.%d", i)), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			continue
		}
		if err != nil {
			t.Fatalf("lock %s: %v", f.Name(), err)
		}
		files[i] = f
		t.Cleanup(func() { f.Close() })
	}
	return files
}
