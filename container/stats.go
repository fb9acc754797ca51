package container

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"sandbox/cgroupv2"
)

// StatsSample is one reading of a container's cgroup.
type StatsSample struct {
	ID, Name string
	// Stats is nil when the container does not run (or is gone).
	Stats *cgroupv2.Stats
	// At is when the reading was taken.
	At time.Time
}

// StatsTargets resolves the containers that stats shows: the given ones,
// or every running (and paused) one. It fails, naming why and the fix,
// where containers get no cgroup of their own.
func (r *Runtime) StatsTargets(refs []string) ([]*Container, error) {
	if scope, err := r.useScope(); err != nil || !scope {
		cg, err := cgroupv2.Detect()
		if err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		if err := cg.RequireLeaf("stats"); err != nil {
			return nil, err
		}
	}
	if len(refs) == 0 {
		list, err := r.List(false)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			refs = append(refs, s.ID)
		}
	}
	out := make([]*Container, 0, len(refs))
	for _, ref := range refs {
		c, _, err := r.lookupState(ref)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// SampleStats reads a container's cgroup now. A container that does not
// run gives a sample without Stats; one that runs without a cgroup of its
// own is an error.
func (r *Runtime) SampleStats(c *Container) (StatsSample, error) {
	s := StatsSample{ID: c.ID, Name: c.Name(), At: time.Now()}
	st, err := r.State(c)
	if errors.Is(err, ErrNoSuchContainer) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if !up(st) {
		return s, nil
	}
	l, err := leafFor("stats", c.Name(), st)
	if err != nil {
		return s, err
	}
	s.Stats, err = l.Stats()
	if errors.Is(err, cgroupv2.ErrNoLeaf) {
		return s, nil // exited meanwhile
	}
	return s, err
}

// HostMemory is the machine's memory (MemTotal), the limit stats shows
// for a container without one.
func HostMemory() (uint64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("read /proc/meminfo: %w", err)
	}
	return parseMemTotal(data)
}

func parseMemTotal(data []byte) (uint64, error) {
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		rest, ok := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("meminfo: MemTotal line %q", line)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil || kb > 1<<53 {
			return 0, fmt.Errorf("meminfo: MemTotal line %q", line)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("meminfo: no MemTotal line")
}

// StatsEntry is one row of stats, formatted as docker's: the fields its
// --format templates use.
type StatsEntry struct {
	Container string
	ID        string
	Name      string
	CPUPerc   string
	MemUsage  string
	MemPerc   string
	BlockIO   string
	PIDs      string
	NetIO     string
}

// StatsRow turns a sample, and the one before it of the same container
// (nil for none), into a row. CPU % is the CPU time used between the two
// samples over the wall time between them: 100% is one CPU's worth. The
// memory limit is hostMem when the container has none.
func StatsRow(prev *StatsSample, cur StatsSample, hostMem uint64) StatsEntry {
	e := StatsEntry{Container: shortID(cur.ID), ID: shortID(cur.ID), Name: cur.Name, NetIO: "--",
		CPUPerc: "--", MemUsage: "-- / --", MemPerc: "--", BlockIO: "-- / --", PIDs: "--"}
	s := cur.Stats
	if s == nil {
		return e
	}
	e.CPUPerc = "0.00%"
	if prev != nil && prev.Stats != nil && cur.At.After(prev.At) && s.CPUUsageUsec >= prev.Stats.CPUUsageUsec {
		used := float64(s.CPUUsageUsec - prev.Stats.CPUUsageUsec)
		wall := float64(cur.At.Sub(prev.At).Microseconds())
		if wall > 0 {
			e.CPUPerc = fmt.Sprintf("%.2f%%", used/wall*100)
		}
	}
	limit := hostMem
	if s.MemoryMax > 0 && (hostMem == 0 || uint64(s.MemoryMax) < hostMem) {
		limit = uint64(s.MemoryMax)
	}
	usage := s.MemoryUsage()
	e.MemUsage = BinarySize(usage) + " / " + BinarySize(limit)
	e.MemPerc = "0.00%"
	if limit > 0 {
		e.MemPerc = fmt.Sprintf("%.2f%%", float64(usage)/float64(limit)*100)
	}
	e.BlockIO = DecimalSize(s.ReadBytes) + " / " + DecimalSize(s.WriteBytes)
	e.PIDs = strconv.FormatUint(s.Pids, 10)
	return e
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// BinarySize is docker's units.BytesSize: four significant digits and a
// binary unit ("1.445MiB", "64MiB").
func BinarySize(n uint64) string {
	return sizeWith(float64(n), 1024, []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}, 4)
}

// DecimalSize is docker's units.HumanSizeWithPrecision(n, 3): three
// significant digits and a decimal unit ("12.3kB", "0B").
func DecimalSize(n uint64) string {
	return sizeWith(float64(n), 1000, []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}, 3)
}

func sizeWith(v, base float64, units []string, digits int) string {
	i := 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	return strconv.FormatFloat(v, 'g', digits, 64) + units[i]
}
