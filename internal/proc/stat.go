// Package proc reads what sandbox needs of /proc/PID/stat: a process's
// state and start time, which with its pid name one process across pid
// reuse. Reading is kept apart from parsing, which is a pure function.
// Whether such a process has ended is the kernel's word, through a pidfd
// (alive_linux.go).
package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"sandbox/internal/atomicfile"
)

// Stat is what sandbox needs of /proc/PID/stat.
type Stat struct {
	State byte // R, S, D, Z, ...
	// StartTime is in clock ticks after boot: with the pid it names one
	// process across pid reuse.
	StartTime uint64
}

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	data, err := atomicfile.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(data)
}

// StartTime reads a process's start time from /proc/PID/stat.
func StartTime(pid int) (uint64, error) {
	st, err := ReadStat(pid)
	return st.StartTime, err
}

// ParseStat parses a /proc/PID/stat line.
func ParseStat(data []byte) (Stat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("proc stat: no command name")
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state); the start time is field 22.
	if len(fields) < 20 {
		return Stat{}, fmt.Errorf("proc stat: %d fields after the name, want at least 20", len(fields))
	}
	if len(fields[0]) != 1 {
		return Stat{}, fmt.Errorf("proc stat: state %q, want one letter", fields[0])
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return Stat{}, fmt.Errorf("proc stat: start time: %w", err)
	}
	return Stat{State: fields[0][0], StartTime: start}, nil
}

// liveThread reports whether a thread of pid is neither dead nor a zombie.
func liveThread(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		data, err := os.ReadFile(dir + "/" + e.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		if st, err := ParseStat(data); err == nil && st.State != 'Z' && st.State != 'X' {
			return true
		}
	}
	return false
}
