package cgroupv2

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// The limits a container's cgroup gets are the model's spec.Resources,
// in docker's terms and units, as the flags of create, run and update
// parsed them; this file turns them into cgroup v2 files. The zero value
// of a field leaves its file as it is (the kernel's default for a new
// cgroup: no limit); -1 where the model allows it writes "max", lifting a
// limit that was set. The monitor writes them before the container's
// command starts, and update while it runs.

// Max is "max", no limit: in a figure of Stats, and in the fields of
// spec.Resources where -1 lifts a limit (--memory-swap, --cpu-quota,
// --pids-limit).
const Max = -1

// DefaultCPUPeriod is the period of cpu.max that --cpus uses, as docker
// and the kernel's default: 100 ms.
const DefaultCPUPeriod = 100000

// Setting is one write to one cgroup file.
type Setting struct {
	// File is the file's name in the cgroup directory.
	File  string
	Value string
	// Controller is the controller that provides the file.
	Controller string
	// Optional: a missing file is not an error (the kernel lacks the
	// feature, and nothing the user asked for depends on it).
	Optional bool
}

// DeviceNumber looks up the major and minor numbers of a block device;
// an error when the path is no block device. BlockDevice is the host's.
type DeviceNumber func(path string) (major, minor uint32, err error)

// BlockDevice stats path for its device number. The numbers of a
// --device-read-bps path are looked up when the limit is written, as
// they may change across boots. Its errors quote the path, which comes
// from the user and may hold any byte: they stay one line.
func BlockDevice(path string) (uint32, uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("stat %q: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, 0, fmt.Errorf("%q is not a block device", path)
	}
	return unix.Major(st.Rdev), unix.Minor(st.Rdev), nil
}

// settings are the writes that apply r, in the order they are made:
// cpuset first (so that the container never runs on a CPU it may not
// use), then cpu, memory, pids and io. --blkio-weight is not among them:
// its file depends on the kernel (see Leaf.Apply).
func settings(r *spec.Resources, device DeviceNumber) ([]Setting, error) {
	var out []Setting
	add := func(ctl, file, value string) {
		out = append(out, Setting{File: file, Value: value, Controller: ctl})
	}
	if r.CpusetCpus != "" {
		add("cpuset", "cpuset.cpus", r.CpusetCpus)
	}
	if r.CpusetMems != "" {
		add("cpuset", "cpuset.mems", r.CpusetMems)
	}
	weight := r.CpuWeight
	if r.CpuShares != 0 {
		weight = SharesToWeight(uint64(r.CpuShares))
	}
	if weight != 0 {
		add("cpu", "cpu.weight", strconv.FormatUint(weight, 10))
	}
	quota, period := r.CpuQuota, uint64(max(r.CpuPeriod, 0))
	if r.NanoCpus > 0 {
		quota, period = QuotaForCPUs(r.NanoCpus), DefaultCPUPeriod
	}
	if quota != 0 || period != 0 {
		add("cpu", "cpu.max", CPUMax(quota, period))
	}
	if r.MemoryReservation != 0 {
		add("memory", "memory.low", maxOr(r.MemoryReservation))
	}
	if r.Memory != 0 {
		add("memory", "memory.max", maxOr(r.Memory))
	}
	swap, err := SwapLimit(r.Memory, r.MemorySwap)
	if err != nil {
		return nil, err
	}
	if swap != nil {
		// A --memory-swap the user gave must hold: a kernel without swap
		// accounting is an error rather than a limit that needs no
		// enforcing.
		out = append(out, Setting{File: "memory.swap.max", Value: maxOr(*swap), Controller: "memory", Optional: r.MemorySwap == 0})
	}
	if r.PidsLimit != 0 {
		add("pids", "pids.max", maxOr(r.PidsLimit))
	}
	lines, err := ioMax(r, device)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		add("io", "io.max", l)
	}
	return out, nil
}

