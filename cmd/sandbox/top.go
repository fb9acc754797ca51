package main

import (
	"fmt"
	"path"
	"strings"

	"sandbox/container"
)

// topDescriptors are podman's ps format descriptors that top can show:
// the header, and the column of container.TopProcess.Row (comm is the
// command's name, args the whole command line).
var topDescriptors = map[string]struct {
	header string
	col    int
}{
	"user": {"USER", 0}, "ruser": {"RUSER", 0}, "pid": {"PID", 1}, "ppid": {"PPID", 2},
	"pcpu": {"%CPU", 3}, "etime": {"ELAPSED", 4}, "tty": {"TTY", 5}, "time": {"TIME", 6},
	"args": {"COMMAND", 7}, "comm": {"COMMAND", 8},
}

// topColumns are the columns that top's arguments after the container
// ask for: podman's descriptors (pid comm, or pid,comm), or every column
// when none is given. Arguments that start with "-" are options of
// docker's ps, accepted and ignored.
func topColumns(args []string) (headers []string, cols []int, err error) {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		for _, d := range strings.Split(a, ",") {
			if d == "" {
				continue
			}
			td, ok := topDescriptors[d]
			if !ok {
				return nil, nil, fmt.Errorf("unknown top descriptor %q: want user, ruser, pid, ppid, pcpu, etime, tty, time, args or comm", d)
			}
			headers, cols = append(headers, td.header), append(cols, td.col)
		}
	}
	if len(cols) == 0 {
		for i, h := range container.TopHeader {
			headers, cols = append(headers, h), append(cols, i)
		}
	}
	return headers, cols, nil
}

// topRow is p's line with the columns cols.
func topRow(p container.TopProcess, cols []int) []string {
	row := p.Row()
	out := make([]string, len(cols))
	for i, c := range cols {
		if c == 8 {
			name, _, _ := strings.Cut(p.Command, " ")
			out[i] = path.Base(name)
			continue
		}
		out[i] = row[c]
	}
	return out
}
