package container

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sandbox/spec"
)

// TopHeader are the columns of top, as podman shows them by default.
var TopHeader = []string{"USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"}

// TopProcess is one process of a container as top shows it: ids as the
// container sees them.
type TopProcess struct {
	User    string
	PID     int
	PPID    int
	CPU     float64 // percent of one CPU over the process's life
	Elapsed time.Duration
	TTY     string
	Time    time.Duration // CPU time used
	Command string
}

// Row is the process's line of top, column by column.
func (p TopProcess) Row() []string {
	return []string{p.User, strconv.Itoa(p.PID), strconv.Itoa(p.PPID), fmt.Sprintf("%.3f", p.CPU),
		p.Elapsed.String(), p.TTY, p.Time.String(), p.Command}
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat times:
// 100 on every Linux architecture sandbox builds for.
const clockTicks = 100

// procStatus is what top needs of /proc/PID/status.
type procStatus struct {
	// PPid is the parent as the reader's pid namespace sees it.
	PPid int
	// NSpid is the pid in each pid namespace, the reader's first and the
	// process's own last.
	NSpid []int
	// EUID is the effective user id in the reader's user namespace.
	EUID uint32
}

// parseProcStatus parses /proc/PID/status.
func parseProcStatus(data []byte) (procStatus, error) {
	var s procStatus
	var havePPid, haveNSpid, haveUID bool
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		key, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		fields := strings.Fields(string(value))
		switch string(key) {
		case "PPid":
			if len(fields) != 1 {
				return s, fmt.Errorf("proc status: PPid %q", value)
			}
			n, err := strconv.Atoi(fields[0])
			if err != nil || n < 0 {
				return s, fmt.Errorf("proc status: PPid %q", value)
			}
			s.PPid, havePPid = n, true
		case "NSpid":
			if len(fields) == 0 {
				return s, fmt.Errorf("proc status: empty NSpid")
			}
			s.NSpid = nil
			for _, f := range fields {
				n, err := strconv.Atoi(f)
				if err != nil || n <= 0 {
					return s, fmt.Errorf("proc status: NSpid %q", value)
				}
				s.NSpid = append(s.NSpid, n)
			}
			haveNSpid = true
		case "Uid":
			// real, effective, saved set, file system
			if len(fields) != 4 {
				return s, fmt.Errorf("proc status: Uid %q", value)
			}
			n, err := strconv.ParseUint(fields[1], 10, 32)
			if err != nil {
				return s, fmt.Errorf("proc status: Uid %q", value)
			}
			s.EUID, haveUID = uint32(n), true
		}
	}
	if !havePPid || !haveNSpid || !haveUID {
		return s, fmt.Errorf("proc status: want PPid, NSpid and Uid lines (NSpid needs Linux 4.1)")
	}
	return s, nil
}

// topStat is what top needs of /proc/PID/stat.
type topStat struct {
	Comm string
	// TTY is the controlling terminal's device number, 0 for none.
	TTY uint32
	// UTime, STime and StartTime are in clock ticks; StartTime after boot.
	UTime, STime, StartTime uint64
}

// parseTopStat parses /proc/PID/stat.
func parseTopStat(data []byte) (topStat, error) {
	var s topStat
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return s, fmt.Errorf("proc stat: no command name")
	}
	s.Comm = string(data[open+1 : closing])
	// fields[0] is field 3 (state): tty_nr is field 7, utime 14, stime 15,
	// starttime 22.
	fields := strings.Fields(string(data[closing+1:]))
	if len(fields) < 20 {
		return s, fmt.Errorf("proc stat: %d fields after the name, want at least 20", len(fields))
	}
	tty, err := strconv.ParseInt(fields[4], 10, 64)
	if err != nil {
		return s, fmt.Errorf("proc stat: tty: %w", err)
	}
	s.TTY = uint32(tty)
	for i, p := range map[int]*uint64{11: &s.UTime, 12: &s.STime, 19: &s.StartTime} {
		if *p, err = strconv.ParseUint(fields[i], 10, 64); err != nil {
			return s, fmt.Errorf("proc stat: field %d: %w", i+3, err)
		}
	}
	return s, nil
}

// parseUptime reads /proc/uptime: the seconds since boot.
func parseUptime(data []byte) (time.Duration, error) {
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, fmt.Errorf("proc uptime: empty")
	}
	secs, frac, _ := strings.Cut(f[0], ".")
	s, err := strconv.ParseUint(secs, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("proc uptime %q: %w", f[0], err)
	}
	d := time.Duration(s) * time.Second
	if frac != "" {
		if len(frac) > 9 || !allDigits(frac) {
			return 0, fmt.Errorf("proc uptime %q: bad fraction", f[0])
		}
		ns, err := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc uptime %q: %w", f[0], err)
		}
		d += time.Duration(ns)
	}
	return d, nil
}

// ttyName names a terminal device as ps does: pts/N, ttyN, or ? for none
// or one it does not know.
func ttyName(dev uint32) string {
	major, minor := (dev>>8)&0xfff, (dev&0xff)|((dev>>12)&0xfff00)
	switch {
	case dev == 0:
		return "?"
	case major >= 136 && major <= 143:
		return "pts/" + strconv.Itoa(int((major-136)*256+minor))
	case major == 4 && minor < 64:
		return "tty" + strconv.Itoa(int(minor))
	case major == 4:
		return "ttyS" + strconv.Itoa(int(minor-64))
	case major == 5 && minor == 0:
		return "tty"
	case major == 5 && minor == 1:
		return "console"
	}
	return "?"
}

// fromKeeperID translates an id of the keeper's namespace into the
// container's: the same without a namespace of its own, else through its
// map (inside to keeper). ok is false for an id the map does not cover.
func fromKeeperID(m []spec.IDMap, id uint32, own bool) (uint32, bool) {
	if !own {
		return id, true
	}
	for _, e := range m {
		if id >= e.HostID && id-e.HostID < e.Size {
			return e.ContainerID + (id - e.HostID), true
		}
	}
	return 0, false
}

// topRow turns what was read of one process into its line. pids maps the
// container's processes' pids as sandbox sees them to the container's
// pids; users names the container's user ids.
type topInput struct {
	status  procStatus
	stat    topStat
	cmdline []byte
	uptime  time.Duration
	pids    map[int]int
	users   map[uint32]string
	userNS  *spec.UserNS
}

func topRow(in topInput) TopProcess {
	p := TopProcess{PID: in.status.NSpid[len(in.status.NSpid)-1], PPID: in.pids[in.status.PPid], TTY: ttyName(in.stat.TTY)}
	var m []spec.IDMap
	if in.userNS != nil {
		m = in.userNS.UIDMap
	}
	if uid, ok := fromKeeperID(m, in.status.EUID, in.userNS != nil); !ok {
		p.User = "nobody"
	} else if name, ok := in.users[uid]; ok {
		p.User = name
	} else {
		p.User = strconv.FormatUint(uint64(uid), 10)
	}
	start := time.Duration(in.stat.StartTime) * time.Second / clockTicks
	if in.uptime > start {
		p.Elapsed = in.uptime - start
	}
	p.Time = time.Duration(in.stat.UTime+in.stat.STime) * time.Second / clockTicks
	if p.Elapsed > 0 {
		p.CPU = 100 * p.Time.Seconds() / p.Elapsed.Seconds()
	}
	args := strings.Split(strings.TrimRight(string(in.cmdline), "\x00"), "\x00")
	p.Command = strings.Join(args, " ")
	if p.Command == "" {
		p.Command = "[" + in.stat.Comm + "]"
	}
	return p
}
