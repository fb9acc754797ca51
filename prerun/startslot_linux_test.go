package prerun

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The turns to start a container (startslot.c): one per slot, taken
// without waiting while one is free; with none free, a wait bounded by
// its limit, and ended by a turn given back. Unit tier: no privileges.
// Locks on two descriptors of one file exclude each other within one
// process too, so one process plays every run.
func TestStartSlotTurns(t *testing.T) {
	dir := t.TempDir()
	a := takeStartSlot(dir, 2, 0)
	b := takeStartSlot(dir, 2, 0)
	if a < 0 || b < 0 {
		t.Fatalf("two free turns of two: got descriptors %d and %d", a, b)
	}
	if waited, _ := StartSlotWait(); waited >= 0 {
		t.Errorf("a free turn recorded a wait of %v", waited)
	}
	for i, fd := range []int{a, b} {
		if flags, err := fcntl(fd, syscall.F_GETFD); err != nil || flags&syscall.FD_CLOEXEC == 0 {
			t.Errorf("turn %d: descriptor %d not close-on-exec (flags %#x, %v)", i, fd, flags, err)
		}
	}
	if ino(t, a) == ino(t, b) {
		t.Fatalf("both turns hold the same slot file")
	}

	// All taken: the wait ends at its limit, without a turn.
	begin := time.Now()
	if fd := takeStartSlot(dir, 2, 150*time.Millisecond); fd >= 0 {
		syscall.Close(fd)
		t.Fatalf("a third turn of two was given")
	}
	if d := time.Since(begin); d < 150*time.Millisecond || d > 3*time.Second {
		t.Errorf("the wait for a turn took %v, want its limit of 150ms", d)
	}
	if waited, _ := StartSlotWait(); waited < 150*time.Millisecond || waited > 3*time.Second {
		t.Errorf("the wait recorded is %v, want about 150ms", waited)
	}

	// A turn given back ends the wait. The wait is on slot pid%2: give
	// that one back, from another thread, while it waits.
	mine := os.Getpid() % 2
	held := []int{a, b}
	if ino(t, held[mine]) != ino(t, filepath.Join(dir, slotName(mine))) {
		held[0], held[1] = held[1], held[0]
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		syscall.Close(held[mine])
	}()
	begin = time.Now()
	fd := takeStartSlot(dir, 2, 10*time.Second)
	if fd < 0 {
		t.Fatalf("no turn once one was given back")
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("the turn given back ended the wait after %v", d)
	}
	if ino(t, fd) != ino(t, filepath.Join(dir, slotName(mine))) {
		t.Errorf("the turn taken is not the one given back")
	}
	syscall.Close(fd)
	syscall.Close(held[1-mine])
}

// A slot file that is not a regular file is not used, and no turn is
// waited for: the run goes on without one.
func TestStartSlotNotAFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, slotName(0)), 0o700); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if fd := takeStartSlot(dir, 1, 5*time.Second); fd >= 0 {
		syscall.Close(fd)
		t.Fatalf("a turn was taken on a directory")
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("waited %v for a slot that cannot be used", d)
	}
	if fd := takeStartSlot(filepath.Join(dir, "missing"), 1, 5*time.Second); fd >= 0 {
		syscall.Close(fd)
		t.Fatalf("a turn was taken in a directory that does not exist")
	}
}

func slotName(i int) string { return fmt.Sprintf("start-slot.%d", i) }

func fcntl(fd, cmd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// ino is the inode of a descriptor (int) or a path (string).
func ino(t *testing.T, what any) uint64 {
	t.Helper()
	var st syscall.Stat_t
	var err error
	switch w := what.(type) {
	case int:
		err = syscall.Fstat(w, &st)
	case string:
		err = syscall.Stat(w, &st)
	}
	if err != nil {
		t.Fatalf("stat %v: %v", what, err)
	}
	return st.Ino
}
