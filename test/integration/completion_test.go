package integration

// Rootless integration test of shell completion: the scripts, and the
// container and image names they complete.

import (
	"strings"
	"testing"
)

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out := ok(t, "completion", shell); !strings.Contains(out, "sandbox") || len(out) < 500 {
			t.Errorf("completion %s printed %d bytes", shell, len(out))
		}
	}
	id := strings.TrimSpace(ok(t, "create", "--name", "complete-me", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	if out := ok(t, "__complete", "rm", "complete-"); !strings.Contains(out, "complete-me\n") {
		t.Errorf("rm does not complete container names:\n%s", out)
	}
	if out := ok(t, "__complete", "exec", "complete-me", ""); strings.Contains(out, "complete-me") {
		t.Errorf("exec completes a container name as its command:\n%s", out)
	}
	if out := ok(t, "__complete", "container", "exists", "complete-"); !strings.Contains(out, "complete-me\n") {
		t.Errorf("container exists does not complete container names:\n%s", out)
	}
	if out := ok(t, "__complete", "image", "exists", "busy"); !strings.Contains(out, "busybox:latest\n") {
		t.Errorf("image exists does not complete image names:\n%s", out)
	}
	if out := ok(t, "__complete", "top", "complete-me", ""); !strings.Contains(out, "comm\n") {
		t.Errorf("top does not complete its descriptors:\n%s", out)
	}
	if out := ok(t, "__complete", "run", "busy"); !strings.Contains(out, "busybox:latest\n") {
		t.Errorf("run does not complete image names:\n%s", out)
	}
}
