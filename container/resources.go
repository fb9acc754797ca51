package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"sandbox/cgroupv2"
	"sandbox/monitor"
	"sandbox/spec"
)

// ResourceOptions are the limit flags of create, run and update, as given
// on the command line: "" (or no entry) is a flag not given. They are
// parsed here rather than by the flag library so that a bad value is one
// line naming the flag and the value.
type ResourceOptions struct {
	Memory            string // --memory: a size (512m, 1g)
	MemorySwap        string // --memory-swap: a size, or -1
	MemoryReservation string // --memory-reservation: a size
	CPUs              string // --cpus: a number of CPUs (0.5)
	CPUQuota          string // --cpu-quota: microseconds, or -1
	CPUPeriod         string // --cpu-period: microseconds
	CPUShares         string // --cpu-shares: cgroup v1 shares (2-262144)
	CPUWeight         string // --cpu-weight: cgroup v2 weight (1-10000)
	CpusetCpus        string // --cpuset-cpus: a list (0-2,4)
	CpusetMems        string // --cpuset-mems: a list
	PidsLimit         string // --pids-limit: a number, or -1
	BlkioWeight       string // --blkio-weight: 10-1000
	// DeviceReadBps and DeviceWriteBps are PATH:RATE values.
	DeviceReadBps  []string
	DeviceWriteBps []string
}

// Given reports whether any limit flag was given.
func (o *ResourceOptions) Given() bool {
	for _, s := range []string{o.Memory, o.MemorySwap, o.MemoryReservation, o.CPUs, o.CPUQuota, o.CPUPeriod,
		o.CPUShares, o.CPUWeight, o.CpusetCpus, o.CpusetMems, o.PidsLimit, o.BlkioWeight} {
		if s != "" {
			return true
		}
	}
	return len(o.DeviceReadBps) > 0 || len(o.DeviceWriteBps) > 0
}

// machine is what limits are checked against: the CPUs and memory nodes
// present, and block devices. The unit tests replace it.
type machine struct {
	cpus, mems []int
	// device returns a block device's number; an error when the path is
	// no block device.
	device func(path string) (major, minor uint32, err error)
}

// hostMachine reads the host's CPUs and memory nodes.
func hostMachine() (machine, error) {
	m := machine{device: cgroupv2.BlockDevice}
	data, err := os.ReadFile("/sys/devices/system/cpu/present")
	if err != nil {
		return m, fmt.Errorf("read the CPUs present: %w", err)
	}
	if m.cpus, err = cgroupv2.ParseList(string(data)); err != nil {
		return m, fmt.Errorf("/sys/devices/system/cpu/present: %w", err)
	}
	data, err = os.ReadFile("/sys/devices/system/node/online")
	if errors.Is(err, fs.ErrNotExist) {
		data, err = []byte("0"), nil // a kernel without NUMA: node 0 only
	}
	if err != nil {
		return m, fmt.Errorf("read the memory nodes: %w", err)
	}
	if m.mems, err = cgroupv2.ParseList(string(data)); err != nil {
		return m, fmt.Errorf("/sys/devices/system/node/online: %w", err)
	}
	return m, nil
}

// Docker's bounds.
const (
	minMemory    = 6 << 20 // docker's minimum --memory: 6 MiB
	minCPUPeriod = 1000
	maxCPUPeriod = 1000000
	minShares    = 2
	maxShares    = 262144
	minBlkio     = 10
	maxBlkio     = 1000
)

