package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// What the memory figure reads from /proc, and how. The parsers are pure
// functions of the files' text (table tests and fuzz targets in
// procfs_test.go); the readers beside them only open the files.

// procStatus is what the figure needs from /proc/PID/status.
type procStatus struct {
	name string // Name: the command name, at most 15 bytes
	ppid int    // PPid
	rss  int64  // VmRSS in bytes; 0 when the process has no memory (kernel thread, zombie)
}

// parseStatus parses the text of /proc/PID/status.
func parseStatus(text string) (procStatus, error) {
	var st procStatus
	var haveName, havePPid bool
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch key {
		case "Name":
			// The name is the one field that may hold any byte but NUL and
			// newline; the kernel escapes those, so it is one line.
			st.name, haveName = value, true
		case "PPid":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return procStatus{}, fmt.Errorf("PPid %q: not a process id", value)
			}
			st.ppid, havePPid = n, true
		case "VmRSS":
			n, err := parseKB(value)
			if err != nil {
				return procStatus{}, fmt.Errorf("VmRSS: %w", err)
			}
			st.rss = n
		}
	}
	if err := sc.Err(); err != nil {
		return procStatus{}, err
	}
	if !haveName || !havePPid {
		return procStatus{}, errors.New("no Name or no PPid line")
	}
	return st, nil
}

// parseSmapsRollupPss returns the Pss line of /proc/PID/smaps_rollup, in
// bytes: the process's resident memory with every page shared by n
// processes counted 1/n.
func parseSmapsRollupPss(text string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && key == "Pss" {
			n, err := parseKB(strings.TrimSpace(value))
			if err != nil {
				return 0, fmt.Errorf("Pss: %w", err)
			}
			return n, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no Pss line")
}

// parseKB parses a /proc memory figure, "1234 kB", into bytes.
func parseKB(s string) (int64, error) {
	num, unit, _ := strings.Cut(s, " ")
	if strings.TrimSpace(unit) != "kB" {
		return 0, fmt.Errorf("%q: not a number of kB", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > 1<<53 {
		return 0, fmt.Errorf("%q: not a number of kB", s)
	}
	return n * 1024, nil
}

// readStatus reads and parses /proc/PID/status.
func readStatus(pid int) (procStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}, err
	}
	st, err := parseStatus(string(b))
	if err != nil {
		return procStatus{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return st, nil
}

// readPss reads the Pss of /proc/PID/smaps_rollup; reading it needs the
// right to trace the process, which its owner has unless it made itself
// undumpable.
func readPss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	pss, err := parseSmapsRollupPss(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/smaps_rollup: %w", pid, err)
	}
	return pss, nil
}

// processTree maps every process now in /proc to its children. Processes
// that end while it is read are left out.
func processTree() (map[int][]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		st, err := readStatus(pid)
		if gone(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		children[st.ppid] = append(children[st.ppid], pid)
	}
	return children, nil
}

// gone tells whether err says the process has ended: its directory is
// gone (ENOENT), or it was reaped between open and read (ESRCH).
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// helperProcesses returns helper and its descendants, except the subtree
// of the container's pid 1 (ctrPid): the processes an engine keeps per
// container besides the container's own.
func helperProcesses(children map[int][]int, helper, ctrPid int) []int {
	var out []int
	var walk func(pid int)
	walk = func(pid int) {
		if pid == ctrPid {
			return
		}
		out = append(out, pid)
		for _, c := range children[pid] {
			walk(c)
		}
	}
	walk(helper)
	return out
}

// procName returns the command name of pid, as /proc/PID/status says it.
func procName(pid int) (string, error) {
	st, err := readStatus(pid)
	if err != nil {
		return "", err
	}
	return st.name, nil
}
