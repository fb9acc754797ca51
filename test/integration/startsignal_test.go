package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Signals that reach a run after it has claimed its container and before
// the container runs neither kill it half-way nor reach the container:
// the run goes on, and its status is the container's (a detached run's,
// 0 and the container's id). The store's lock holds the run between the
// claim and the container's start.
func TestSignalsBeforeStart(t *testing.T) {
	t.Run("attached", func(t *testing.T) { signalsBeforeStart(t, false) })
	t.Run("detached", func(t *testing.T) { signalsBeforeStart(t, true) })
}

func signalsBeforeStart(t *testing.T, detach bool) {
	runDirs := filepath.Join(env.runroot, "sandbox-containers")
	before := map[string]bool{}
	if entries, err := os.ReadDir(runDirs); err == nil {
		for _, e := range entries {
			before[e.Name()] = true
		}
	}
	release := holdLayers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out strings.Builder
	args := []string{"run", "--rm", "--network", "none", "busybox", "echo", "ran"}
	if detach {
		args = append([]string{"run", "-d"}, args[2:]...)
	}
	cmd := command(ctx, nil, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	claimed := ""
	for deadline := time.Now().Add(10 * time.Second); claimed == "" && time.Now().Before(deadline); {
		entries, _ := os.ReadDir(runDirs)
		for _, e := range entries {
			if !before[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
				claimed = e.Name()
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if claimed == "" {
		release()
		cmd.Wait()
		t.Fatalf("the run claimed no container in 10 s: %s", out.String())
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	release()
	err := cmd.Wait()
	const want = "ran\n"
	if detach {
		if err != nil || strings.TrimSpace(out.String()) != claimed {
			t.Fatalf("run -d signalled before its container started: %v, output %q, want the id %s", err, out.String(), claimed)
		}
		defer sb(t, "rm", "-f", claimed)
		eventually(t, 10*time.Second, func() error {
			if logs := ok(t, "logs", claimed); logs != want {
				return fmt.Errorf("the detached container's logs: %q, want %q", logs, want)
			}
			return nil
		})
		return
	}
	if err != nil || out.String() != want {
		t.Fatalf("run signalled before its container started: %v, output %q", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(runDirs, claimed)); err == nil {
		eventually(t, 10*time.Second, func() error {
			if _, err := os.Stat(filepath.Join(runDirs, claimed)); err == nil {
				return os.ErrExist
			}
			return nil
		})
	}
}
