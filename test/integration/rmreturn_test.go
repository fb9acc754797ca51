package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRunRmRemovedOnReturn: once a foreground run --rm has returned, its
// container is gone for every command, as after docker's run --rm, which
// returns once the container is removed. A container that exits 0 is
// removed by its monitor's cleanup after the status went out, its removal
// marked as under way, and the commands after it wait for that; one that
// fails (1 to 125) is removed by the command itself before it returns,
// after it has looked for a full disk. Not parallel: it compares the
// whole store before and after.
func TestRunRmRemovedOnReturn(t *testing.T) {
	before, mountsBefore := containerDirs(t), storeMounts(t)
	removals := filepath.Join(env.runroot, "sandbox-removals")
	for round := 0; round < 5; round++ {
		name := fmt.Sprintf("rm-on-return-%d", round)
		if out := ok(t, "run", "--rm", "--name", name, "--network", "none", "busybox", "echo", "ran"); out != "ran\n" {
			t.Fatalf("output %q", out)
		}
		// At once, with the removal possibly under way: its events are
		// past events, and once a command has waited for it nothing of
		// the container is left in the store.
		out := ok(t, "events", "--stream=false", "--filter", "container="+name, "--filter", "event=remove")
		if n := strings.Count(out, "\n"); n != 1 {
			t.Errorf("remove events of %s right after it returned: %d, want 1:\n%s", name, n, out)
		}
		if after := containerDirs(t); !slices.Equal(before, after) {
			t.Errorf("container directories after run --rm returned: %q, before it: %q", after, before)
		}
		// The name is free, the container not there.
		id := strings.TrimSpace(ok(t, "create", "--name", name, "--network", "none", "busybox", "true"))
		ok(t, "rm", id)
		if r := sb(t, "container", "exists", name); r.code != 1 {
			t.Fatalf("container exists %s after run --rm returned: exit %d, want 1", name, r.code)
		}
	}
	ok(t, "run", "--rm", "--network", "none", "busybox", "true")
	ok(t, "system", "check", "--max", "0s")
	if after := containerDirs(t); !slices.Equal(before, after) {
		t.Errorf("container directories after run --rm returned and system check: %q, before it: %q", after, before)
	}
	if after := storeMounts(t); !slices.Equal(mountsBefore, after) {
		t.Errorf("mounts after run --rm returned and system check: %q, before it: %q", after, mountsBefore)
	}
	if marks, err := os.ReadDir(removals); err != nil && !errors.Is(err, fs.ErrNotExist) || len(marks) > 0 {
		t.Errorf("removal marks left: %v %v", marks, err)
	}
	// The exit status stands when the command removes the container, and
	// the container is gone when it returns, before any other command.
	fails(t, 3, nil, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "exit 3")
	if after := containerDirs(t); !slices.Equal(before, after) {
		t.Errorf("container directories after a failed run --rm returned: %q, before it: %q", after, before)
	}
}

// TestRunRmDetached: a foreground run --rm that detaches (ctrl-p ctrl-q)
// is not there when the container exits; the monitor then removes the
// container itself, as after run -d --rm.
func TestRunRmDetached(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "run", "--rm", "-i", "--name", "rm-detached", "--network", "none", "busybox", "sh", "-c", "read l; echo got:$l; sleep 3")
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
	if n, _ := io.ReadAtLeast(out, buf, len("got:hello\n")); string(buf[:n]) != "got:hello\n" {
		t.Fatalf("output before detaching: %q", buf[:n])
	}
	id := strings.TrimSpace(ok(t, "inspect", "--format", "{{.Id}}", "rm-detached"))
	io.WriteString(in, "\x10\x11")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run --rm -i after ctrl-p ctrl-q: %v", err)
	}
	eventually(t, 15*time.Second, func() error {
		if r := sb(t, "container", "exists", "rm-detached"); r.code != 1 {
			return fmt.Errorf("container exists rm-detached: exit %d, want 1 once it has exited", r.code)
		}
		if slices.Contains(containerDirs(t), id) {
			return fmt.Errorf("the directory of %.12s is still in the store", id)
		}
		return nil
	})
}

// containerDirs lists the containers' directories in the store.
func containerDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(env.root, "overlay-containers"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestRunRmNameAtOnce: the name of a run --rm's container is free for the
// next command at once, also when the removal ends between that command's
// first try at the name and its look at who holds it (that command then
// takes the name; it said the name was in use, about once in 60 rounds
// here). The race is a matter of timing: rounds make it likely.
func TestRunRmNameAtOnce(t *testing.T) {
	for round := 0; round < 40; round++ {
		name := fmt.Sprintf("rm-name-at-once-%d", round%4)
		ok(t, "run", "--rm", "--name", name, "--network", "none", "busybox", "true")
		r := sb(t, "create", "--name", name, "--network", "none", "busybox", "true")
		if r.code != 0 {
			t.Fatalf("round %d: create --name %s right after its run --rm returned: %s", round, name, r)
		}
		ok(t, "rm", strings.TrimSpace(r.stdout))
	}
}
