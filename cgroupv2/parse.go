package cgroupv2

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Version is the cgroup hierarchy a host has at /sys/fs/cgroup.
type Version string

const (
	// VersionNone: no cgroup file system is mounted at the root.
	VersionNone Version = "none"
	// V1: only cgroup v1 hierarchies (legacy).
	V1 Version = "v1"
	// Hybrid: cgroup v1 hierarchies hold the controllers, and a cgroup v2
	// hierarchy (usually /sys/fs/cgroup/unified) holds what is left.
	Hybrid Version = "hybrid"
	// V2: the unified hierarchy is mounted at the root itself.
	V2 Version = "v2"
)

// Root is where cgroup file systems are mounted.
const Root = "/sys/fs/cgroup"

// Mount is one line of /proc/PID/mountinfo, the fields this package uses.
type Mount struct {
	// Point is the mount point, unescaped.
	Point string
	// FSType is the file system type ("cgroup", "cgroup2", "tmpfs", ...).
	FSType string
	// SuperOptions are the per-superblock options; for cgroup v1 they
	// name the hierarchy's controllers ("rw,cpu,cpuacct").
	SuperOptions string
}

// ParseMountInfo parses /proc/PID/mountinfo (see proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// A line without the " - " separator or with too few fields is an error
// naming the line.
func ParseMountInfo(data []byte) ([]Mount, error) {
	var mounts []Mount
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		sep := -1
		// The optional fields start at the seventh; the separator follows them.
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 6 || sep < 0 || len(fields) < sep+3 {
			return nil, fmt.Errorf("mountinfo line %d %q: want ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE [SUPEROPTIONS]", n+1, line)
		}
		m := Mount{Point: unescapeOctal(fields[4]), FSType: fields[sep+1]}
		if len(fields) > sep+3 {
			m.SuperOptions = fields[sep+3]
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

// unescapeOctal undoes the kernel's \NNN escaping of space, tab, newline
// and backslash in mountinfo paths. A malformed escape is left as it is.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
			if err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Layout is how cgroups are mounted on a host.
type Layout struct {
	Version Version `json:"version"`
	// Unified is the mount point of the cgroup v2 hierarchy: Root on v2,
	// usually Root/unified on hybrid, "" when there is none.
	Unified string `json:"unified,omitempty"`
	// V1Controllers are the controllers that cgroup v1 hierarchies hold
	// (v1 and hybrid), sorted; "blkio" is v1's name for io.
	V1Controllers []string `json:"v1Controllers,omitempty"`
}

// v1Names are the controllers a cgroup v1 mount can name in its options.
var v1Names = map[string]bool{
	"blkio": true, "cpu": true, "cpuacct": true, "cpuset": true, "devices": true,
	"freezer": true, "hugetlb": true, "memory": true, "misc": true, "net_cls": true,
	"net_prio": true, "perf_event": true, "pids": true, "rdma": true,
}

// DetectLayout tells the cgroup version from the mounts (in mountinfo
// order) at and below root. Only what is visible counts: a mount at root
// hides whatever was mounted at or below root before it.
func DetectLayout(mounts []Mount, root string) Layout {
	root = path.Clean(root)
	top := -1
	for i, m := range mounts {
		if path.Clean(m.Point) == root {
			top = i
		}
	}
	var l Layout
	if top < 0 {
		l.Version = VersionNone
		return l
	}
	if mounts[top].FSType == "cgroup2" {
		return Layout{Version: V2, Unified: root}
	}
	held := map[string]bool{}
	for _, m := range mounts[top+1:] {
		p := path.Clean(m.Point)
		if !strings.HasPrefix(p, root+"/") {
			continue
		}
		switch m.FSType {
		case "cgroup2":
			l.Unified = p
		case "cgroup":
			for _, o := range strings.Split(m.SuperOptions, ",") {
				if v1Names[o] {
					held[o] = true
				}
			}
		}
	}
	for c := range held {
		l.V1Controllers = append(l.V1Controllers, c)
	}
	sort.Strings(l.V1Controllers)
	switch {
	case len(held) > 0 && l.Unified != "":
		l.Version = Hybrid
	case len(held) > 0:
		l.Version = V1
	case l.Unified != "":
		// Only a cgroup v2 mount below root: unified, in an odd place.
		l.Version = V2
	default:
		l.Version = VersionNone
	}
	return l
}

// HeldByV1 reports whether a cgroup v1 hierarchy holds the controller
// (named the v2 way: io is v1's blkio).
func (l Layout) HeldByV1(controller string) bool {
	if controller == "io" {
		controller = "blkio"
	}
	for _, c := range l.V1Controllers {
		if c == controller {
			return true
		}
	}
	return false
}

// ProcCgroup is one line of /proc/PID/cgroup: HIERARCHY-ID:CONTROLLERS:PATH.
type ProcCgroup struct {
	// ID is the hierarchy id; 0 for cgroup v2.
	ID int
	// Controllers are the v1 controllers of the hierarchy ("name=systemd"
	// for a named one); none for cgroup v2.
	Controllers []string
	// Path is the cgroup, relative to the hierarchy's root (or to the
	// process's cgroup namespace root). The kernel appends " (deleted)"
	// when the cgroup has been removed; that is kept.
	Path string
}

// ParseProcCgroup parses /proc/PID/cgroup. The path is everything after
// the second colon, so paths holding colons survive.
func ParseProcCgroup(data []byte) ([]ProcCgroup, error) {
	var out []ProcCgroup
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("cgroup line %d %q: want ID:CONTROLLERS:PATH", n+1, line)
		}
		id, err := strconv.Atoi(parts[0])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("cgroup line %d %q: bad hierarchy id", n+1, line)
		}
		if !strings.HasPrefix(parts[2], "/") {
			return nil, fmt.Errorf("cgroup line %d %q: path is not absolute", n+1, line)
		}
		e := ProcCgroup{ID: id, Path: parts[2]}
		if parts[1] != "" {
			e.Controllers = strings.Split(parts[1], ",")
		}
		out = append(out, e)
	}
	return out, nil
}

// UnifiedPath is the cgroup v2 path among the entries of /proc/PID/cgroup
// (the "0::PATH" line), cleaned, with a " (deleted)" mark removed.
func UnifiedPath(entries []ProcCgroup) (string, bool) {
	for _, e := range entries {
		if e.ID == 0 && len(e.Controllers) == 0 {
			return path.Clean(strings.TrimSuffix(e.Path, " (deleted)")), true
		}
	}
	return "", false
}

// ParseControllers parses cgroup.controllers or cgroup.subtree_control: a
// space-separated list of controller names.
func ParseControllers(data []byte) []string {
	return strings.Fields(string(data))
}
