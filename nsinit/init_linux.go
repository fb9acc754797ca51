// Package nsinit is the init role: the first process in a container's new
// namespaces. The monitor clones it with new pid, uts, ipc, network and
// cgroup namespaces (and a user namespace of its own for --userns=keep-id)
// before the container's root filesystem exists, so that its start-up
// overlaps the work of storage; it then waits for the path of the
// container's configuration: on its socket, or on the pipe of the
// command's go-ahead, which the monitor hands it (Begin.GoPipe). While it
// waits, a thread of its makes /proc, /dev and /sys as the spec most
// likely asks (stage_linux.go). Then, in order:
//
//  0. a new mount namespace for its thread (unshare: one made at clone time
//     would miss the root filesystem mounted since; made while it waits
//     when the command sends the mounted root filesystem ahead, Prepare),
//     lent to the monitor (lendMountNS) so that its unmounting comes after
//     the exit status;
//  1. make every mount private, bind the root filesystem onto itself;
//  2. the spec's mounts (/proc, /dev and its nodes, /dev/pts, /dev/shm,
//     /dev/mqueue, /sys, volumes, tmpfs, /etc/hostname, /etc/hosts,
//     /etc/resolv.conf), the working directory, then the masked and
//     read-only paths: every one a path of the image, resolved inside the
//     root as docker does and mounted on through a held handle
//     (mountpoint_linux.go); a staged /proc, /dev or /sys, when the spec
//     asks for just what it holds, goes onto its mount point whole;
//  3. pivot_root into the root filesystem and detach the old root;
//  4. the root read-only (--read-only), hostname, loopback up;
//  5. standard streams: a terminal from the container's own /dev/pts (its
//     master end goes to the monitor) or the monitor's pipes;
//  6. working directory, bounding set, groups and user (user_linux.go);
//  7. the command found through the container's PATH; no_new_privs, the
//     seccomp filter and the capabilities, in the order that lets each be
//     taken (privileges_linux.go); the resource limits of --ulimit
//     (rlimit_linux.go); then execve.
//
// It talks to the monitor over the SOCK_SEQPACKET socket on fd 3: first a
// Begin from the monitor, then Messages from the init (the first, with
// Begin.GoPipe, the go-ahead it forwards; then its mount namespace, for the
// monitor to hold; then the terminal, an error, or the hold before
// execve); the socket closes on execve, which is how the monitor learns
// the command started. It runs in
// a lean binary: standard library, x/sys/unix, securejoin and
// moby/sys/capability only; the seccomp program comes compiled.
package nsinit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"sandbox/internal/proc"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// syncFd is the descriptor of the init's socket to the monitor: 3, until
// preserveFds moves it above the descriptors the command is given.
var syncFd = 3

// Begin is the monitor's go-ahead: the container's configuration, and for
// --network container:ID the process whose network namespace to join.
type Begin struct {
	Config    string           `json:"config"`
	JoinNetns *spec.ProcessRef `json:"joinNetns,omitempty"`
	// HoldExec: report Message{Exec} just before execve and wait for the
	// monitor's reply (hold_linux.go).
	HoldExec bool `json:"holdExec,omitempty"`
	// GoPipe: Config is not known yet. The message carries (SCM_RIGHTS)
	// the read end of the pipe on which the command that starts the
	// container writes its go-ahead to the monitor, one JSON line with the
	// configuration's path as "config", once the container is made (see
	// package monitor). The init reads that line itself and forwards it
	// to the monitor (Message.GoAhead) before anything else: the go-ahead
	// reaches the init without waking the monitor first. End of file
	// without a line means there will be no container: the init exits.
	GoPipe bool `json:"goPipe,omitempty"`

	// staging: the standard file systems being made while the init
	// waited for the go-ahead (stage_linux.go); nil when it did not.
	staging *staging
	// ownMountNS: the init made its mount namespace while it waited,
	// once the command had sent the mounted root filesystem ahead
	// (Prepare).
	ownMountNS bool
}

// Message is what the init sends the monitor before it execs.
type Message struct {
	// Pty: the message carries the terminal's master end (SCM_RIGHTS).
	Pty bool `json:"pty,omitempty"`
	// Error is why the container could not start; Code the exit status to
	// report: 125 setup failed, 126 the command cannot be invoked, 127 it
	// was not found.
	Error string `json:"error,omitempty"`
	Code  int    `json:"code,omitempty"`
	// Exec: the command is about to start; the init waits for a reply
	// (Begin.HoldExec).
	Exec bool `json:"exec,omitempty"`
	// MountNS: the message carries (SCM_RIGHTS) the container's mount
	// namespace, for the monitor to hold (lendMountNS).
	MountNS bool `json:"mountNS,omitempty"`
	// GoAhead is the command's go-ahead line as the init read it
	// (Begin.GoPipe), for the monitor: the first message, when there is one.
	GoAhead json.RawMessage `json:"goAhead,omitempty"`
}