// merge applies the flags given over base (the zero Resources at create,
// the container's at update) and checks the result. Every error is one
// line naming the flag and its value.
func (o *ResourceOptions) merge(base spec.Resources, m machine) (spec.Resources, error) {
	r := base
	size := func(flag, v string, into *int64) error {
		if v == "" {
			return nil
		}
		n, err := ParseBytes(v)
		if err != nil {
			return fmt.Errorf("invalid %s %q: want a size such as 512m or 1g (units b, k, m, g)", flag, v)
		}
		*into = n
		return nil
	}
	integer := func(flag, v string, lo, hi int64, into *int64) error {
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("invalid %s %q: want a whole number from %d to %d", flag, v, lo, hi)
		}
		*into = n
		return nil
	}
	// unlimited reads a flag where -1 lifts the limit: at create it is
	// the same as not giving the flag; at update it lifts what was set.
	unlimited := func(flag, v string, lo, hi int64, into *int64) error {
		if v == "-1" || v == "0" && flag == "--pids-limit" {
			if *into != 0 {
				*into = -1
			}
			return nil
		}
		if err := integer(flag, v, lo, hi, into); err != nil {
			return fmt.Errorf("%w, or -1 for no limit", err)
		}
		return nil
	}
	if err := size("--memory", o.Memory, &r.Memory); err != nil {
		return r, err
	}
	if r.Memory != 0 && r.Memory < minMemory { // 0 is no limit, as in docker
		return r, fmt.Errorf("invalid --memory %q: the minimum is 6m", o.Memory)
	}
	if o.MemorySwap == "-1" {
		r.MemorySwap = -1
	} else if err := size("--memory-swap", o.MemorySwap, &r.MemorySwap); err != nil {
		return r, err
	}
	if err := size("--memory-reservation", o.MemoryReservation, &r.MemoryReservation); err != nil {
		return r, err
	}
	if o.Memory != "" && o.MemorySwap == "" && base.MemorySwap > 0 && base.MemorySwap < r.Memory {
		return r, fmt.Errorf("invalid --memory %q: it is more than the container's --memory-swap %d; give a new --memory-swap as well", o.Memory, base.MemorySwap)
	}
	if r.MemorySwap > 0 && r.Memory == 0 {
		return r, fmt.Errorf("invalid --memory-swap %q: it needs --memory as well", o.MemorySwap)
	}
	if r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return r, fmt.Errorf("invalid --memory-swap %q: it counts memory and swap together, so it must be at least --memory (%d bytes)", o.MemorySwap, r.Memory)
	}
	if r.MemoryReservation > 0 && r.Memory > 0 && r.MemoryReservation > r.Memory {
		return r, fmt.Errorf("invalid --memory-reservation %q: it must not exceed --memory (%d bytes)", o.MemoryReservation, r.Memory)
	}

	if o.CPUs != "" {
		n, err := cgroupv2.ParseCPUs(o.CPUs)
		if err != nil {
			return r, err
		}
		if n < 10_000_000 || n > int64(len(m.cpus))*1e9 {
			return r, fmt.Errorf("invalid --cpus %q: the range is 0.01 to %d, the CPUs here", o.CPUs, len(m.cpus))
		}
		r.NanoCpus, r.CpuQuota, r.CpuPeriod = n, 0, 0
	}
	if err := unlimited("--cpu-quota", o.CPUQuota, cgroupv2.MinCPUQuota, 1<<40, &r.CpuQuota); err != nil {
		return r, err
	}
	if err := integer("--cpu-period", o.CPUPeriod, minCPUPeriod, maxCPUPeriod, &r.CpuPeriod); err != nil {
		return r, err
	}
	if o.CPUs != "" && (o.CPUQuota != "" || o.CPUPeriod != "") {
		return r, fmt.Errorf("--cpus %q and --cpu-quota/--cpu-period conflict: give one or the other", o.CPUs)
	}
	if o.CPUQuota != "" || o.CPUPeriod != "" {
		r.NanoCpus = 0
	}
	if err := integer("--cpu-shares", o.CPUShares, minShares, maxShares, &r.CpuShares); err != nil {
		return r, err
	}
	var weight int64
	if err := integer("--cpu-weight", o.CPUWeight, 1, 10000, &weight); err != nil {
		return r, err
	}
	if o.CPUShares != "" && o.CPUWeight != "" {
		return r, fmt.Errorf("--cpu-shares %q and --cpu-weight %q conflict: give one or the other", o.CPUShares, o.CPUWeight)
	}
	if o.CPUWeight != "" {
		r.CpuWeight, r.CpuShares = uint64(weight), 0
	} else if o.CPUShares != "" {
		r.CpuWeight = 0
	}
	for _, l := range []struct {
		flag, v, what string
		have          []int
		into          *string
	}{{"--cpuset-cpus", o.CpusetCpus, "CPU", m.cpus, &r.CpusetCpus}, {"--cpuset-mems", o.CpusetMems, "memory node", m.mems, &r.CpusetMems}} {
		if l.v == "" {
			continue
		}
		ns, err := cgroupv2.ParseList(l.v)
		if err != nil || len(ns) == 0 {
			return r, fmt.Errorf("invalid %s %q: want a list such as 0-2,4", l.flag, l.v)
		}
		if miss := cgroupv2.Missing(ns, l.have); miss != "" {
			return r, fmt.Errorf("invalid %s %q: %s %s not here (this machine has %s)", l.flag, l.v, l.what, miss, cgroupv2.FormatList(l.have))
		}
		*l.into = cgroupv2.FormatList(ns)
	}
	if err := unlimited("--pids-limit", o.PidsLimit, 1, 1<<32, &r.PidsLimit); err != nil {
		return r, err
	}
	var blkio int64
	if err := integer("--blkio-weight", o.BlkioWeight, minBlkio, maxBlkio, &blkio); err != nil {
		return r, err
	}
	if o.BlkioWeight != "" {
		r.BlkioWeight = uint16(blkio)
	}
	var err error
	if r.BlkioDeviceReadBps, err = throttle("--device-read-bps", o.DeviceReadBps, r.BlkioDeviceReadBps, m); err != nil {
		return r, err
	}
	if r.BlkioDeviceWriteBps, err = throttle("--device-write-bps", o.DeviceWriteBps, r.BlkioDeviceWriteBps, m); err != nil {
		return r, err
	}
	return r, nil
}

