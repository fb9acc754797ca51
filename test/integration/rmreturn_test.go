package integration

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRunRmRemovedOnReturn: a foreground run --rm returns once its
// container is removed, as docker's does (its command removes it, with no
// cleanup command after it): when run has returned, nothing of the
// container is left in the store, nor mounted, and its remove event is
// recorded. Not parallel: it compares the whole store before and after.
func TestRunRmRemovedOnReturn(t *testing.T) {
	before, mountsBefore := containerDirs(t), storeMounts(t)
	if out := ok(t, "run", "--rm", "--name", "rm-on-return", "--network", "none", "busybox", "echo", "ran"); out != "ran\n" {
		t.Fatalf("output %q", out)
	}
	if after := containerDirs(t); !slices.Equal(before, after) {
		t.Errorf("container directories after run --rm returned: %q, before it: %q", after, before)
	}
	if after := storeMounts(t); !slices.Equal(mountsBefore, after) {
		t.Errorf("mounts after run --rm returned: %q, before it: %q", after, mountsBefore)
	}
	out := ok(t, "events", "--stream=false", "--filter", "container=rm-on-return", "--filter", "event=remove")
	if n := strings.Count(out, "\n"); n != 1 {
		t.Errorf("remove events of rm-on-return: %d, want 1:\n%s", n, out)
	}
	// The exit status stands when the command removes the container.
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