// Run is the init role. It does not return when the command starts.
func Run() {
	runtime.LockOSThread()
	err := run()
	// 126 (cannot invoke), 127 (not found), else 125.
	code := spec.ExitStatus(err)
	send(Message{Error: err.Error(), Code: code}, -1)
	os.Exit(code)
}

func run() error {
	unix.CloseOnExec(syncFd)
	begin, err := receiveBegin()
	if err != nil {
		return err
	}
	s, err := spec.ReadSpec(begin.Config)
	if err != nil {
		return err
	}
	if err := preserveFds(s.Process.PreserveFDs); err != nil {
		return err
	}
	if !begin.ownMountNS {
		if err := newMountNS(); err != nil {
			return err
		}
	}
	lendMountNS()
	joinsUTS := false
	if begin.JoinNetns != nil {
		if err := joinNetns(begin.JoinNetns); err != nil {
			return err
		}
		// A pod's member: IPC and UTS joined before the rootfs, so that
		// its /dev/mqueue is the shared namespace's.
		for _, kind := range s.Share {
			if err := joinShared(begin.JoinNetns, kind); err != nil {
				return err
			}
			joinsUTS = joinsUTS || kind == "uts"
		}
	}
	if err := setupRootfs(s, begin.staging.wait()); err != nil {
		return err
	}
	// A shared UTS namespace keeps the hostname its holder set.
	if !joinsUTS {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", s.Hostname, err)
		}
	}
	if s.Network != spec.NetworkHost && begin.JoinNetns == nil {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if s.Process.Terminal {
		if err := openTerminal(&s.Process, syncFd); err != nil {
			return err
		}
	}
	if err := unix.Chdir(s.Process.Cwd); err != nil {
		return fmt.Errorf("change to working directory %s: %w", s.Process.Cwd, err)
	}
	if err := setUser(&s.Process); err != nil {
		return err
	}
	closeExtraFds()
	var filter []byte
	if s.Seccomp != nil {
		filter = s.Seccomp.Filter
	}
	if begin.HoldExec {
		return holdExec(syncFd, &s.Process, filter)
	}
	return execProcess(&s.Process, filter)
}

// receiveBegin waits for the monitor's go-ahead, and with Begin.GoPipe
// for the command's.
func receiveBegin() (*Begin, error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(syncFd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("wait for the monitor: %w", err)
		}
		if n == 0 {
			return nil, errors.New("the monitor went away before the container started")
		}
		var b Begin
		if err := json.Unmarshal(buf[:n], &b); err != nil {
			return nil, fmt.Errorf("message from the monitor: %w", err)
		}
		if b.GoPipe {
			// A pod's member joins namespaces after the go-ahead: what
			// it mounts must show those (its /dev/mqueue, its /sys).
			canStage := b.JoinNetns == nil
			if b.Config, b.staging, b.ownMountNS, err = commandGoAhead(oob[:oobn], canStage); err != nil {
				return nil, err
			}
		}
		return &b, nil
	}
}

// commandGoAhead reads the command's go-ahead from the pipe that came in
// oob (Begin.GoPipe), forwards it to the monitor and returns the
// configuration's path, the staging it started while it waited
// (canStage), and whether it made its mount namespace meanwhile (once a
// Prepare said the root filesystem is mounted). A monitor that cannot be
// told is gone: the container does not start without one.
func commandGoAhead(oob []byte, canStage bool) (config string, st *staging, ownMountNS bool, err error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return "", nil, false, fmt.Errorf("the go-ahead's pipe from the monitor: %d control messages (%v)", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return "", nil, false, fmt.Errorf("the go-ahead's pipe from the monitor: %d descriptors (%v)", len(fds), err)
	}
	st = workWhileWaiting(fds[0], canStage)
	lines := lineReader{fd: fds[0]}
	var line []byte
	for {
		line, err = lines.next()
		if err != nil || !IsPrepareLine(line) {
			break
		}
		// Mount points made while the command finishes
		// (prepare_linux.go), unless the go-ahead is there already: they
		// are made after it as well, without decoding this line. Then
		// the staging, if this line alone was there when the wait began.
		if lines.pending() {
			continue
		}
		// Its mount namespace too: the root filesystem is mounted, and a
		// namespace made now has it (one made earlier would not).
		if !ownMountNS {
			if err := newMountNS(); err != nil {
				unix.Close(fds[0])
				return "", nil, false, err
			}
			ownMountNS = true
		}
		prepare(line)
		if st == nil {
			st = workWhileWaiting(fds[0], canStage)
		}
	}
	unix.Close(fds[0])
	if err != nil {
		// End of file without a line: abandoned (the monitor, which
		// sees this process go, ends too).
		return "", nil, false, fmt.Errorf("no go-ahead: %w", err)
	}
	// Message{GoAhead: line}, laid out by hand: line is a JSON value
	// already (checked below, and by the monitor), and encoding/json's
	// first use of a type costs about 0.3 ms, here on the way to the
	// container's start.
	data := append(append([]byte(`{"goAhead":`), line...), '}')
	if err := unix.Sendmsg(syncFd, data, nil, nil, 0); err != nil {
		return "", nil, false, fmt.Errorf("forward the go-ahead to the monitor: %w", err)
	}
	var g struct {
		Config string `json:"config"`
	}
	if err := json.Unmarshal(line, &g); err != nil || g.Config == "" {
		return "", nil, false, fmt.Errorf("go-ahead %q: no configuration (%v)", line, err)
	}
	return g.Config, st, ownMountNS, nil
}

