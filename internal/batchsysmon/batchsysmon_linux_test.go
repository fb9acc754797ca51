package batchsysmon

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestFirstAfter(t *testing.T) {
	for _, c := range []struct {
		name string
		self int
		tids []string
		want int
	}{
		{"next ids", 100, []string{"100", "101", "102", "105"}, 101},
		{"order of the listing", 100, []string{"105", "100", "102", "101"}, 101},
		{"ids taken by others between", 100, []string{"100", "140", "170"}, 140},
		{"wrapped after the main thread", 4194300, []string{"4194300", "300", "301"}, 300},
		{"wrapped later", 4194300, []string{"4194300", "4194301", "300"}, 4194301},
		{"only the main thread", 100, []string{"100"}, 0},
		{"none", 100, nil, 0},
		{"not a number", 100, []string{"100", "self", "101"}, 101},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := firstAfter(c.self, c.tids); got != c.want {
				t.Errorf("firstAfter(%d, %q) = %d, want %d", c.self, c.tids, got, c.want)
			}
		})
	}
}

// policy is the scheduling policy of thread tid of this process (field
// 41 of its stat), -1 when unreadable.
func policy(t *testing.T, tid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	p, err := strconv.Atoi(f[38]) // field 41; f[0] is field 3
	if err != nil {
		t.Fatalf("stat of %d: %q: %v", tid, s, err)
	}
	return p
}

// TestSysmonBatch: in this test binary, which imports the package, the
// runtime's first thread after the main one is under SCHED_BATCH and the
// main thread is not.
func TestSysmonBatch(t *testing.T) {
	tid := sysmonThread()
	if tid == 0 {
		t.Fatal("no thread besides the main one")
	}
	if p := policy(t, tid); p != schedBatch {
		t.Errorf("thread %d (sysmon): policy %d, want SCHED_BATCH (%d)", tid, p, schedBatch)
	}
	if p := policy(t, syscall.Getpid()); p != 0 {
		t.Errorf("main thread: policy %d, want SCHED_OTHER (0)", p)
	}
}
