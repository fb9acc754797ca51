package hugeheap

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
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
	Back()
	// What a command allocates next: 3 MiB, touched.
	var keep [][]byte
	for i := 0; i < 48; i++ {
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = 1
		}
		keep = append(keep, b)
	}
	if n := anonHuge(t); n < 2048 {
		t.Errorf("AnonHugePages %d kB after Back and 3 MiB allocated, want at least one huge page (2048 kB)", n)
	}
	_ = keep
}
