// Unit tests (privilege tier: none) of the pure parts of limits: the
// files a spec.Resources writes, the quota and weight arithmetic, and cpuset
// lists.
package cgroupv2

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sandbox/spec"
)

func i64(v int64) *int64 { return &v }

// testDevices are the block devices of the tests: /dev/loop0 and
// /dev/loop1, 7:0 and 7:1.
func testDevices(path string) (uint32, uint32, error) {
	switch path {
	case "/dev/loop0":
		return 7, 0, nil
	case "/dev/loop1":
		return 7, 1, nil
	}
	return 0, 0, fmt.Errorf("%q is not a block device", path)
}

func TestSettings(t *testing.T) {
	loop := func(path string, rate uint64) []spec.ThrottleDevice {
		return []spec.ThrottleDevice{{Path: path, Rate: rate}}
	}
	tests := []struct {
		name string
		in   spec.Resources
		want []Setting
		ctls []string
	}{
		{name: "nothing", in: spec.Resources{}},
		{name: "memory with default swap", in: spec.Resources{Memory: 64 << 20},
			want: []Setting{
				{File: "memory.max", Value: "67108864", Controller: "memory"},
				{File: "memory.swap.max", Value: "67108864", Controller: "memory", Optional: true},
			}, ctls: []string{"memory"}},
		{name: "swap asked for, no swap at all", in: spec.Resources{Memory: 1 << 30, MemorySwap: 1 << 30},
			want: []Setting{
				{File: "memory.max", Value: "1073741824", Controller: "memory"},
				{File: "memory.swap.max", Value: "0", Controller: "memory"},
			}, ctls: []string{"memory"}},
		{name: "lifting limits writes max", in: spec.Resources{MemorySwap: Max, PidsLimit: Max, CpuQuota: Max},
			want: []Setting{
				{File: "cpu.max", Value: "max 100000", Controller: "cpu"},
				{File: "memory.swap.max", Value: "max", Controller: "memory"},
				{File: "pids.max", Value: "max", Controller: "pids"},
			}, ctls: []string{"cpu", "memory", "pids"}},
		{name: "everything, in order", in: spec.Resources{
			Memory: 64 << 20, MemoryReservation: 32 << 20, NanoCpus: 5e8, CpuShares: 1024,
			CpusetCpus: "0-1", CpusetMems: "0", PidsLimit: 20, BlkioWeight: 500,
			BlkioDeviceReadBps:  loop("/dev/loop0", 1<<20),
			BlkioDeviceWriteBps: []spec.ThrottleDevice{{Path: "/dev/loop0", Rate: 2 << 20}, {Path: "/dev/loop1", Rate: 5}}},
			want: []Setting{
				{File: "cpuset.cpus", Value: "0-1", Controller: "cpuset"},
				{File: "cpuset.mems", Value: "0", Controller: "cpuset"},
				{File: "cpu.weight", Value: "100", Controller: "cpu"},
				{File: "cpu.max", Value: "50000 100000", Controller: "cpu"},
				{File: "memory.low", Value: "33554432", Controller: "memory"},
				{File: "memory.max", Value: "67108864", Controller: "memory"},
				{File: "memory.swap.max", Value: "67108864", Controller: "memory", Optional: true},
				{File: "pids.max", Value: "20", Controller: "pids"},
				{File: "io.max", Value: "7:0 rbps=1048576 wbps=2097152", Controller: "io"},
				{File: "io.max", Value: "7:1 wbps=5", Controller: "io"},
			}, ctls: []string{"cpu", "cpuset", "io", "memory", "pids"}},
		{name: "quota and period", in: spec.Resources{CpuQuota: 20000, CpuPeriod: 50000, CpuWeight: 7},
			want: []Setting{
				{File: "cpu.weight", Value: "7", Controller: "cpu"},
				{File: "cpu.max", Value: "20000 50000", Controller: "cpu"},
			}, ctls: []string{"cpu"}},
		{name: "a period alone", in: spec.Resources{CpuPeriod: 50000},
			want: []Setting{{File: "cpu.max", Value: "max 50000", Controller: "cpu"}}, ctls: []string{"cpu"}},
		{name: "blkio weight alone needs io", in: spec.Resources{BlkioWeight: 10}, ctls: []string{"io"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := settings(&tt.in, testDevices)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("settings() =\n%+v, %v\nwant\n%+v", got, err, tt.want)
			}
			if got := Needed(&tt.in); !reflect.DeepEqual(got, tt.ctls) {
				t.Errorf("Needed() = %v, want %v", got, tt.ctls)
			}
			// A file's controller is checked before it is written: a flag
			// missing from flagsOf would be written unchecked.
			for _, s := range got {
				if !slices.Contains(Needed(&tt.in), s.Controller) {
					t.Errorf("%s needs %s, which Needed leaves out", s.File, s.Controller)
				}
			}
		})
	}
	if _, err := settings(&spec.Resources{BlkioDeviceReadBps: loop("/dev/sdz", 1)}, testDevices); err == nil || !strings.Contains(err.Error(), "/dev/sdz") {
		t.Errorf("a device that went: %v", err)
	}
	flags := flagsOf(&tests[4].in)
	if flags["memory"] != "--memory, --memory-reservation" || flags["io"] != "--blkio-weight, --device-read-bps, --device-write-bps" || flags["cpu"] != "--cpus, --cpu-shares" {
		t.Errorf("flagsOf = %v", flags)
	}
}