// ioMax are the io.max lines of --device-read-bps and --device-write-bps,
// one per device in the order given; a rate not set is left as it is.
func ioMax(r *spec.Resources, device DeviceNumber) ([]string, error) {
	type rates struct{ rbps, wbps uint64 }
	devs := map[string]*rates{}
	var order []string
	for _, t := range []struct {
		list  []spec.ThrottleDevice
		write bool
	}{{r.BlkioDeviceReadBps, false}, {r.BlkioDeviceWriteBps, true}} {
		for _, d := range t.list {
			maj, min, err := device(d.Path)
			if err != nil {
				return nil, fmt.Errorf("device limit for %s: %w", d.Path, err)
			}
			key := fmt.Sprintf("%d:%d", maj, min)
			rt := devs[key]
			if rt == nil {
				rt = &rates{}
				devs[key] = rt
				order = append(order, key)
			}
			if t.write {
				rt.wbps = d.Rate
			} else {
				rt.rbps = d.Rate
			}
		}
	}
	var out []string
	for _, k := range order {
		s := k
		if rt := devs[k]; rt.rbps > 0 {
			s += " rbps=" + strconv.FormatUint(rt.rbps, 10)
		}
		if rt := devs[k]; rt.wbps > 0 {
			s += " wbps=" + strconv.FormatUint(rt.wbps, 10)
		}
		out = append(out, s)
	}
	return out, nil
}

// flagsOf names, per controller, the flags of r that use it: what the
// errors of a missing controller say.
func flagsOf(r *spec.Resources) map[string]string {
	out := map[string]string{}
	add := func(ctl, flag string, set bool) {
		if !set {
			return
		}
		if out[ctl] != "" {
			out[ctl] += ", "
		}
		out[ctl] += flag
	}
	add("memory", "--memory", r.Memory != 0)
	add("memory", "--memory-swap", r.MemorySwap != 0)
	add("memory", "--memory-reservation", r.MemoryReservation != 0)
	add("cpu", "--cpus", r.NanoCpus != 0)
	add("cpu", "--cpu-quota", r.CpuQuota != 0)
	add("cpu", "--cpu-period", r.CpuPeriod != 0)
	add("cpu", "--cpu-shares", r.CpuShares != 0)
	add("cpu", "--cpu-weight", r.CpuWeight != 0)
	add("cpuset", "--cpuset-cpus", r.CpusetCpus != "")
	add("cpuset", "--cpuset-mems", r.CpusetMems != "")
	add("pids", "--pids-limit", r.PidsLimit != 0)
	add("io", "--blkio-weight", r.BlkioWeight != 0)
	add("io", "--device-read-bps", len(r.BlkioDeviceReadBps) > 0)
	add("io", "--device-write-bps", len(r.BlkioDeviceWriteBps) > 0)
	return out
}

// Needed are the controllers r's limits use, in Controllers order; none
// when r sets no limit.
func Needed(r *spec.Resources) []string {
	flags := flagsOf(r)
	var out []string
	for _, c := range Controllers {
		if flags[c] != "" {
			out = append(out, c)
		}
	}
	return out
}

func maxOr(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// CPUMax is the content of cpu.max for a quota and period in
// microseconds: a quota of 0 or less is "max", a period of 0 the default.
func CPUMax(quota int64, period uint64) string {
	if period == 0 {
		period = DefaultCPUPeriod
	}
	q := "max"
	if quota > 0 {
		q = strconv.FormatInt(quota, 10)
	}
	return q + " " + strconv.FormatUint(period, 10)
}

// MinCPUQuota is the smallest quota the kernel takes: 1 ms.
const MinCPUQuota = 1000

// QuotaForCPUs is the cpu.max quota, in microseconds per DefaultCPUPeriod,
// for --cpus given in billionths of a CPU (docker's NanoCpus), rounded
// down as docker does and raised to the kernel's minimum of 1 ms.
func QuotaForCPUs(nanoCPUs int64) int64 {
	if nanoCPUs <= 0 {
		return 0
	}
	// nanoCPUs * period / 1e9 without overflowing for any int64 input.
	q := nanoCPUs/1e9*DefaultCPUPeriod + nanoCPUs%1e9*DefaultCPUPeriod/1e9
	return max(q, MinCPUQuota)
}

// ParseCPUs parses --cpus, a decimal number of CPUs such as 1.5, into
// billionths of a CPU. Anything else than a plain positive decimal with
// at most nine fraction digits is an error.
func ParseCPUs(s string) (int64, error) {
	bad := fmt.Errorf("invalid --cpus %q: want a positive number of CPUs such as 0.5 or 2", s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 9 {
		return 0, bad
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, bad
			}
		}
	}
	var n int64
	if whole != "" {
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || w > math.MaxInt64/1_000_000_000-1 {
			return 0, fmt.Errorf("invalid --cpus %q: too large", s)
		}
		n = w * 1e9
	}
	if frac != "" {
		f, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, bad
		}
		n += f
	}
	if n == 0 {
		return 0, fmt.Errorf("invalid --cpus %q: must be more than 0", s)
	}
	return n, nil
}

