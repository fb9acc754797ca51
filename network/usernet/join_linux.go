package usernet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sandbox/internal/lockfile"
	"sandbox/internal/proc"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// The holder's protocol: one request a connection, on a SOCK_SEQPACKET
// socket at DIR/holder.sock; a request is one JSON Request, with the
// container's network namespace as an SCM_RIGHTS descriptor for "join";
// the answer one JSON Reply.
//
//	caller                          holder
//	Request{join, netns fd}  ─────▶ bridges it lacks, veths, addresses,
//	                                routes, port rules, names
//	                        ◀─────  Reply{} once the namespace is ready
const (
	// HolderRole is the holder's first argument (the sandbox binary
	// dispatches on it before its command line is parsed).
	HolderRole = "__usernet-holder"
	sockName   = "holder.sock"
	pidName    = "holder.pid"
)

// Request is a message to the holder.
type Request struct {
	// Op is "join", "connect", "disconnect", "leave", "name", "names"
	// or "ping".
	Op          string `json:"op"`
	ContainerID string `json:"containerID,omitempty"`
	Name        string `json:"name,omitempty"`
	// Names are further names the member answers to (a pod's infra: its
	// pod's and its members'), on "join" and "names".
	Names       []string          `json:"names,omitempty"`
	Attachments []spec.Attachment `json:"attachments,omitempty"`
	// Ports are the container's published ports: the holder routes the
	// container's answers on them back to the forwarder's transparent
	// sockets (see README, user-defined networks).
	Ports []spec.Port `json:"ports,omitempty"`
}

// Reply is the holder's answer.
type Reply struct {
	Error string `json:"error,omitempty"`
}

// HolderDir is the holder's directory in a store's run root: a holder
// per store, as the networks' records (and so their subnets) are per
// store.
func HolderDir(runRoot string) string { return filepath.Join(runRoot, "usernet") }

// Join puts the container whose network namespace is netns on its
// networks, through the holder in dir (which must be running: see
// EnsureHolder). It returns once the namespace is configured. This is
// the one way in for anything that joins a network (a container's
// monitor; a pod's infra process would call it the same way).
func Join(dir string, netns *os.File, req Request) error {
	req.Op = "join"
	return call(dir, req, netns)
}

// Connect puts the running container whose network namespace is netns,
// already on a network of the holder in dir, on network a as well.
func Connect(dir string, netns *os.File, containerID string, a spec.Attachment) error {
	return call(dir, Request{Op: "connect", ContainerID: containerID, Attachments: []spec.Attachment{a}}, netns)
}

// Disconnect takes a running container off network a (its other networks
// stay). A holder that does not run is no error: the container is on no
// network of a running holder, and the next one will not put it on a.
func Disconnect(dir, containerID string, a spec.Attachment) error {
	err := call(dir, Request{Op: "disconnect", ContainerID: containerID, Attachments: []spec.Attachment{a}}, nil)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
		return nil
	}
	return err
}

// Leave takes the container off its networks (its veths, names and port
// rules); a container whose namespace is gone leaves by itself.
func Leave(dir, containerID string) error {
	return call(dir, Request{Op: "leave", ContainerID: containerID}, nil)
}

// SetName tells the holder in dir a container's name (chosen after it
// joined, or changed by rename), which it then answers for. A holder
// that does not run is no error: it learns the name at the next join.
func SetName(dir, containerID, name string) error {
	err := call(dir, Request{Op: "name", ContainerID: containerID, Name: name}, nil)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
		return nil
	}
	return err
}

// SetNames tells the holder in dir the further names a member answers
// to (see Request.Names); like SetName, no holder is no error.
func SetNames(dir, containerID string, names []string) error {
	err := call(dir, Request{Op: "names", ContainerID: containerID, Names: names}, nil)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
		return nil
	}
	if err != nil && strings.HasPrefix(err.Error(), "unknown request") {
		// A holder of an older version, started before an upgrade: it
		// learns the names when it is next started.
		return nil
	}
	return err
}

// callTimeout bounds one request: joining makes a bridge at most.
const callTimeout = 20 * time.Second

