// Rootless integration test (privilege tier: unprivileged user) of what a
// kill during containers/storage's first open of a store leaves: its probe
// of overlay's "volatile" option, a directory and a mount in the keeper's
// namespace. The next ordinary command removes them, once no open holds
// the store's graph lock, and probes itself.

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestKilledVolatileProbe(t *testing.T) {
	t.Parallel()
	s := newStoreCmd(t)
	// A running container keeps the keeper, and with it the namespace
	// that holds the probe's mount.
	s.ok(t, "run", "-d", "--name", "keep", "busybox", "sleep", "1000")
	// What a command killed between the probe's mount and unmount leaves:
	// the probe mounted, and no recorded answer, so the next open is a
	// first open again. The driver's other probes leave the same: here
	// the idmapped one's directory, with its mount.
	td := filepath.Join(s.root, "overlay", "volatile-check4242")
	probe := filepath.Join(td, "merged")
	compat := filepath.Join(s.root, "overlay", "compat4242")
	compatMount := filepath.Join(compat, "lower-mapped")
	if out := s.ok(t, "unshare", "sh", "-c", "mkdir -p "+td+"/lower "+td+"/upper "+td+"/work "+probe+
		" && mount -t overlay -o volatile,userxattr,lowerdir="+td+"/lower,upperdir="+td+"/upper,workdir="+td+"/work overlay "+probe+
		" && mkdir -p "+compatMount+" "+compat+"/merged && mount -t tmpfs none "+compatMount+
		" && cat /proc/self/mountinfo"); !strings.Contains(out, " "+probe+" ") || !strings.Contains(out, " "+compatMount+" ") {
		t.Fatalf("the probes are not mounted:\n%s", out)
	}
	answers, err := filepath.Glob(filepath.Join(s.runroot(), "overlay", "volatile-*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		if err := os.Remove(a); err != nil {
			t.Fatal(err)
		}
	}

	// While another open holds the graph lock (as the probe's owner does
	// while it probes), the probe is not touched.
	f, err := os.OpenFile(filepath.Join(s.root, "storage.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLKW, &lk); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- s.sb(t, "ps", "-a") }()
	select {
	case r := <-done:
		t.Fatalf("ps finished while the graph lock was held: %s", r)
	case <-time.After(700 * time.Millisecond):
	}
	if _, err := os.Stat(probe); err != nil {
		t.Fatalf("the probe of a live owner was touched: %v", err)
	}
	lk.Type = syscall.F_UNLCK
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}

	// Released: the waiting command removes the stale probe, mount and
	// directory.
	if r := <-done; r.code != 0 {
		t.Fatalf("ps -a after a killed probe:\n%s", r)
	}
	if hasMount(s.mounts(t), probe) {
		t.Errorf("the stale probe is still mounted after ps -a")
	}
	if _, err := os.Stat(td); err == nil {
		t.Errorf("the stale probe's directory %s is still there after ps -a", td)
	}
	if left, err := filepath.Glob(filepath.Join(s.root, "overlay", "volatile-check*")); err != nil || len(left) > 0 {
		t.Errorf("probe directories left: %v %v", left, err)
	}
	if hasMount(s.mounts(t), compatMount) {
		t.Errorf("the stale idmapped probe is still mounted after ps -a")
	}
	if _, err := os.Stat(compat); err == nil {
		t.Errorf("the stale idmapped probe's directory %s is still there after ps -a", compat)
	}
	// The open that cleaned also probed, in the same hold of the lock, and
	// recorded the answer: no later command probes, so no probe killed
	// after another command's clean can stay behind the answer.
	if answers, err := filepath.Glob(filepath.Join(s.runroot(), "overlay", "volatile-*")); err != nil || len(answers) != 1 {
		t.Errorf("the open that cleaned recorded no probe answer: %v %v", answers, err)
	}
	// A run after it mounts a volatile layer and leaves nothing.
	s.ok(t, "run", "--rm", "busybox", "true")
	if r := s.sb(t, "system", "check"); r.code != 0 {
		t.Errorf("system check after the next command:\n%s", r)
	}
}

func hasMount(ms []string, mp string) bool {
	for _, m := range ms {
		if m == mp || strings.HasPrefix(m, mp+"/") {
			return true
		}
	}
	return false
}