// newMountNS gives this thread a mount namespace of its own, a copy of
// the keeper's with the container's root filesystem mounted in it. The
// thread is locked: the new mount namespace is its, and execve from it
// takes it along; the same holds for a joined network namespace.
func newMountNS() error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("new mount namespace: %w", err)
	}
	return nil
}

// lendMountNS gives the monitor a descriptor of the container's new mount
// namespace, so that the namespace outlives the container's last process.
// Why: when the last process of a mount namespace exits, the kernel
// unmounts every mount in it (the root filesystem, /proc and its masks,
// /dev and its nodes, /sys, the volumes) and waits for an RCU grace period
// before that process's parent hears of the exit. With the monitor holding
// the namespace, that work happens when the monitor lets go, after it has
// given out the exit status: `run --rm` returns that much sooner. The
// descriptor rides in the socket until the monitor reads it, which holds
// the namespace as well. Without it (no /proc here, the monitor gone) the
// container is the same; the namespace goes with its last process.
func lendMountNS() {
	fd, err := unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	// Laid out by hand, as the go-ahead: no encoding/json on the way.
	if err := unix.Sendmsg(syncFd, []byte(`{"mountNS":true}`), unix.UnixRights(fd), nil, 0); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox-init: lend the mount namespace to the monitor: %v\n", err)
	}
	unix.Close(fd)
}

// send writes one message to the monitor, with fd attached when fd >= 0.
func send(m Message, fd int) { sendTo(syncFd, m, fd) }

// sendTo writes one message on the socket sock, with fd attached when fd >= 0.
func sendTo(sock int, m Message, fd int) {
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	if err := unix.Sendmsg(sock, data, oob, nil, 0); err != nil {
		// The monitor is gone: stderr is all that is left to tell.
		fmt.Fprintf(os.Stderr, "sandbox-init: report to monitor: %v\n", err)
	}
}

// workWhileWaiting does, while the go-ahead has not come on fd, what
// would otherwise be done after it: it starts staging the standard file
// systems (when canStage), and readies encoding/json for the container's
// configuration (the first decoding of a type reflects on it, some 0.3 ms
// on the way from the go-ahead to the container's start; encoding a zero
// Spec builds what decoding one uses). With the go-ahead there already,
// both are skipped: staging would only add a thread's work.
func workWhileWaiting(fd int, canStage bool) *staging {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 0); err != nil || n != 0 {
		return nil
	}
	var st *staging
	if canStage {
		st = startStaging()
	}
	_, _ = json.Marshal(&spec.Spec{})
	return st
}

// lineReader reads lines from fd on this thread: read(2), and poll(2) if
// the pipe is non-blocking; never the runtime's poller, which would hand
// the locked thread's wait to another thread.
type lineReader struct {
	fd   int
	rest []byte // read past the last line returned
}

// pending reports whether more is there to read: read ahead already, or
// waiting in the pipe.
func (r *lineReader) pending() bool {
	if len(r.rest) > 0 {
		return true
	}
	fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

// next returns the next line, newline included.
func (r *lineReader) next() ([]byte, error) {
	buf := make([]byte, 4096)
	for {
		if i := bytes.IndexByte(r.rest, '\n'); i >= 0 {
			line := r.rest[:i+1]
			r.rest = r.rest[i+1:]
			return line, nil
		}
		if len(r.rest) > 1<<20 {
			return nil, errors.New("a line of more than 1 MiB")
		}
		n, err := unix.Read(r.fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if _, err := unix.Poll([]unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}, -1); err != nil && err != unix.EINTR {
				return nil, err
			}
			continue
		case err != nil:
			return nil, err
		case n == 0:
			return nil, io.ErrUnexpectedEOF
		}
		r.rest = append(r.rest, buf[:n]...)
	}
}

// joinNetns enters the network namespace of another container's first
// process, checked by start time after its namespace is opened.
func joinNetns(ref *spec.ProcessRef) error {
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", ref.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the network namespace to join: %w", err)
	}
	defer unix.Close(fd)
	if t, err := proc.StartTime(ref.Pid); err != nil || t != ref.Start {
		return errors.New("the container whose network to join has stopped")
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("join the network namespace: %w", err)
	}
	return nil
}

