package userns

import (
	"fmt"
	"strconv"
	"strings"
)

// IDMap maps Size ids starting at ContainerID inside a namespace onto ids
// starting at HostID in its parent, as one line of /proc/PID/uid_map.
type IDMap struct {
	ContainerID uint32
	HostID      uint32
	Size        uint32
}

// Mapping is the keeper's map: 0 is the user's own id and 1.. run through
// the subordinate ranges in order.
func Mapping(hostID int, ranges []Range) []IDMap {
	m := []IDMap{{ContainerID: 0, HostID: uint32(hostID), Size: 1}}
	next := uint32(1)
	for _, r := range ranges {
		m = append(m, IDMap{ContainerID: next, HostID: r.Start, Size: r.Count})
		next += r.Count
	}
	return m
}

// Size is the number of ids a mapping covers.
func Size(m []IDMap) uint32 {
	var n uint32
	for _, e := range m {
		n += e.Size
	}
	return n
}

// KeepID maps a nested namespace so that uid (an id of the keeper's
// namespace, normally the user's own id outside) appears as itself inside,
// the keeper's 0 (the user) shows as uid, and every other id of the keeper's
// namespace of size total stays mapped: inside 0..uid-1 are keeper 1..uid,
// inside uid+1.. are keeper uid+1... The result maps inside ids onto keeper
// ids.
func KeepID(uid, total uint32) ([]IDMap, error) {
	if total < 2 || uid >= total {
		return nil, fmt.Errorf("keep-id needs id %d inside a namespace of %d ids: the user has too few subordinate ids (see /etc/subuid)", uid, total)
	}
	m := []IDMap{}
	if uid > 0 {
		m = append(m, IDMap{ContainerID: 0, HostID: 1, Size: uid})
	}
	m = append(m, IDMap{ContainerID: uid, HostID: 0, Size: 1})
	if rest := total - uid - 1; rest > 0 {
		m = append(m, IDMap{ContainerID: uid + 1, HostID: uid + 1, Size: rest})
	}
	return m, nil
}

// ParseIDMap parses the contents of /proc/PID/uid_map or gid_map.
func ParseIDMap(data []byte) ([]IDMap, error) {
	var m []IDMap
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("id map line %q: want INSIDE OUTSIDE COUNT", line)
		}
		var v [3]uint32
		for i, f := range fields {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("id map line %q: %w", line, err)
			}
			v[i] = uint32(n)
		}
		m = append(m, IDMap{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return m, nil
}

// ToHost translates an id of the namespace described by m to its parent's.
func ToHost(m []IDMap, id uint32) (uint32, bool) {
	for _, e := range m {
		if id >= e.ContainerID && id-e.ContainerID < e.Size {
			return e.HostID + (id - e.ContainerID), true
		}
	}
	return 0, false
}

// mapArgs formats a mapping as the arguments of newuidmap and newgidmap.
func mapArgs(m []IDMap) []string {
	args := make([]string, 0, 3*len(m))
	for _, e := range m {
		args = append(args, strconv.FormatUint(uint64(e.ContainerID), 10),
			strconv.FormatUint(uint64(e.HostID), 10), strconv.FormatUint(uint64(e.Size), 10))
	}
	return args
}