func TestQuotaForCPUs(t *testing.T) {
	for nano, want := range map[int64]int64{
		0: 0, -5: 0, 500_000_000: 50000, 1e9: 100000, 1_500_000_000: 150000, 2e9: 200000,
		10_000_000: 1000, 1_000_000: MinCPUQuota, 1: MinCPUQuota, 123_456_789: 12345,
		9_223_372_036_854_775_807: 922337203685477, // no overflow
	} {
		if got := QuotaForCPUs(nano); got != want {
			t.Errorf("QuotaForCPUs(%d) = %d, want %d", nano, got, want)
		}
	}
	if got := CPUMax(QuotaForCPUs(5e8), DefaultCPUPeriod); got != "50000 100000" {
		t.Errorf("cpu.max for --cpus 0.5 = %q", got)
	}
	if got := CPUMax(0, 0); got != "max 100000" {
		t.Errorf("CPUMax(0, 0) = %q", got)
	}
}

func TestParseCPUs(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "0.5", want: 5e8}, {in: "1", want: 1e9}, {in: "1.5", want: 15e8}, {in: ".25", want: 25e7},
		{in: "2.", want: 2e9}, {in: "0.000000001", want: 1}, {in: "16", want: 16e9},
		{in: "-1", wantErr: `invalid --cpus "-1"`}, {in: "0", wantErr: "more than 0"}, {in: "0.0", wantErr: "more than 0"},
		{in: "", wantErr: "invalid"}, {in: ".", wantErr: "invalid"}, {in: "1e3", wantErr: "invalid"},
		{in: "0.0000000001", wantErr: "invalid"}, {in: " 1", wantErr: "invalid"}, {in: "+1", wantErr: "invalid"},
		{in: "1.2.3", wantErr: "invalid"}, {in: "99999999999", wantErr: "too large"}, {in: "abc", wantErr: "invalid"},
	}
	for _, tt := range tests {
		got, err := ParseCPUs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCPUs(%q) = %d, %v; want an error naming %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseCPUs(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseCPUs(f *testing.F) {
	for _, s := range []string{"0.5", "1", ".25", "2.", "-1", "1e3", "0.000000001", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCPUs(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name %q on one line", err, s)
			}
			return
		}
		if n <= 0 {
			t.Fatalf("ParseCPUs(%q) = %d, want more than 0", s, n)
		}
		// The canonical form parses to the same value.
		canon := strconv.FormatInt(n/1e9, 10) + "." + strings.TrimRight(strconv.FormatInt(1e9+n%1e9, 10)[1:], "0")
		if back, err := ParseCPUs(canon); err != nil || back != n {
			t.Fatalf("ParseCPUs(%q) = %d, but %q gives %d, %v", s, n, canon, back, err)
		}
		if q := QuotaForCPUs(n); q < MinCPUQuota {
			t.Fatalf("quota %d for %q is below the kernel's minimum", q, s)
		}
	})
}