// sharedKinds are the namespaces a pod's member may join besides the
// network, by their names in /proc/PID/ns.
var sharedKinds = map[string]int{"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS}

// joinShared enters one more namespace of the process whose network
// namespace the init joined, checked by start time after it is opened.
func joinShared(ref *spec.ProcessRef, kind string) error {
	flag, ok := sharedKinds[kind]
	if !ok {
		return fmt.Errorf("cannot share the %q namespace: want ipc or uts", kind)
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", ref.Pid, kind), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the %s namespace to join: %w", kind, err)
	}
	defer unix.Close(fd)
	if t, err := proc.StartTime(ref.Pid); err != nil || t != ref.Start {
		return errors.New("the container whose namespaces to join has stopped")
	}
	if err := unix.Setns(fd, flag); err != nil {
		return fmt.Errorf("join the %s namespace: %w", kind, err)
	}
	return nil
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: bring up: %w", err)
	}
	return nil
}

// openTerminal opens a terminal from the container's /dev/pts, hands its
// master end over the socket sock (a Message with Pty set), and makes its
// other end the controlling terminal and the standard streams.
func openTerminal(p *spec.Process, sock int) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock terminal: %w", err)
	}
	// TIOCGPTPEER opens the peer through the master, never by path.
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY)
	if errno != 0 {
		return fmt.Errorf("open terminal peer: %w", errno)
	}
	slave := int(r)
	if p.Rows > 0 && p.Cols > 0 {
		if err := unix.IoctlSetWinsize(slave, unix.TIOCSWINSZ, &unix.Winsize{Row: p.Rows, Col: p.Cols}); err != nil {
			return fmt.Errorf("set terminal size: %w", err)
		}
	}
	sendTo(sock, Message{Pty: true}, master)
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("terminal as fd %d: %w", fd, err)
		}
	}
	if slave > 2 {
		unix.Close(slave)
	}
	return nil
}

// closeExtraFds marks every descriptor above 2 close-on-exec, but those
// the command is given (--preserve-fds, which are 3 on): with one
// close_range(2) where the kernel knows CLOSE_RANGE_CLOEXEC (Linux 5.11),
// else each that /proc/self/fd lists (a directory read and a parse per
// descriptor on the way from the go-ahead to the command).
func closeExtraFds() {
	if unix.CloseRange(uint(3+preservedFds), math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		var fd int
		if _, err := fmt.Sscanf(e.Name(), "%d", &fd); err == nil && fd > 2 && !preserved(fd) {
			unix.CloseOnExec(fd)
		}
	}
}

// execProcess finds the command through the container's PATH and becomes
// it. Its error carries the exit status to report (see Code).
func execProcess(p *spec.Process, filter []byte) error {
	path, err := command(p)
	if err != nil {
		return err
	}
	return execCommand(path, p, filter)
}

// command finds the command to exec.
func command(p *spec.Process) (string, error) {
	if len(p.Args) == 0 {
		return "", spec.NewExitError(spec.ExitNotFound, errors.New("no command: give one or use an image with Cmd or Entrypoint"))
	}
	return lookPath(p.Args[0], envValue(p.Env, "PATH"))
}

// execCommand becomes the command found at path.
func execCommand(path string, p *spec.Process, filter []byte) error {
	if err := finishPrivileges(p, filter); err != nil {
		return err
	}
	if err := setRlimits(p.Rlimits); err != nil {
		return err
	}
	unignoreSignals()
	err := unix.Exec(path, p.Args, p.Env)
	code := spec.ExitCannotInvoke
	if errors.Is(err, unix.ENOENT) {
		code = spec.ExitNotFound
	}
	return spec.NewExitError(code, fmt.Errorf("exec %s: %w", p.Args[0], err))
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, checkExecutable(name, name)
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	var denied error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, name)
		err := checkExecutable(name, candidate)
		if err == nil {
			return candidate, nil
		}
		if spec.ExitStatus(err) == spec.ExitCannotInvoke && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", spec.NewExitError(spec.ExitNotFound, fmt.Errorf("exec %s: executable file not found in $PATH", name))
}

func checkExecutable(name, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return spec.NewExitError(spec.ExitNotFound, fmt.Errorf("exec %s: no such file or directory", name))
		}
		return spec.NewExitError(spec.ExitCannotInvoke, fmt.Errorf("exec %s: %w", name, err))
	}
	if st.IsDir() {
		return spec.NewExitError(spec.ExitCannotInvoke, fmt.Errorf("exec %s: is a directory", name))
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return spec.NewExitError(spec.ExitCannotInvoke, fmt.Errorf("exec %s: permission denied", name))
	}
	return nil
}
