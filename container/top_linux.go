package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"syscall"

	"sandbox/imageuser"
)

// Top lists the processes in a running container's pid namespace: those
// whose /proc/PID/ns/pid is its first process's. Pids, parent pids and
// user names are as the container sees them.
func (r *Runtime) Top(ref string) ([]TopProcess, error) {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return nil, err
	}
	if !up(st) || !alive(st.Pid, st.PidStart) {
		return nil, fmt.Errorf("%w: %s", ErrNotRunning, ref)
	}
	target, err := os.Readlink("/proc/" + strconv.Itoa(st.Pid) + "/ns/pid")
	if err != nil {
		return nil, fmt.Errorf("top %s: pid namespace: %w", ref, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	var ins []topInput
	pids := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		dir := "/proc/" + e.Name()
		// Processes of other users cannot be read, and are not in the
		// container: its processes are all in sandbox's user namespace.
		if ns, err := os.Readlink(dir + "/ns/pid"); err != nil || ns != target {
			continue
		}
		in, err := readTopInput(dir)
		if processGone(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("top %s: %w", ref, err)
		}
		pids[pid] = in.status.NSpid[len(in.status.NSpid)-1]
		ins = append(ins, in)
	}
	users, err := containerUsers(c.Config.Spec.Rootfs)
	if err != nil {
		// The names are a nicety that a file the image made unreadable
		// (a fifo, a huge file) must not cost the listing: show ids, as ps
		// does for a user it does not know.
		users = map[uint32]string{}
	}
	data, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	uptime, err := parseUptime(data)
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	out := make([]TopProcess, 0, len(ins))
	for _, in := range ins {
		in.pids, in.users, in.uptime, in.userNS = pids, users, uptime, c.Config.Spec.UserNS
		out = append(out, topRow(in))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// readTopInput reads a process's status, stat and command line.
func readTopInput(dir string) (topInput, error) {
	var in topInput
	data, err := os.ReadFile(dir + "/status")
	if err != nil {
		return in, err
	}
	if in.status, err = parseProcStatus(data); err != nil {
		return in, fmt.Errorf("%s: %w", dir, err)
	}
	if data, err = os.ReadFile(dir + "/stat"); err != nil {
		return in, err
	}
	if in.stat, err = parseTopStat(data); err != nil {
		return in, fmt.Errorf("%s: %w", dir, err)
	}
	in.cmdline, err = os.ReadFile(dir + "/cmdline")
	return in, err
}

// processGone reports an error of reading /proc of a process that exited
// meanwhile.
func processGone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// containerUsers names the user ids of the container's /etc/passwd.
func containerUsers(rootfs string) (map[uint32]string, error) {
	data, err := imageuser.ReadFile(rootfs, "/etc/passwd")
	if errors.Is(err, fs.ErrNotExist) {
		return map[uint32]string{}, nil // no names: ids are shown
	}
	if err != nil {
		return nil, err
	}
	users := map[uint32]string{}
	for _, e := range imageuser.ParsePasswd(data) {
		if _, ok := users[e.UID]; !ok {
			users[e.UID] = e.Name
		}
	}
	return users, nil
}
