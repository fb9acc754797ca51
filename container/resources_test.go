// Unit tests (privilege tier: none) of the limit flags: parsing and
// checking them over a container's limits, the cgroup files they become,
// and the rows of stats.

package container

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"sandbox/cgroupv2"
	"sandbox/spec"
)

// testMachine has two CPUs, one memory node and one block device, 7:0.
var testMachine = machine{
	cpus: []int{0, 1},
	mems: []int{0},
	device: func(p string) (uint32, uint32, error) {
		switch p {
		case "/dev/loop0":
			return 7, 0, nil
		case "/dev/loop1":
			return 7, 1, nil
		}
		return 0, 0, fmt.Errorf("%q is not a block device", p)
	},
}

func TestMergeResources(t *testing.T) {
	limited := spec.Resources{Memory: 64 << 20, PidsLimit: 20, CpuQuota: 50000, NanoCpus: 0}
	tests := []struct {
		name    string
		o       ResourceOptions
		base    spec.Resources
		want    spec.Resources
		wantErr string
	}{
		{name: "nothing", want: spec.Resources{}},
		{name: "sizes", o: ResourceOptions{Memory: "64m", MemorySwap: "128m", MemoryReservation: "32M"},
			want: spec.Resources{Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20}},
		{name: "unlimited swap", o: ResourceOptions{Memory: "1g", MemorySwap: "-1"}, want: spec.Resources{Memory: 1 << 30, MemorySwap: -1}},
		{name: "no memory limit", o: ResourceOptions{Memory: "0"}, want: spec.Resources{}},
		{name: "cpus", o: ResourceOptions{CPUs: "0.5"}, want: spec.Resources{NanoCpus: 5e8}},
		{name: "all the CPUs", o: ResourceOptions{CPUs: "2"}, want: spec.Resources{NanoCpus: 2e9}},
		{name: "quota and period", o: ResourceOptions{CPUQuota: "50000", CPUPeriod: "100000"}, want: spec.Resources{CpuQuota: 50000, CpuPeriod: 100000}},
		{name: "shares", o: ResourceOptions{CPUShares: "512"}, want: spec.Resources{CpuShares: 512}},
		{name: "weight", o: ResourceOptions{CPUWeight: "200"}, want: spec.Resources{CpuWeight: 200}},
		{name: "cpuset folded", o: ResourceOptions{CpusetCpus: "1,0", CpusetMems: "0"}, want: spec.Resources{CpusetCpus: "0-1", CpusetMems: "0"}},
		{name: "pids", o: ResourceOptions{PidsLimit: "20"}, want: spec.Resources{PidsLimit: 20}},
		{name: "no pids limit at create is no limit", o: ResourceOptions{PidsLimit: "-1"}, want: spec.Resources{}},
		{name: "blkio", o: ResourceOptions{BlkioWeight: "500"}, want: spec.Resources{BlkioWeight: 500}},
		{name: "devices", o: ResourceOptions{DeviceReadBps: []string{"/dev/loop0:1m", "/dev/loop0:2m"}, DeviceWriteBps: []string{"/dev/loop1:10k"}},
			want: spec.Resources{BlkioDeviceReadBps: []spec.ThrottleDevice{{Path: "/dev/loop0", Rate: 2 << 20}},
				BlkioDeviceWriteBps: []spec.ThrottleDevice{{Path: "/dev/loop1", Rate: 10 << 10}}}},

		{name: "update keeps what is not given", base: limited, o: ResourceOptions{Memory: "128m"},
			want: spec.Resources{Memory: 128 << 20, PidsLimit: 20, CpuQuota: 50000}},
		{name: "update lifts limits", base: limited, o: ResourceOptions{PidsLimit: "-1", CPUQuota: "-1"},
			want: spec.Resources{Memory: 64 << 20, PidsLimit: -1, CpuQuota: -1}},
		{name: "update from quota to cpus", base: limited, o: ResourceOptions{CPUs: "1"},
			want: spec.Resources{Memory: 64 << 20, PidsLimit: 20, NanoCpus: 1e9}},
		{name: "update from shares to weight", base: spec.Resources{CpuShares: 512}, o: ResourceOptions{CPUWeight: "50"},
			want: spec.Resources{CpuWeight: 50}},
		{name: "update memory over an explicit swap", base: spec.Resources{Memory: 64 << 20, MemorySwap: 100 << 20}, o: ResourceOptions{Memory: "128m"},
			wantErr: "give a new --memory-swap"},

		{name: "bad size", o: ResourceOptions{Memory: "10x"}, wantErr: `invalid --memory "10x"`},
		{name: "too little memory", o: ResourceOptions{Memory: "1m"}, wantErr: "minimum is 6m"},
		{name: "swap below memory", o: ResourceOptions{Memory: "64m", MemorySwap: "32m"}, wantErr: `invalid --memory-swap "32m"`},
		{name: "swap without memory", o: ResourceOptions{MemorySwap: "32m"}, wantErr: "needs --memory"},
		{name: "reservation over memory", o: ResourceOptions{Memory: "64m", MemoryReservation: "128m"}, wantErr: `invalid --memory-reservation "128m"`},
		{name: "negative cpus", o: ResourceOptions{CPUs: "-1"}, wantErr: `invalid --cpus "-1"`},
		{name: "more cpus than here", o: ResourceOptions{CPUs: "3"}, wantErr: "0.01 to 2"},
		{name: "too few cpus", o: ResourceOptions{CPUs: "0.001"}, wantErr: "0.01 to 2"},
		{name: "cpus and quota", o: ResourceOptions{CPUs: "1", CPUQuota: "50000"}, wantErr: "conflict"},
		{name: "quota too small", o: ResourceOptions{CPUQuota: "999"}, wantErr: `invalid --cpu-quota "999"`},
		{name: "period too large", o: ResourceOptions{CPUPeriod: "2000000"}, wantErr: `invalid --cpu-period "2000000"`},
		{name: "shares out of range", o: ResourceOptions{CPUShares: "1"}, wantErr: `invalid --cpu-shares "1"`},
		{name: "weight out of range", o: ResourceOptions{CPUWeight: "0"}, wantErr: `invalid --cpu-weight "0"`},
		{name: "shares and weight", o: ResourceOptions{CPUShares: "512", CPUWeight: "50"}, wantErr: "conflict"},
		{name: "no such CPU", o: ResourceOptions{CpusetCpus: "99"}, wantErr: `invalid --cpuset-cpus "99": CPU 99 not here (this machine has 0-1)`},
		{name: "bad cpu list", o: ResourceOptions{CpusetCpus: "1-"}, wantErr: `invalid --cpuset-cpus "1-"`},
		{name: "no such node", o: ResourceOptions{CpusetMems: "1"}, wantErr: `invalid --cpuset-mems "1": memory node 1 not here`},
		{name: "pids not a number", o: ResourceOptions{PidsLimit: "abc"}, wantErr: `invalid --pids-limit "abc"`},
		{name: "blkio out of range", o: ResourceOptions{BlkioWeight: "5"}, wantErr: `invalid --blkio-weight "5"`},
		{name: "device not a block device", o: ResourceOptions{DeviceReadBps: []string{"/dev/null:1m"}}, wantErr: `"/dev/null" is not a block device`},
		{name: "device without rate", o: ResourceOptions{DeviceWriteBps: []string{"/dev/loop0"}}, wantErr: `invalid --device-write-bps "/dev/loop0"`},
		{name: "device zero rate", o: ResourceOptions{DeviceWriteBps: []string{"/dev/loop0:0"}}, wantErr: "above 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.merge(tt.base, testMachine)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("merge error = %v, want one line naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("merge = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzMergeResources(f *testing.F) {
	f.Add("64m", "0.5", "0-1", "20", "/dev/loop0:1m")
	f.Add("10x", "-1", "99", "abc", "/dev/null:1m")
	f.Fuzz(func(t *testing.T, mem, cpus, cpuset, pids, dev string) {
		o := ResourceOptions{Memory: mem, CPUs: cpus, CpusetCpus: cpuset, PidsLimit: pids}
		if dev != "" {
			o.DeviceReadBps = []string{dev}
		}
		r, err := o.merge(spec.Resources{}, testMachine)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "--") {
				t.Fatalf("error %q is not one line naming a flag", msg)
			}
			return
		}
		if _, err := cgroupv2.SwapLimit(r.Memory, r.MemorySwap); err != nil {
			t.Fatalf("swap of checked resources %+v: %v", r, err)
		}
		// A memory of 0 is no limit (podman's --memory=0); any other
		// must leave a container room to start.
		if mem != "" && r.Memory != 0 && r.Memory < 6<<20 || r.NanoCpus > 0 && cgroupv2.QuotaForCPUs(r.NanoCpus) < cgroupv2.MinCPUQuota {
			t.Fatalf("resources %+v from %+v", r, o)
		}
	})
}

func TestInspectResources(t *testing.T) {
	in := inspectResources(spec.Resources{Memory: 64 << 20, PidsLimit: 20})
	if in.MemorySwap != 128<<20 || in.PidsLimit == nil || *in.PidsLimit != 20 || in.BlkioDeviceReadBps == nil {
		t.Errorf("inspectResources = %+v", in)
	}
	if in := inspectResources(spec.Resources{Memory: 64 << 20, MemorySwap: -1, PidsLimit: -1}); in.MemorySwap != -1 || in.PidsLimit != nil {
		t.Errorf("inspectResources = %+v", in)
	}
	if p := cgroupPath("/sys/fs/cgroup/user.slice/sandbox/x"); p != "/user.slice/sandbox/x" {
		t.Errorf("cgroupPath = %q", p)
	}
}

func TestStatsRow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := &StatsSample{ID: "0123456789abcdef", Name: "web", At: t0, Stats: &cgroupv2.Stats{CPUUsageUsec: 1000000}}
	cur := StatsSample{ID: "0123456789abcdef", Name: "web", At: t0.Add(2 * time.Second), Stats: &cgroupv2.Stats{
		CPUUsageUsec: 2000000, MemoryCurrent: 3 << 20, MemoryInactiveFile: 1 << 20, MemoryMax: 64 << 20,
		ReadBytes: 12345, WriteBytes: 0, Pids: 4, PidsMax: cgroupv2.Max}}
	got := StatsRow(prev, cur, 8<<30)
	want := StatsEntry{Container: "0123456789ab", ID: "0123456789ab", Name: "web", CPUPerc: "50.00%", MemUsage: "2MiB / 64MiB",
		MemPerc: "3.12%", BlockIO: "12.3kB / 0B", PIDs: "4", NetIO: "--"}
	if got != want {
		t.Errorf("StatsRow =\n%+v\nwant\n%+v", got, want)
	}
	// Without a memory limit the host's memory is the limit; without an
	// earlier sample CPU % is 0.
	cur.Stats.MemoryMax = cgroupv2.Max
	if got := StatsRow(nil, cur, 8<<30); got.MemUsage != "2MiB / 8GiB" || got.CPUPerc != "0.00%" || got.MemPerc != "0.02%" {
		t.Errorf("StatsRow without limit = %+v", got)
	}
	if got := StatsRow(prev, StatsSample{ID: "x", Name: "gone"}, 8<<30); got.CPUPerc != "--" || got.PIDs != "--" {
		t.Errorf("StatsRow of a stopped container = %+v", got)
	}
}

func TestSizes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 1023: "1023B", 1024: "1KiB", 1536: "1.5KiB", 1515520: "1.445MiB", 64 << 20: "64MiB", 1 << 40: "1TiB"} {
		if got := BinarySize(n); got != want {
			t.Errorf("BinarySize(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[uint64]string{0: "0B", 999: "999B", 1000: "1kB", 12345: "12.3kB", 4100000: "4.1MB"} {
		if got := DecimalSize(n); got != want {
			t.Errorf("DecimalSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	if n, err := parseMemTotal([]byte("MemTotal:        2014280 kB\nMemFree: 1 kB\n")); err != nil || n != 2014280*1024 {
		t.Errorf("parseMemTotal = %d, %v", n, err)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: x kB\n", "MemTotal: 5 MB\n"} {
		if _, err := parseMemTotal([]byte(bad)); err == nil {
			t.Errorf("parseMemTotal(%q): no error", bad)
		}
	}
}