// SharesToWeight converts cgroup v1 cpu.shares (2 to 262144, default
// 1024; --cpu-shares) to cgroup v2 cpu.weight (1 to 10000, default 100)
// with the conversion of current runc and crun (opencontainers/cgroups):
// a quadratic in log2(shares) through (2, 1), (1024, 100) and
// (262144, 10000). It replaced the linear 1+(shares-2)*9999/262142, which
// gave the default 1024 a weight of 39 instead of the default 100. 0 is 0
// (not set).
func SharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= 2:
		return 1
	case shares >= 262144:
		return 10000
	}
	l := math.Log2(float64(shares))
	exponent := (l*l+125*l)/612.0 - 7.0/34.0
	return uint64(math.Ceil(math.Pow(10, exponent)))
}

// BlkioToIOWeight converts a cgroup v1 blkio weight (10 to 1000) to a
// cgroup v2 io.weight (1 to 10000), as runc does. 0 is 0 (not set).
func BlkioToIOWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	if w < 10 {
		w = 10
	}
	return 1 + (uint64(w)-10)*9999/990
}

// SwapLimit is memory.swap.max for docker's --memory-swap, which counts
// memory and swap together: 0 (not given) allows as much swap as memory,
// as docker does; -1 is unlimited; otherwise the swap is what exceeds
// memory. It returns nil when nothing is to be written (no --memory).
func SwapLimit(memory, memorySwap int64) (*int64, error) {
	var v int64
	switch {
	case memorySwap == Max:
		v = Max
	case memory <= 0 && memorySwap > 0:
		return nil, fmt.Errorf("--memory-swap %d needs --memory as well", memorySwap)
	case memory <= 0:
		return nil, nil
	case memorySwap == 0:
		v = memory
	case memorySwap < memory:
		return nil, fmt.Errorf("--memory-swap %d is less than --memory %d: it counts memory and swap together, so it must be at least --memory", memorySwap, memory)
	default:
		v = memorySwap - memory
	}
	return &v, nil
}

// ParseList parses a cpuset list ("0-3,5,7-8", as cpuset.cpus and
// /sys/devices/system/cpu/present hold) into its sorted, distinct
// numbers. Blanks around the list are ignored; an empty list is empty.
// Numbers above 1<<20 are refused (no machine has that many CPUs).
func ParseList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := listNumber(lo)
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = listNumber(hi); err != nil {
				return nil, fmt.Errorf("list %q: %w", s, err)
			}
			if b < a {
				return nil, fmt.Errorf("list %q: range %s runs backwards", s, part)
			}
		}
		for i := a; i <= b; i++ {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}

const maxListNumber = 1 << 20

func listNumber(s string) (int, error) {
	if s == "" || len(s) > 7 {
		return 0, fmt.Errorf("bad number %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad number %q", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxListNumber {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return n, nil
}

// FormatList writes sorted, distinct numbers as a cpuset list, ranges
// folded: [0 1 2 5] is "0-2,5".
func FormatList(ns []int) string {
	var b strings.Builder
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ns[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(ns[j]))
		}
		i = j + 1
	}
	return b.String()
}

// Missing returns the numbers of want that have is lacks, as a list.
func Missing(want, have []int) string {
	in := map[int]bool{}
	for _, n := range have {
		in[n] = true
	}
	var out []int
	for _, n := range want {
		if !in[n] {
			out = append(out, n)
		}
	}
	return FormatList(out)
}
