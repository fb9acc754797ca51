package container

import (
	"math"
	"strings"

	"sandbox/cgroupv2"
	"sandbox/spec"
)

// InspectResources are the limits in inspect's HostConfig, under docker's
// names (embedded there, so that {{.HostConfig.Memory}} works). CpuWeight
// is sandbox's own (--cpu-weight).
type InspectResources struct {
	Memory              int64
	MemoryReservation   int64
	MemorySwap          int64
	NanoCpus            int64
	CpuPeriod           int64
	CpuQuota            int64
	CpuShares           int64
	CpuWeight           uint64
	CpusetCpus          string
	CpusetMems          string
	PidsLimit           *int64
	BlkioWeight         uint16
	BlkioDeviceReadBps  []ThrottleDevice
	BlkioDeviceWriteBps []ThrottleDevice
	// Ulimits are the --ulimit values (from the container's process).
	Ulimits []Ulimit
}

// Ulimit is one --ulimit as docker shows it: docker's name of the
// resource, and -1 for unlimited.
type Ulimit struct {
	Name string
	Hard int64
	Soft int64
}

// inspectUlimits shows the process's limits as docker does.
func inspectUlimits(rs []spec.Rlimit) []Ulimit {
	out := []Ulimit{}
	for _, r := range rs {
		out = append(out, Ulimit{Name: r.Name(), Hard: ulimitValue(r.Hard), Soft: ulimitValue(r.Soft)})
	}
	return out
}

// ulimitValue is a limit in docker's int64: -1 for unlimited (the parser
// takes nothing else above the int64 range).
func ulimitValue(v uint64) int64 {
	if v > math.MaxInt64 {
		return -1
	}
	return int64(v)
}

// ThrottleDevice is a rate limit on a block device, in bytes per second.
type ThrottleDevice struct {
	Path string
	Rate uint64
}

// inspectResources shows the limits as docker does: MemorySwap as it took
// effect (twice --memory when not given), PidsLimit null when unlimited.
func inspectResources(r spec.Resources) InspectResources {
	in := InspectResources{
		Memory: r.Memory, MemoryReservation: r.MemoryReservation, MemorySwap: r.MemorySwap,
		NanoCpus: r.NanoCpus, CpuPeriod: r.CpuPeriod, CpuQuota: r.CpuQuota, CpuShares: r.CpuShares, CpuWeight: r.CpuWeight,
		CpusetCpus: r.CpusetCpus, CpusetMems: r.CpusetMems, BlkioWeight: r.BlkioWeight,
		BlkioDeviceReadBps: throttleDevices(r.BlkioDeviceReadBps), BlkioDeviceWriteBps: throttleDevices(r.BlkioDeviceWriteBps),
	}
	if r.Memory > 0 && r.MemorySwap == 0 {
		in.MemorySwap = 2 * r.Memory
	}
	if r.PidsLimit > 0 {
		n := r.PidsLimit
		in.PidsLimit = &n
	}
	return in
}

func throttleDevices(ds []spec.ThrottleDevice) []ThrottleDevice {
	out := []ThrottleDevice{}
	for _, d := range ds {
		out = append(out, ThrottleDevice{Path: d.Path, Rate: d.Rate})
	}
	return out
}

// cgroupPath is a cgroup directory as a path in the cgroup v2 hierarchy
// (podman's State.CgroupPath): "/user.slice/.../sandbox/ID".
func cgroupPath(dir string) string {
	if dir == "" {
		return ""
	}
	if p, ok := strings.CutPrefix(dir, cgroupv2.Root); ok && (p == "" || p[0] == '/') {
		return "/" + strings.TrimPrefix(p, "/")
	}
	return dir
}
