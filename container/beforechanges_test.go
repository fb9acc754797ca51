package container

import (
	"context"
	"os"
	"testing"

	"sandbox/cgroupv2/systemd"
)

// A run waits for BeforeChanges (the command's signal handlers) before it
// claims its run directory, and a create without it claims as before.
func TestBeforeChangesComesFirst(t *testing.T) {
	r := &Runtime{runRoot: t.TempDir(), CgroupManager: systemd.Cgroupfs}
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	calls := 0
	r.BeforeChanges = func() {
		calls++
		if _, err := os.Stat(r.runDir(id)); !os.IsNotExist(err) {
			t.Errorf("the run directory is there before BeforeChanges returned: %v", err)
		}
	}
	p, err := r.prepare(context.Background(), &CreateOptions{Image: "busybox"}, id)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("BeforeChanges called %d times, want once", calls)
	}
	if _, err := os.Stat(p.runDir); err != nil {
		t.Fatalf("no run directory claimed: %v", err)
	}
}
