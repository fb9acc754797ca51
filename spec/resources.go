package spec

// Resources are the limits the flags of create, run and update asked for,
// in docker's terms and units (what inspect shows in HostConfig). Zero is
// "not set" throughout. They are parsed once, from the flags (package
// container), and reach the cgroup writer as they are: the monitor's
// request carries them, and cgroupv2 turns them into cgroup files.
type Resources struct {
	// Memory is --memory in bytes; MemoryReservation --memory-reservation.
	Memory            int64 `json:"memory,omitempty"`
	MemoryReservation int64 `json:"memoryReservation,omitempty"`
	// MemorySwap is --memory-swap: memory and swap together, in bytes; -1
	// is unlimited swap, 0 (not given) as much swap as memory.
	MemorySwap int64 `json:"memorySwap,omitempty"`
	// NanoCpus is --cpus in billionths of a CPU.
	NanoCpus int64 `json:"nanoCpus,omitempty"`
	// CpuQuota and CpuPeriod are --cpu-quota and --cpu-period in
	// microseconds; a quota of -1 is no limit.
	CpuQuota  int64 `json:"cpuQuota,omitempty"`
	CpuPeriod int64 `json:"cpuPeriod,omitempty"`
	// CpuShares is --cpu-shares (cgroup v1's unit, converted for v2);
	// CpuWeight is --cpu-weight (cgroup v2's cpu.weight, 1-10000).
	CpuShares int64  `json:"cpuShares,omitempty"`
	CpuWeight uint64 `json:"cpuWeight,omitempty"`
	// CpusetCpus and CpusetMems are lists such as "0-1,3".
	CpusetCpus string `json:"cpusetCpus,omitempty"`
	CpusetMems string `json:"cpusetMems,omitempty"`
	// PidsLimit is --pids-limit; -1 is no limit.
	PidsLimit int64 `json:"pidsLimit,omitempty"`
	// BlkioWeight is --blkio-weight, 10-1000.
	BlkioWeight uint16 `json:"blkioWeight,omitempty"`
	// BlkioDeviceReadBps and BlkioDeviceWriteBps are --device-read-bps
	// and --device-write-bps.
	BlkioDeviceReadBps  []ThrottleDevice `json:"blkioDeviceReadBps,omitempty"`
	BlkioDeviceWriteBps []ThrottleDevice `json:"blkioDeviceWriteBps,omitempty"`
}

// ThrottleDevice is a rate for one block device, as docker names it.
type ThrottleDevice struct {
	Path string `json:"path"`
	// Rate is in bytes per second.
	Rate uint64 `json:"rate"`
}
