package hugeheap

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// anonHuge is AnonHugePages of /proc/self/smaps_rollup, in kB.
func anonHuge(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "AnonHugePages:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("smaps_rollup: %q: %v", sc.Text(), err)
			}
			return n
		}
	}
	t.Fatal("smaps_rollup has no AnonHugePages line")
	return 0
}

// TestBack: after Back, the heap the process allocates is backed by huge
// pages (the one collapsed, or those its next faults take); before it,
// this test process has none (the kernel here gives huge pages only to
// memory that asks for them).
func TestBack(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skipf("no transparent huge pages on this kernel (%q, %v)", mode, err)
	}
	if !bytes.Contains(mode, []byte("[always]")) {
		if n := anonHuge(t); n != 0 {
			t.Fatalf("AnonHugePages %d kB before Back, want 0 (huge pages are %q)", n, mode)
		}
	}
	Back(2 << 20)
	// What a command allocates next: 3 MiB, touched.
	keep := touched(48)
	if n := anonHuge(t); n < 2048 {
		t.Errorf("AnonHugePages %d kB after Back and 3 MiB allocated, want at least one huge page (2048 kB)", n)
	}
	_ = keep
}

// spacer puts the frontier of spilled's heap near the end of its chunk.
var spacer []byte

// spilledChild is set in the environment of the process TestBackNearChunkEnd
// starts.
const spilledChild = "HUGEHEAP_TEST_SPILLED_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(spilledChild) == "1" {
		os.Exit(spilled())
	}
	os.Exit(m.Run())
}

// spilled is the child of TestBackNearChunkEnd: a fresh process whose heap
// frontier is put 256 KiB before the end of its chunk (as the runtime's
// random start of the heap leaves it in some starts), then Back, then 1.5
// MiB allocated and touched (about what a run's command allocates after
// Back). It prints the page faults the touching took.
func spilled() int {
	debug.SetGCPercent(-1)
	at := frontier()
	if room := (at+chunk)&^(chunk-1) - at - probeSize; room > 256<<10 {
		spacer = make([]byte, room-256<<10)
	}
	Back(2 << 20)
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	touched(24)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(after.Minflt - before.Minflt)
	return 0
}

// touched allocates n objects of 64 KiB and writes every byte of them.
func touched(n int) [][]byte {
	var keep [][]byte
	for i := 0; i < n; i++ {
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = 1
		}
		keep = append(keep, b)
	}
	return keep
}

// TestBackNearChunkEnd: a heap that starts near the end of the runtime's
// chunk grows into the next one; Back gets that one huge pages too, so 1.5
// MiB allocated after it take far fewer faults than one per 4 KiB page
// (384: 250-380 were seen here when the next chunk had no huge pages). A
// few land in the runtime's free pages below the frontier, 4 KiB each: up
// to about 120 were seen here.
func TestBackNearChunkEnd(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skipf("no transparent huge pages on this kernel (%q, %v)", mode, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), spilledChild+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	faults, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("child printed %q: %v", out, err)
	}
	if faults > 192 {
		t.Errorf("1.5 MiB touched after Back near the end of a chunk took %d page faults, want at most 192 (huge pages)", faults)
	}
}