func call(dir string, req Request, fd *os.File) error {
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("network holder: %w", err)
	}
	defer unix.Close(s)
	tv := unix.NsecToTimeval(callTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(s, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("network holder: %w", err)
	}
	if err := unix.Connect(s, &unix.SockaddrUnix{Name: filepath.Join(dir, sockName)}); err != nil {
		return fmt.Errorf("network holder: %w", err)
	}
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var oob []byte
	if fd != nil {
		oob = unix.UnixRights(int(fd.Fd()))
	}
	if err := unix.Sendmsg(s, data, oob, nil, 0); err != nil {
		return fmt.Errorf("network holder: %w", err)
	}
	buf := make([]byte, 64<<10)
	var n int
	err = untilDone(func() (err error) {
		n, _, _, _, err = unix.Recvmsg(s, buf, nil, 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("network holder: no answer: %w", err)
	}
	var rep Reply
	if err := json.Unmarshal(buf[:n], &rep); err != nil {
		return fmt.Errorf("network holder answered %q: %w", buf[:n], err)
	}
	if rep.Error != "" {
		return errors.New(rep.Error)
	}
	return nil
}

// untilDone calls f again while a signal interrupts it: a receive on a
// socket with a timeout (SO_RCVTIMEO) is not restarted after a signal,
// and the Go runtime sends its threads signals of its own (preemption).
func untilDone(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// HolderOptions start the holder.
type HolderOptions struct {
	// Dir is HolderDir of the user's runtime directory.
	Dir string
	// Binary is the sandbox binary, run in HolderRole; Env its
	// environment (the keeper's child environment: the holder is started
	// inside the keeper's namespaces already).
	Binary string
	Env    []string
	// Started, if set, is called once a holder this call started is
	// ready (still under the start lock): a holder that replaces a
	// killed one must be told the members that still run.
	Started func() error
}

// holderReady bounds the holder's start (slirp4netns included).
const holderReady = 15 * time.Second

// EnsureHolder returns once the holder answers in o.Dir, starting it in
// a new network namespace when none does (under a lock, so that
// concurrent starts start one).
func EnsureHolder(o HolderOptions) error {
	if call(o.Dir, Request{Op: "ping"}, nil) == nil {
		return nil
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("network holder directory: %w", err)
	}
	l, err := lockfile.Acquire(filepath.Join(o.Dir, "start.lock"))
	if err != nil {
		return err
	}
	defer l.Unlock()
	if call(o.Dir, Request{Op: "ping"}, nil) == nil {
		return nil
	}
	logFile, err := os.OpenFile(filepath.Join(o.Dir, "holder.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("network holder log: %w", err)
	}
	defer logFile.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("network holder: %w", err)
	}
	defer readyR.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		readyW.Close()
		return err
	}
	defer null.Close()
	p, err := os.StartProcess(o.Binary, []string{"sandbox", HolderRole, o.Dir}, &os.ProcAttr{
		Dir:   "/",
		Env:   o.Env,
		Files: []*os.File{null, logFile, logFile, readyW},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	readyW.Close()
	if err != nil {
		return fmt.Errorf("start the network holder: %w", err)
	}
	done := make(chan string, 1)
	go func() {
		b := make([]byte, 4096)
		n, _ := readyR.Read(b)
		done <- string(b[:n])
	}()
	select {
	case msg := <-done:
		if msg != "ok" {
			p.Kill()
			p.Wait()
			if msg == "" {
				msg = "it exited (see " + filepath.Join(o.Dir, "holder.log") + ")"
			}
			return fmt.Errorf("network holder did not start: %s", strings.TrimSpace(msg))
		}
	case <-time.After(holderReady):
		p.Kill()
		p.Wait()
		return fmt.Errorf("network holder not ready after %v", holderReady)
	}
	// The holder outlives this command; its parent becomes the reaper.
	if err := p.Release(); err != nil {
		return err
	}
	if o.Started != nil {
		if err := o.Started(); err != nil {
			return fmt.Errorf("network holder restarted: %w", err)
		}
	}
	return nil
}

// WritePid records the holder's pid, its start time, and the thread that
// holds the networks' namespace, in dir.
func WritePid(dir string, tid int) error {
	pid := os.Getpid()
	start, err := proc.StartTime(pid)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, pidName), fmt.Appendf(nil, "%d %d %d\n", pid, start, tid), 0o600)
}

// HolderPid is the running holder's pid, checked against its start time,
// and the thread in the networks' namespace.
func HolderPid(dir string) (pid, tid int, err error) {
	data, err := os.ReadFile(filepath.Join(dir, pidName))
	if err != nil {
		return 0, 0, fmt.Errorf("network holder: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) != 3 {
		return 0, 0, fmt.Errorf("network holder: bad pid file %q", data)
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	tid, err3 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("network holder: bad pid file %q", data)
	}
	if now, err := proc.StartTime(pid); err != nil || now != start {
		return 0, 0, fmt.Errorf("network holder %d is gone", pid)
	}
	return pid, tid, nil
}

// OpenHolderNetns opens the holder's network namespace, where the
// bridges are (the forwarder dials a container's bridge address there).
func OpenHolderNetns(dir string) (*os.File, error) {
	pid, tid, err := HolderPid(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", pid, tid))
	if err != nil {
		return nil, fmt.Errorf("network holder's namespace: %w", err)
	}
	if _, _, err := HolderPid(dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// PidPath is the holder's pid file in dir (rewritten by each holder).
func PidPath(dir string) string { return filepath.Join(dir, pidName) }

// SockPath is the holder's socket in dir, for the holder to listen on.
func SockPath(dir string) string { return filepath.Join(dir, sockName) }
