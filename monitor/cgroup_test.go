// Unit tests (privilege tier: none) of how the monitor holds a pids limit
// back while an init starts, over a directory laid out like a cgroup.

package monitor

import (
	"os"
	"path/filepath"
	"testing"

	"sandbox/cgroupv2"

	"golang.org/x/sys/unix"
)

func TestLeafHoldsPids(t *testing.T) {
	dir := t.TempDir()
	pidsFile := filepath.Join(dir, "pids.max")
	write := func(v string) {
		if err := os.WriteFile(pidsFile, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func() string {
		data, err := os.ReadFile(pidsFile)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "monitor"), os.NewFile(uintptr(pair[1]), "init")
	defer ours.Close()
	defer theirs.Close()
	replied := func() bool {
		buf := make([]byte, 16)
		n, _, _, _, err := unix.Recvmsg(int(theirs.Fd()), buf, nil, unix.MSG_DONTWAIT)
		return err == nil && n > 0
	}

	// First run: the limit asked for is held, and applied at exec.
	write("max")
	l := &leaf{Leaf: &cgroupv2.Leaf{Dir: dir}, pids: "5"}
	if err := l.beforeClone(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "max" || !l.holdsExec() {
		t.Fatalf("while the init starts: pids.max %q, holds %v", got, l.holdsExec())
	}
	if err := l.atExec(ours); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "5" || !replied() || l.holdsExec() {
		t.Fatalf("at exec: pids.max %q, holds %v", got, l.holdsExec())
	}

	// A restart after update changed the limit: the limit in force is held.
	write("7")
	if err := l.beforeClone(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "max" || l.pids != "7" {
		t.Fatalf("restart: pids.max %q, held %q", got, l.pids)
	}
	if err := l.atExec(ours); err != nil || read() != "7" || !replied() {
		t.Fatalf("restart at exec: %v, pids.max %q", err, read())
	}

	// No limit: nothing held, no waiting at exec.
	write("max")
	if err := l.beforeClone(); err != nil || l.holdsExec() {
		t.Fatalf("no limit: %v, holds %v", err, l.holdsExec())
	}
	// No pids controller: the same.
	if err := os.Remove(pidsFile); err != nil {
		t.Fatal(err)
	}
	if err := l.beforeClone(); err != nil || l.holdsExec() {
		t.Fatalf("no pids.max: %v, holds %v", err, l.holdsExec())
	}

	// Without a cgroup every method is a no-op.
	var none *leaf
	if err := none.beforeClone(); err != nil || none.holdsExec() || none.fd() != -1 || none.path() != "" || none.ooms() != 0 {
		t.Error("a nil leaf is not inert")
	}
	none.close()
}
