package userns

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Range is a block of subordinate ids: Count ids starting at Start.
type Range struct {
	Start uint32
	Count uint32
}

// ParseSubIDs returns the ranges that a /etc/subuid or /etc/subgid file
// grants to the user called name whose numeric id is id. Entries may name the
// user or give the number; comments and blank lines are skipped. A malformed
// line is an error naming the line, since a silently skipped range would give
// the user a smaller namespace than they configured.
func ParseSubIDs(data []byte, name string, id int) ([]Range, error) {
	var ranges []Range
	idStr := strconv.Itoa(id)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) != 3 {
			return nil, fmt.Errorf("line %d %q: want NAME:START:COUNT", lineNo, line)
		}
		if fields[0] != name && fields[0] != idStr {
			continue
		}
		start, err := strconv.ParseUint(fields[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: bad start: %w", lineNo, line, err)
		}
		count, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: bad count: %w", lineNo, line, err)
		}
		if count == 0 {
			continue
		}
		if start+count-1 > 0xfffffffe {
			return nil, fmt.Errorf("line %d %q: range ends past the largest id", lineNo, line)
		}
		ranges = append(ranges, Range{Start: uint32(start), Count: uint32(count)})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return ranges, nil
}

// ParseGetsubids reads the output of `getsubids NAME` (or `getsubids -g`),
// lines of the form "0: NAME START COUNT".
func ParseGetsubids(out []byte) ([]Range, error) {
	var ranges []Range
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 4 || !strings.HasSuffix(fields[0], ":") {
			return nil, fmt.Errorf("getsubids line %q: want \"N: NAME START COUNT\"", line)
		}
		start, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("getsubids line %q: bad start: %w", line, err)
		}
		count, err := strconv.ParseUint(fields[3], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("getsubids line %q: bad count: %w", line, err)
		}
		if count > 0 && start+count-1 <= 0xfffffffe {
			ranges = append(ranges, Range{Start: uint32(start), Count: uint32(count)})
		}
	}
	return ranges, nil
}
