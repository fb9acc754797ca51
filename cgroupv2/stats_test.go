// Unit tests (privilege tier: none) of the parsers of cgroup stat files
// and of reading a leaf's figures from a directory laid out like one.
package cgroupv2

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sandbox/spec"
)

func TestParseKeyed(t *testing.T) {
	got, err := ParseKeyed([]byte("usage_usec 12345\nuser_usec 10\nsystem_usec 2\nnr_periods 0\n"))
	if err != nil || !reflect.DeepEqual(got, map[string]uint64{"usage_usec": 12345, "user_usec": 10, "system_usec": 2, "nr_periods": 0}) {
		t.Errorf("ParseKeyed = %v, %v", got, err)
	}
	for _, bad := range []string{"populated\n", "a b c\n", "frozen x\n", "oom -1\n"} {
		if _, err := ParseKeyed([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseKeyed(%q) error %v, want one naming line 1", bad, err)
		}
	}
}

func TestParseValue(t *testing.T) {
	for in, want := range map[string]int64{"max\n": Max, "67108864\n": 64 << 20, "0": 0} {
		if got, err := ParseValue([]byte(in)); err != nil || got != want {
			t.Errorf("ParseValue(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-5", "1.5", "maximum"} {
		if _, err := ParseValue([]byte(bad)); err == nil {
			t.Errorf("ParseValue(%q): no error", bad)
		}
	}
}

func TestParseIOStat(t *testing.T) {
	in := "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n253:0 rbytes=1000 wbytes=24\n"
	got, err := ParseIOStat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []IOStat{
		{Major: 8, Minor: 16, Fields: map[string]uint64{"rbytes": 1459200, "wbytes": 314773504, "rios": 192, "wios": 353, "dbytes": 0, "dios": 0}},
		{Major: 253, Minor: 0, Fields: map[string]uint64{"rbytes": 1000, "wbytes": 24}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseIOStat = %+v", got)
	}
	if r, w := IOTotals(got); r != 1460200 || w != 314773528 {
		t.Errorf("IOTotals = %d, %d", r, w)
	}
	for _, bad := range []string{"8 rbytes=1", "8:x rbytes=1", "8:0 rbytes", "8:0 rbytes=-1", "8:0 =5"} {
		if _, err := ParseIOStat([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseIOStat(%q) error %v", bad, err)
		}
	}
}

func FuzzParseIOStat(f *testing.F) {
	f.Add("8:16 rbytes=1459200 wbytes=314773504 rios=192\n")
	f.Add("x")
	f.Fuzz(func(t *testing.T, in string) {
		devs, err := ParseIOStat([]byte(in))
		if err != nil {
			return
		}
		var r, w uint64
		for _, d := range devs {
			r += d.Fields["rbytes"]
			w += d.Fields["wbytes"]
		}
		if gr, gw := IOTotals(devs); gr != r || gw != w {
			t.Fatalf("IOTotals = %d, %d, want %d, %d", gr, gw, r, w)
		}
	})
}

func FuzzParseKeyed(f *testing.F) {
	f.Add("populated 1\nfrozen 0\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseKeyed([]byte(in))
		if err != nil {
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, " \t\n") {
				t.Fatalf("key %q from %q", k, in)
			}
		}
	})
}

// fakeLeaf makes a directory holding the given files, as a cgroup has.
func fakeLeaf(t *testing.T, files map[string]string) *Leaf {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &Leaf{Dir: dir}
}

func TestLeafStats(t *testing.T) {
	l := fakeLeaf(t, map[string]string{
		"cpu.stat":       "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n",
		"memory.current": "10485760\n",
		"memory.max":     "67108864\n",
		"memory.stat":    "anon 4096\nfile 8192\ninactive_file 1048576\n",
		"memory.events":  "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
		"pids.current":   "3\n",
		"pids.max":       "max\n",
		"io.stat":        "7:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
	})
	s, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{CPUUsageUsec: 2500000, MemoryCurrent: 10 << 20, MemoryInactiveFile: 1 << 20, MemoryMax: 64 << 20,
		ReadBytes: 4096, WriteBytes: 8192, Pids: 3, PidsMax: Max, OOMKills: 1}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Stats = %+v\nwant %+v", s, want)
	}
	if u := s.MemoryUsage(); u != 9<<20 {
		t.Errorf("MemoryUsage = %d", u)
	}
	if n, err := l.OOMKills(); err != nil || n != 1 {
		t.Errorf("OOMKills = %d, %v", n, err)
	}

	// Controllers not enabled: their files are missing, and read as zero.
	bare := fakeLeaf(t, map[string]string{"cpu.stat": "usage_usec 7\n"})
	if s, err := bare.Stats(); err != nil || !reflect.DeepEqual(s, &Stats{CPUUsageUsec: 7, MemoryMax: Max, PidsMax: Max}) {
		t.Errorf("Stats of a leaf without controllers = %+v, %v", s, err)
	}
	gone := &Leaf{Dir: filepath.Join(t.TempDir(), "gone")}
	if _, err := gone.Stats(); err == nil || !strings.Contains(err.Error(), "no cgroup of its own") {
		t.Errorf("Stats of a removed leaf: %v", err)
	}
	if err := gone.Remove(0); err != nil {
		t.Errorf("Remove of a removed leaf: %v", err)
	}
	if err := gone.Kill(); err != nil {
		t.Errorf("Kill of a removed leaf: %v", err)
	}
}

func TestLeafApply(t *testing.T) {
	files := map[string]string{"memory.max": "max", "memory.swap.max": "max", "pids.max": "max", "cpu.max": "max 100000", "io.weight": "default 100"}
	l := fakeLeaf(t, files)
	lim := &spec.Resources{Memory: 64 << 20, PidsLimit: 20, CpuQuota: 50000, BlkioWeight: 1000}
	if err := l.Apply(lim); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"memory.max": "67108864", "memory.swap.max": "67108864", "pids.max": "20",
		"cpu.max": "50000 100000", "io.weight": "default 10000"} {
		if got, _ := os.ReadFile(filepath.Join(l.Dir, file)); string(got) != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}

	// Swap accounting missing: fine for the default, an error when asked.
	noSwap := fakeLeaf(t, map[string]string{"memory.max": ""})
	if err := noSwap.Apply(&spec.Resources{Memory: 1 << 30}); err != nil {
		t.Errorf("default swap without memory.swap.max: %v", err)
	}
	err := noSwap.Apply(&spec.Resources{Memory: 1 << 30, MemorySwap: 1 << 30})
	if err == nil || !strings.Contains(err.Error(), "memory.swap.max") || !strings.Contains(err.Error(), "memory controller") {
		t.Errorf("asked-for swap without memory.swap.max: %v", err)
	}
	// BFQ's weight is preferred, in blkio's own range.
	bfq := fakeLeaf(t, map[string]string{"io.bfq.weight": "100", "io.weight": "default 100"})
	if err := bfq.Apply(&spec.Resources{BlkioWeight: 300}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(bfq.Dir, "io.bfq.weight")); string(got) != "300" {
		t.Errorf("io.bfq.weight = %q", got)
	}
	if err := fakeLeaf(t, nil).Apply(&spec.Resources{PidsLimit: 5}); err == nil || !strings.Contains(err.Error(), "pids controller") {
		t.Errorf("missing pids.max: %v", err)
	}
}

func TestEnable(t *testing.T) {
	l := fakeLeaf(t, map[string]string{"cgroup.subtree_control": "memory pids\n"})
	if err := enable(l.Dir, []string{"cpu", "memory", "pids", "io"}); err != nil {
		t.Fatal(err)
	}
	// Only what is missing is written (on a cgroup file system the
	// result is the union; here the file holds the last write).
	if got, _ := os.ReadFile(filepath.Join(l.Dir, "cgroup.subtree_control")); string(got) != "+cpu +io" {
		t.Errorf("cgroup.subtree_control got %q", got)
	}
}
