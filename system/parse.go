package system

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseOSRelease parses /etc/os-release (os-release(5)): KEY=VALUE lines,
// values optionally in single or double quotes, with backslash escapes in
// double quotes. Comments, blank lines and lines that are not assignments
// are skipped, as systemd does.
func ParseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t\"'") {
			continue
		}
		out[key] = unquote(val)
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

// FileCaps are the file capabilities of a program, from its
// security.capability extended attribute.
type FileCaps struct {
	// Permitted is the permitted set, one bit per capability number.
	Permitted uint64
	// Effective: the effective flag is set, so the capabilities are in
	// effect at exec even for a program that does not raise them itself.
	Effective bool
	// RootID is the owner of a namespaced (version 3) entry: the host uid
	// of the user namespace root the capabilities apply to; 0 otherwise.
	RootID uint32
}

// Capability numbers (capability.h) that newuidmap and newgidmap need.
const (
	capSetgid = 6
	capSetuid = 7
)

// Has reports whether capability number c is permitted.
func (f FileCaps) Has(c int) bool { return c >= 0 && c < 64 && f.Permitted&(1<<uint(c)) != 0 }

// vfs_cap_data revisions and sizes (linux/capability.h).
const (
	vfsCapRevisionMask = 0xff000000
	vfsCapFlagsEff     = 0x000001
	vfsCapRevision1    = 0x01000000
	vfsCapRevision2    = 0x02000000
	vfsCapRevision3    = 0x03000000
)

// ParseFileCaps decodes a security.capability value (struct vfs_cap_data,
// little endian): a magic word with the revision and flags, then pairs
// of permitted and inheritable words (one pair for revision 1, two for 2
// and 3), then for revision 3 the root id.
func ParseFileCaps(data []byte) (FileCaps, error) {
	if len(data) < 4 {
		return FileCaps{}, errors.New("file capabilities: too short")
	}
	magic := binary.LittleEndian.Uint32(data)
	var f FileCaps
	f.Effective = magic&vfsCapFlagsEff != 0
	word := func(i int) uint64 { return uint64(binary.LittleEndian.Uint32(data[4+4*i:])) }
	switch rev := magic & vfsCapRevisionMask; rev {
	case vfsCapRevision1:
		if len(data) != 12 {
			return FileCaps{}, fmt.Errorf("file capabilities revision 1: %d bytes, want 12", len(data))
		}
		f.Permitted = word(0)
	case vfsCapRevision2, vfsCapRevision3:
		want := 20
		if rev == vfsCapRevision3 {
			want = 24
		}
		if len(data) != want {
			return FileCaps{}, fmt.Errorf("file capabilities revision %d: %d bytes, want %d", rev>>24, len(data), want)
		}
		f.Permitted = word(0) | word(2)<<32
		if rev == vfsCapRevision3 {
			f.RootID = binary.LittleEndian.Uint32(data[20:])
		}
	default:
		return FileCaps{}, fmt.Errorf("file capabilities: unknown revision %#x", rev)
	}
	return f, nil
}

// ParseRange parses a sysctl of two numbers, such as
// net.ipv4.ping_group_range ("1\t0" when nobody may ping).
func ParseRange(data []byte) (lo, hi uint32, err error) {
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("range %q: want two numbers", data)
	}
	a, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("range %q: %w", data, err)
	}
	b, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("range %q: %w", data, err)
	}
	return uint32(a), uint32(b), nil
}

// ParseInt parses a sysctl holding one integer.
func ParseInt(data []byte) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sysctl value %q: %w", data, err)
	}
	return n, nil
}

// firstSubID is where subordinate ids start by convention (useradd's
// SUB_UID_MIN).
const firstSubID = 100000

// NextFreeSubIDs is the start of the first block of ids, at or above
// 100000, that no entry of a /etc/subuid or /etc/subgid file uses: where
// a new user's range can go. Malformed lines are skipped (the user's own
// entries are parsed strictly elsewhere).
func NextFreeSubIDs(data []byte) uint64 {
	next := uint64(firstSubID)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) != 3 {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		if end := start + count; end > next {
			next = end
		}
	}
	return next
}

// ParseAppArmorProfiles parses /sys/kernel/security/apparmor/profiles:
// lines of "NAME (MODE)". It returns the names.
func ParseAppArmorProfiles(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.LastIndex(line, " ("); i > 0 && strings.HasSuffix(line, ")") {
			out = append(out, line[:i])
		}
	}
	return out
}

// firstLine is the first non-empty line of a program's output.
func firstLine(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