// throttle parses PATH:RATE values over the devices set before: a device
// given again gets the new rate.
func throttle(flag string, vals []string, base []spec.ThrottleDevice, m machine) ([]spec.ThrottleDevice, error) {
	out := append([]spec.ThrottleDevice(nil), base...)
	for _, v := range vals {
		i := strings.LastIndex(v, ":")
		if i <= 0 {
			return nil, fmt.Errorf("invalid %s %q: want DEVICE-PATH:RATE such as /dev/sda:10m", flag, v)
		}
		p, rate := v[:i], v[i+1:]
		n, err := ParseBytes(rate)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid %s %q: the rate %q is not a size above 0 such as 10m", flag, v, rate)
		}
		if _, _, err := m.device(p); err != nil {
			return nil, fmt.Errorf("invalid %s %q: %v", flag, v, err)
		}
		found := false
		for j := range out {
			if out[j].Path == p {
				out[j].Rate, found = uint64(n), true
			}
		}
		if !found {
			out = append(out, spec.ThrottleDevice{Path: p, Rate: uint64(n)})
		}
	}
	return out, nil
}

// resourcesFor parses the limit flags over base, and checks that every
// limit can be applied here: the controllers it needs are delegated
// (unless inScope: the monitor checks them in its systemd scope, where
// they are known only once it exists). Without limits it reads nothing
// and touches no cgroup.
func resourcesFor(o *ResourceOptions, base spec.Resources, inScope bool) (spec.Resources, error) {
	if !o.Given() {
		return base, nil
	}
	m, err := hostMachine()
	if err != nil {
		return base, err
	}
	r, err := o.merge(base, m)
	if err != nil {
		return r, err
	}
	if inScope {
		return r, nil
	}
	return r, requireControllers(&r)
}

// requireControllers checks that the controllers the limits need are
// delegated to the command's own cgroup, with the same detection sandbox
// check and info report. It is the one check of a start without a
// systemd scope (see monitor.Cgroup.Systemd).
func requireControllers(r *spec.Resources) error {
	if len(cgroupv2.Needed(r)) == 0 {
		return nil
	}
	st, err := cgroupv2.Detect()
	if err != nil {
		return fmt.Errorf("cannot apply limits: %w", err)
	}
	return st.RequireLimits(r)
}

// leafRequest asks the monitor for the container's cgroup, with the
// limits r: with limits it must be made, or the start fails; without, it
// is made when a delegated cgroup v2 allows it (for pause, stats and
// update) and its absence is no error. scope: in a systemd scope made
// for the monitor, which checks the controllers the limits need.
func leafRequest(id string, r spec.Resources, scope bool) *monitor.Cgroup {
	return &monitor.Cgroup{Name: id, Resources: r, Required: len(cgroupv2.Needed(&r)) > 0, Systemd: scope}
}

// leafOf is the cgroup of a container as its state records it.
func leafOf(st *spec.State) *cgroupv2.Leaf {
	if st.Cgroup == "" {
		return nil
	}
	return &cgroupv2.Leaf{Dir: st.Cgroup}
}
