package cgroupv2

import (
	"fmt"
	"strconv"
	"strings"
)

// Stats are a container's figures as its cgroup files give them.
type Stats struct {
	// CPUUsageUsec is cpu.stat's usage_usec: CPU time used, all CPUs.
	CPUUsageUsec uint64 `json:"cpuUsageUsec"`
	// MemoryCurrent is memory.current; MemoryInactiveFile memory.stat's
	// inactive_file (page cache the kernel may drop first), which docker
	// leaves out of the usage it shows.
	MemoryCurrent      uint64 `json:"memoryCurrent"`
	MemoryInactiveFile uint64 `json:"memoryInactiveFile"`
	// MemoryMax is memory.max; Max (-1) when there is no limit.
	MemoryMax int64 `json:"memoryMax"`
	// ReadBytes and WriteBytes are io.stat's rbytes and wbytes summed over
	// the devices.
	ReadBytes  uint64 `json:"readBytes"`
	WriteBytes uint64 `json:"writeBytes"`
	// Pids is pids.current; PidsMax pids.max (Max when unlimited).
	Pids    uint64 `json:"pids"`
	PidsMax int64  `json:"pidsMax"`
	// OOMKills is memory.events' oom_kill: processes the kernel killed
	// for exceeding memory.max.
	OOMKills uint64 `json:"oomKills"`
}

// MemoryUsage is the memory use docker's stats shows: memory.current
// without the inactive page cache.
func (s *Stats) MemoryUsage() uint64 {
	if s.MemoryInactiveFile > s.MemoryCurrent {
		return 0
	}
	return s.MemoryCurrent - s.MemoryInactiveFile
}

// ParseKeyed parses a flat-keyed cgroup file ("KEY VALUE" lines, as
// cpu.stat, memory.stat, memory.events and cgroup.events hold) with
// unsigned integer values.
func ParseKeyed(data []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d %q: want KEY VALUE", n+1, line)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: bad value", n+1, line)
		}
		out[f[0]] = v
	}
	return out, nil
}

// ParseValue parses a single-value cgroup file (memory.current,
// memory.max, pids.max, ...): a number, or "max" as Max.
func ParseValue(data []byte) (int64, error) {
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return Max, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("value %q: want a number or max", s)
	}
	return v, nil
}

// IOStat is one device's line of io.stat.
type IOStat struct {
	Major, Minor uint32
	// Fields are the line's KEY=VALUE pairs: rbytes, wbytes, rios, wios,
	// dbytes, dios.
	Fields map[string]uint64
}

// ParseIOStat parses io.stat, a nested-keyed file:
//
//	8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0
func ParseIOStat(data []byte) ([]IOStat, error) {
	var out []IOStat
	for n, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		maj, min, ok := strings.Cut(f[0], ":")
		a, err1 := strconv.ParseUint(maj, 10, 32)
		b, err2 := strconv.ParseUint(min, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("io.stat line %d %q: want MAJ:MIN KEY=VALUE...", n+1, line)
		}
		st := IOStat{Major: uint32(a), Minor: uint32(b), Fields: map[string]uint64{}}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			val, err := strconv.ParseUint(v, 10, 64)
			if !ok || k == "" || err != nil {
				return nil, fmt.Errorf("io.stat line %d %q: bad field %q", n+1, line, kv)
			}
			st.Fields[k] = val
		}
		out = append(out, st)
	}
	return out, nil
}

// IOTotals sums rbytes and wbytes over the devices.
func IOTotals(devs []IOStat) (read, write uint64) {
	for _, d := range devs {
		read += d.Fields["rbytes"]
		write += d.Fields["wbytes"]
	}
	return read, write
}