func TestSharesToWeight(t *testing.T) {
	// Values of runc's and crun's current conversion.
	for shares, want := range map[uint64]uint64{0: 0, 1: 1, 2: 1, 3: 2, 512: 59, 1024: 100, 2048: 174, 100000: 4340, 262144: 10000, 1 << 30: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

func FuzzSharesToWeight(f *testing.F) {
	f.Add(uint64(1024), uint64(1025))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		if a > b {
			a, b = b, a
		}
		wa, wb := SharesToWeight(a), SharesToWeight(b)
		if a > 0 && (wa < 1 || wa > 10000) {
			t.Fatalf("SharesToWeight(%d) = %d, out of 1-10000", a, wa)
		}
		if wa > wb {
			t.Fatalf("not monotonic: SharesToWeight(%d) = %d > SharesToWeight(%d) = %d", a, wa, b, wb)
		}
	})
}

func TestBlkioToIOWeight(t *testing.T) {
	for w, want := range map[uint16]uint64{0: 0, 10: 1, 500: 4950, 1000: 10000, 5: 1} {
		if got := BlkioToIOWeight(w); got != want {
			t.Errorf("BlkioToIOWeight(%d) = %d, want %d", w, got, want)
		}
	}
}

func TestSwapLimit(t *testing.T) {
	tests := []struct {
		mem, swap int64
		want      *int64
		wantErr   string
	}{
		{mem: 0, swap: 0, want: nil},
		{mem: 100, swap: 0, want: i64(100)},
		{mem: 100, swap: 100, want: i64(0)},
		{mem: 100, swap: 300, want: i64(200)},
		{mem: 100, swap: -1, want: i64(Max)},
		{mem: 0, swap: -1, want: i64(Max)},
		{mem: 100, swap: 50, wantErr: "at least --memory"},
		{mem: 0, swap: 50, wantErr: "needs --memory"},
	}
	for _, tt := range tests {
		got, err := SwapLimit(tt.mem, tt.swap)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SwapLimit(%d, %d) error %v, want %q", tt.mem, tt.swap, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SwapLimit(%d, %d) = %v, %v", tt.mem, tt.swap, got, err)
		}
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		format  string
		wantErr string
	}{
		{in: "", want: nil, format: ""},
		{in: "0", want: []int{0}, format: "0"},
		{in: "0-3,5,7-8\n", want: []int{0, 1, 2, 3, 5, 7, 8}, format: "0-3,5,7-8"},
		{in: "3,1,2,2", want: []int{1, 2, 3}, format: "1-3"},
		{in: "4-4", want: []int{4}, format: "4"},
		{in: "3-1", wantErr: "backwards"},
		{in: "a", wantErr: "bad number"},
		{in: "1,", wantErr: "bad number"},
		{in: "-1", wantErr: "bad number"},
		{in: "1-2-3", wantErr: "bad number"},
		{in: "0-99999999", wantErr: "bad number"},
		{in: "1 ,2", wantErr: "bad number"},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseList(%q) = %v, %v; want an error naming %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if f := FormatList(got); f != tt.format {
			t.Errorf("FormatList(%v) = %q, want %q", got, f, tt.format)
		}
	}
	if m := Missing([]int{0, 1, 2, 5, 99}, []int{0, 1}); m != "2,5,99" {
		t.Errorf("Missing = %q", m)
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0-3,5,7-8", "0", "", "3-1", "1,,2", "0-1048576"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return // ranges as long as the input allows are slow, not wrong
		}
		ns, err := ParseList(s)
		if err != nil {
			return
		}
		for i := range ns {
			if ns[i] < 0 || ns[i] > maxListNumber || i > 0 && ns[i] <= ns[i-1] {
				t.Fatalf("ParseList(%q) = %v: not sorted, distinct, in range", s, ns)
			}
		}
		back, err := ParseList(FormatList(ns))
		if err != nil || !reflect.DeepEqual(back, ns) && len(ns) > 0 {
			t.Fatalf("ParseList(%q) = %v, formatted %q, parsed back %v, %v", s, ns, FormatList(ns), back, err)
		}
	})
}
