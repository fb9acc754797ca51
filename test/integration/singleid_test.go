package integration

// Rootless integration test run by a user without subordinate ids
// (hack/test-integration.sh runs it as the second test user): sandbox falls
// back to a single-id mapping, warns once, and containers still run.

import (
	"fmt"
	"os"
	"os/user"
	"strings"
	"testing"
)

func TestSingleID(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		data, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, u.Username+":") || strings.HasPrefix(line, u.Uid+":") {
				t.Fatalf("%s has ranges for %s: run this test as a user without any (hack/test-integration.sh does)", f, u.Username)
			}
		}
	}
	rt := freshRuntime(t)
	dir := strings.TrimPrefix(rt[0], "XDG_RUNTIME_DIR=")
	r := sbWith(t, cmdOpts{env: rt}, "--runroot", dir+"/storage", "run", "--rm", "busybox", "sh", "-c", "id -u; cat /proc/self/uid_map")
	if r.code != 0 {
		t.Fatal(r)
	}
	if !strings.Contains(r.stderr, "no subordinate ids") || strings.Count(r.stderr, "WARN") != 1 {
		t.Errorf("want one warning about subordinate ids, got %q", r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || lines[0] != "0" || strings.Join(strings.Fields(lines[1]), " ") != fmt.Sprintf("0 %d 1", os.Getuid()) {
		t.Errorf("want uid 0 mapped to %d only, got %q", os.Getuid(), r.stdout)
	}
	// The warning comes once per keeper, not with every command.
	r = sbWith(t, cmdOpts{env: rt}, "--runroot", dir+"/storage", "run", "--rm", "busybox", "true")
	if r.code != 0 || strings.Contains(r.stderr, "WARN") {
		t.Errorf("second run: %s", r)
	}
}
