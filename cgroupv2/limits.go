package cgroupv2

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Limits are the values written to a container's cgroup files. The zero
// value of a field leaves its file as it is (the kernel's default for a
// new cgroup: no limit); Max (-1) writes "max", lifting a limit that was
// set. They are computed on the command's side from the flags (see
// package container) and written by the monitor before the container's
// command starts, or by update while it runs.
type Limits struct {
	// MemoryMax is memory.max in bytes (--memory).
	MemoryMax int64 `json:"memoryMax,omitempty"`
	// MemoryLow is memory.low in bytes (--memory-reservation).
	MemoryLow int64 `json:"memoryLow,omitempty"`
	// SwapMax is memory.swap.max in bytes (--memory-swap less --memory);
	// nil leaves it, 0 allows no swap. SwapRequired: the user asked for
	// it explicitly, so a kernel without swap accounting is an error
	// rather than a limit that needs no enforcing.
	SwapMax      *int64 `json:"swapMax,omitempty"`
	SwapRequired bool   `json:"swapRequired,omitempty"`
	// CPUQuota and CPUPeriod are cpu.max in microseconds (--cpus,
	// --cpu-quota, --cpu-period). A period without a quota writes
	// "max PERIOD"; a quota without a period uses DefaultCPUPeriod.
	CPUQuota  int64  `json:"cpuQuota,omitempty"`
	CPUPeriod uint64 `json:"cpuPeriod,omitempty"`
	// CPUWeight is cpu.weight, 1 to 10000 (--cpu-weight, or --cpu-shares
	// converted by SharesToWeight).
	CPUWeight uint64 `json:"cpuWeight,omitempty"`
	// CpusetCpus and CpusetMems are cpuset.cpus and cpuset.mems, lists
	// such as "0-2,4" (--cpuset-cpus, --cpuset-mems).
	CpusetCpus string `json:"cpusetCpus,omitempty"`
	CpusetMems string `json:"cpusetMems,omitempty"`
	// PidsMax is pids.max (--pids-limit).
	PidsMax int64 `json:"pidsMax,omitempty"`
	// BlkioWeight is --blkio-weight, 10 to 1000: written as is to
	// io.bfq.weight when the BFQ scheduler offers it, else converted by
	// BlkioToIOWeight to io.weight, as runc does.
	BlkioWeight uint16 `json:"blkioWeight,omitempty"`
	// IOMax are io.max lines (--device-read-bps, --device-write-bps).
	IOMax []IOMax `json:"ioMax,omitempty"`
}

// Max in a Limits field writes "max": no limit.
const Max = -1

// DefaultCPUPeriod is the period of cpu.max that --cpus uses, as docker
// and the kernel's default: 100 ms.
const DefaultCPUPeriod = 100000

// IOMax is one device's line of io.max. A rate of 0 is left as it is.
type IOMax struct {
	Major uint32 `json:"major"`
	Minor uint32 `json:"minor"`
	// Rbps and Wbps are bytes per second.
	Rbps uint64 `json:"rbps,omitempty"`
	Wbps uint64 `json:"wbps,omitempty"`
}

// Empty reports whether the limits leave every file as it is.
func (l *Limits) Empty() bool {
	return len(l.Files()) == 0 && l.BlkioWeight == 0
}

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

// Files are the writes that apply the limits, in the order they are made:
// cpuset first (so that the container never runs on a CPU it may not
// use), then cpu, memory, pids and io. BlkioWeight is not among them: its
// file depends on the kernel (see Apply).
func (l *Limits) Files() []Setting {
	var out []Setting
	add := func(ctl, file, value string) {
		out = append(out, Setting{File: file, Value: value, Controller: ctl})
	}
	if l.CpusetCpus != "" {
		add("cpuset", "cpuset.cpus", l.CpusetCpus)
	}
	if l.CpusetMems != "" {
		add("cpuset", "cpuset.mems", l.CpusetMems)
	}
	if l.CPUWeight != 0 {
		add("cpu", "cpu.weight", strconv.FormatUint(l.CPUWeight, 10))
	}
	if l.CPUQuota != 0 || l.CPUPeriod != 0 {
		add("cpu", "cpu.max", CPUMax(l.CPUQuota, l.CPUPeriod))
	}
	if l.MemoryLow != 0 {
		add("memory", "memory.low", maxOr(l.MemoryLow))
	}
	if l.MemoryMax != 0 {
		add("memory", "memory.max", maxOr(l.MemoryMax))
	}
	if l.SwapMax != nil {
		out = append(out, Setting{File: "memory.swap.max", Value: maxOr(*l.SwapMax), Controller: "memory", Optional: !l.SwapRequired})
	}
	if l.PidsMax != 0 {
		add("pids", "pids.max", maxOr(l.PidsMax))
	}
	for _, d := range l.IOMax {
		add("io", "io.max", d.line())
	}
	return out
}

// Controllers are the controllers the limits need, in Controllers order.
func (l *Limits) Controllers() []string {
	need := map[string]bool{}
	for _, s := range l.Files() {
		need[s.Controller] = true
	}
	if l.BlkioWeight != 0 {
		need["io"] = true
	}
	var out []string
	for _, c := range Controllers {
		if need[c] {
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

// line is the device's io.max line; rates not set are left as they are.
func (d IOMax) line() string {
	s := fmt.Sprintf("%d:%d", d.Major, d.Minor)
	if d.Rbps > 0 {
		s += " rbps=" + strconv.FormatUint(d.Rbps, 10)
	}
	if d.Wbps > 0 {
		s += " wbps=" + strconv.FormatUint(d.Wbps, 10)
	}
	return s
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
