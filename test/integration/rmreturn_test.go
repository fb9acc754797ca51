package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
