package monitor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// mapping is one mapping of /proc/PID/smaps, as much of it as shedding
// the start-up's pages needs.
type mapping struct {
	start, end uint64
	// perms are read, write, execute, and private or shared: "r-xp".
	perms [4]byte
	inode uint64 // 0 for anonymous memory
	// anonymous is kB of the mapping's own pages (copied on write).
	anonymous uint64
}

// sheddable says whether the process can drop its page table entries
// for m without losing anything: a private, read-only mapping of a file
// with no page of its own, whose every page is the file's and comes back
// from the page cache when touched again.
func (m mapping) sheddable() bool {
	return m.inode != 0 && m.perms[0] == 'r' && m.perms[1] == '-' && m.perms[3] == 'p' && m.anonymous == 0 && m.end > m.start
}

// parseSmaps parses /proc/PID/smaps, calling yield with each mapping: a
// header line per mapping ("START-END PERMS OFFSET DEV INODE [PATH]")
// followed by its "Field: value kB" lines, of which only Anonymous is
// read. A line that does not parse is an error: a mapping read wrong must
// not be taken for one that can be shed. It reads line by line and keeps
// no text, since the monitor reads its own smaps when idle.
func parseSmaps(r io.Reader, yield func(mapping)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), 64<<10)
	var cur mapping
	have := false
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if key, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.IndexAny(key, " -") < 0 {
			if !have {
				return fmt.Errorf("smaps line %q: a field before any mapping", line)
			}
			if string(key) == "Anonymous" {
				kb, err := parseKB(value)
				if err != nil {
					return fmt.Errorf("smaps line %q: %w", line, err)
				}
				cur.anonymous = kb
			}
			continue
		}
		if have {
			yield(cur)
		}
		m, err := parseMapsHeader(line)
		if err != nil {
			return fmt.Errorf("smaps line %q: %w", line, err)
		}
		cur, have = m, true
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if have {
		yield(cur)
	}
	return nil
}

// parseMapsHeader parses "START-END PERMS OFFSET DEV INODE [PATH]".
func parseMapsHeader(line []byte) (mapping, error) {
	var m mapping
	f := bytes.Fields(line)
	if len(f) < 5 || len(f[1]) != 4 {
		return m, strconv.ErrSyntax
	}
	lo, hi, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return m, strconv.ErrSyntax
	}
	var err error
	if m.start, err = strconv.ParseUint(string(lo), 16, 64); err != nil {
		return m, err
	}
	if m.end, err = strconv.ParseUint(string(hi), 16, 64); err != nil {
		return m, err
	}
	if m.inode, err = strconv.ParseUint(string(f[4]), 10, 64); err != nil {
		return m, err
	}
	copy(m.perms[:], f[1])
	return m, nil
}

// parseKB parses " 12 kB".
func parseKB(s []byte) (uint64, error) {
	n, ok := bytes.CutSuffix(bytes.TrimSpace(s), []byte(" kB"))
	if !ok {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(string(n), 10, 64)
}
