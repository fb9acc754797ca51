// Rootless integration tests (privilege tier: unprivileged user) of what
// faults and races leave behind: after each, the next command works and
// the store holds nothing half-made.

package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestRestartRunsOnMountedRoot restarts containers over and over: a start
// right after a stop must not run the container before the previous run's
// cleanup has unmounted its root, or on a root that cleanup then takes away
// ("exec sleep: executable file not found", and an rm -f that fails with
// "replacing mount point: directory not empty"). The window was the
// monitor's exec of its cleanup from a thread other than its leader, when
// the monitor reads as a zombie for a moment and seemed gone; about 1 start
// in 50 hit it here, so 160 starts catch it almost always.
func TestRestartRunsOnMountedRoot(t *testing.T) {
	const containers, rounds = 4, 40
	var names []string
	for i := range containers {
		name := fmt.Sprintf("restart-race-%d", i)
		ok(t, "run", "-d", "--name", name, "busybox", "sleep", "1000")
		names = append(names, name)
	}
	defer sb(t, append([]string{"rm", "-f"}, names...)...)
	for round := range rounds {
		// stop then start, and restart: the two paths of a start after a stop.
		if round%2 == 0 {
			ok(t, append([]string{"restart", "-t", "0"}, names...)...)
		} else {
			ok(t, append([]string{"stop", "-t", "0"}, names...)...)
			ok(t, append([]string{"start"}, names...)...)
		}
		for _, name := range names {
			if got := ok(t, "inspect", "--format", "{{.State.Status}} {{.State.Error}}", name); strings.TrimSpace(got) != "running" {
				t.Fatalf("round %d: %s after a start: %q", round, name, got)
			}
		}
	}
	ok(t, append([]string{"rm", "-f"}, names...)...)
	for _, m := range storeMounts(t) {
		t.Errorf("mount left after rm -f: %s", m)
	}
}
