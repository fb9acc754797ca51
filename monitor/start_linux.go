package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"syscall"

	"sandbox/attach"
	"sandbox/nsinit"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

type stream struct {
	name  string
	frame byte
	r     *os.File
}

// pendingInit is an init cloned into the container's namespaces, waiting
// for its Begin.
type pendingInit struct {
	pid     int
	sock    *os.File
	streams []stream
	stdin   *os.File // the write end of the container's stdin pipe, or nil
	// detachNetwork and unpublish undo the network backend attached to
	// the init's network namespace and the published ports; nil when
	// undone or never done (network_linux.go).
	detachNetwork func() error
	unpublish     func() error
	// join is the process whose network namespace the init joins, or nil.
	join *spec.ProcessRef
	// leaf is the container's cgroup the init was cloned into, or nil.
	leaf *leaf
	// begun: the init has its Begin (beginAtGo).
	begun bool
	// mountNS is the container's mount namespace as the init lent it
	// (nsinit.Message.MountNS), or nil: the monitor holds it until the
	// exit status is out.
	mountNS *os.File
}

// kill ends an init that will not be started.
func (p *pendingInit) kill() {
	if err := unix.Kill(p.pid, unix.SIGKILL); err != nil {
		log.Printf("kill init %d: %v", p.pid, err)
	}
	p.wait()
	p.stopNetwork()
	p.sock.Close()
	letGo(&p.mountNS)
	for _, s := range p.streams {
		s.r.Close()
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
}

// cloneInit clones the init with the namespaces and standard streams that
// c asks for, into the container's cgroup when it has one (forkInit), and
// records it and attaches its network (settle); it waits for begin.
func cloneInit(c Clone, cg *leaf) (*pendingInit, error) {
	p, err := forkInit(c, cg)
	if err != nil {
		return nil, err
	}
	if err := p.settle(c); err != nil {
		return nil, err
	}
	return p, nil
}

// forkInit clones the init as cloneInit does, without what needs the
// container's run directory: its record and its network.
func forkInit(c Clone, cg *leaf) (*pendingInit, error) {
	if err := cg.beforeClone(); err != nil {
		return nil, err
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("init socket: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "init-sync"), os.NewFile(uintptr(pair[1]), "init-sync")
	defer theirs.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		ours.Close()
		return nil, err
	}
	defer null.Close()
	p := &pendingInit{sock: ours}
	files := []*os.File{null, null, null, theirs}
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	fail := func(err error) (*pendingInit, error) {
		ours.Close()
		for _, s := range p.streams {
			s.r.Close()
		}
		if p.stdin != nil {
			p.stdin.Close()
		}
		return nil, err
	}
	if !c.Terminal && !c.Passthrough {
		outR, outW, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		p.streams = append(p.streams, stream{"stdout", attach.Stdout, outR})
		childEnds = append(childEnds, outW)
		errR, errW, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		p.streams = append(p.streams, stream{"stderr", attach.Stderr, errR})
		childEnds = append(childEnds, errW)
		files[1], files[2] = outW, errW
		if c.Stdin {
			inR, inW, err := os.Pipe()
			if err != nil {
				return fail(err)
			}
			files[0] = inR
			childEnds = append(childEnds, inR)
			p.stdin = inW
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = f.Fd()
	}
	// --preserve-fds: the init finds them at 4 on and moves them to 3.
	for i := 0; i < c.PreserveFDs; i++ {
		fds = append(fds, uintptr(firstPreservedFd+i))
	}
	// --log-driver passthrough: the command's streams, as the monitor
	// holds them after the preserved descriptors.
	if c.Passthrough {
		for i := 0; i < 3; i++ {
			fds[i] = uintptr(firstPreservedFd + c.PreserveFDs + i)
		}
	}
	// syscall.ForkExec rather than os.StartProcess, whose first use in a
	// process costs an extra clone to probe for pidfds: the monitor waits
	// for its init by pid, which no other process can take while it is
	// the init's parent. GOMAXPROCS=1: the init is one thread of work, and
	// every other thread the Go runtime would start must be torn down
	// again at its execve.
	pid, err := syscall.ForkExec(self, []string{"sandbox-init", "init"}, &syscall.ProcAttr{
		Dir:   "/",
		Env:   []string{"GOMAXPROCS=1"},
		Files: fds,
		Sys:   initAttr(c, cg.fd()),
	})
	if err != nil {
		return fail(fmt.Errorf("start init: %w", err))
	}
	p.pid, p.leaf = pid, cg
	p.join = c.JoinNetns
	return p, nil
}

// settle records the init in the container's run directory and attaches
// the network backend to its network namespace; on error it kills it.
func (p *pendingInit) settle(c Clone) error {
	pid := p.pid
	// Recorded at once, before anything else can fail or kill this
	// monitor: whoever removes the container finds the init by it, even
	// when no state names it yet (container.killRecordedInit).
	if c.runDir != "" {
		if err := os.WriteFile(filepath.Join(c.runDir, InitPidFile), []byte(fmt.Sprintf("%d %d\n", pid, startTime(pid))), 0o600); err != nil {
			p.kill()
			return fmt.Errorf("record the init's pid: %w", err)
		}
	}
	if err := p.startNetwork(c); err != nil {
		p.kill()
		return err
	}
	return nil
}

// begin gives the init the container's configuration; it goes on by
// itself while the monitor does the rest of its set-up. An init that
// took the command's go-ahead itself (beginAtGo) has begun already.
func (p *pendingInit) begin(configPath string) error {
	if p.begun {
		return nil
	}
	if err := p.sendBegin(nsinit.Begin{Config: configPath, JoinNetns: p.join, HoldExec: p.leaf.holdsExec()}, -1); err != nil {
		p.kill()
		return err
	}
	return nil
}

// beginAtGo hands the init the go-ahead pipe goFd (nsinit.Begin.GoPipe):
// the init starts as soon as the command writes the go-ahead, and
// forwards it (goAhead). On error the init is left to the caller to kill.
func (p *pendingInit) beginAtGo(goFd int) error {
	if err := p.sendBegin(nsinit.Begin{GoPipe: true, JoinNetns: p.join, HoldExec: p.leaf.holdsExec()}, goFd); err != nil {
		return err
	}
	p.begun = true
	return nil
}

// sendBegin sends b, with fd attached when fd >= 0.
func (p *pendingInit) sendBegin(b nsinit.Begin, fd int) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	if err := unix.Sendmsg(int(p.sock.Fd()), data, oob, nil, 0); err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	return nil
}

// goAhead waits for the go-ahead the init forwards (beginAtGo). An init
// that ends without it was abandoned: it found the pipe's end.
func (p *pendingInit) goAhead() (Go, error) {
	var g Go
	buf := make([]byte, 64<<10)
	for {
		n, _, _, _, err := unix.Recvmsg(int(p.sock.Fd()), buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return g, fmt.Errorf("read from init: %w", err)
		}
		var msg nsinit.Message
		if n > 0 {
			if err := json.Unmarshal(buf[:n], &msg); err != nil {
				return g, fmt.Errorf("message from init: %w", err)
			}
		}
		if msg.GoAhead == nil {
			if msg.Error != "" {
				return g, fmt.Errorf("%w (the init: %s)", ErrAbandoned, msg.Error)
			}
			return g, ErrAbandoned
		}
		if err := json.Unmarshal(msg.GoAhead, &g); err != nil {
			return g, fmt.Errorf("go-ahead: %w", err)
		}
		return g, nil
	}
}

// started waits until the container's command runs (the init's socket
// closes on execve) and returns the container's output streams.
func (p *pendingInit) started() ([]stream, error) {
	defer p.sock.Close()
	streams := p.streams
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(p.sock.Fd()), buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			p.kill()
			return nil, fmt.Errorf("read from init: %w", err)
		}
		if n == 0 {
			return streams, nil
		}
		var msg nsinit.Message
		if err := json.Unmarshal(buf[:n], &msg); err != nil {
			p.kill()
			return nil, fmt.Errorf("message from init: %w", err)
		}
		if msg.Exec {
			if err := p.leaf.atExec(p.sock); err != nil {
				p.kill()
				return nil, err
			}
			continue
		}
		if msg.Error != "" {
			p.wait()
			letGo(&p.mountNS)
			return nil, spec.NewExitError(msg.Code, errors.New(msg.Error))
		}
		if msg.MountNS {
			fds, err := attach.ReceivedFds(oob[:oobn])
			if err == nil && len(fds) != 1 {
				closeAll(fds)
				err = fmt.Errorf("%d descriptors came with the mount namespace, want 1", len(fds))
			}
			if err != nil {
				// Only the teardown's timing depends on it.
				log.Printf("mount namespace from init: %v", err)
				continue
			}
			letGo(&p.mountNS)
			p.mountNS = os.NewFile(uintptr(fds[0]), "mnt-ns")
			continue
		}
		if msg.Pty {
			fds, err := attach.ReceivedFds(oob[:oobn])
			if err == nil && len(fds) != 1 {
				err = fmt.Errorf("%d descriptors came with the terminal, want 1", len(fds))
			}
			if err != nil {
				p.kill()
				return nil, fmt.Errorf("terminal from init: %w", err)
			}
			master := os.NewFile(uintptr(fds[0]), "pty")
			p.stdin = master
			streams = []stream{{"stdout", attach.Stdout, master}}
		}
	}
}

// letGo closes the namespace descriptor *ns, if any, and forgets it: the
// kernel tears the namespace down, in this process's time, when it was the
// last to hold it.
func letGo(ns **os.File) {
	if *ns != nil {
		(*ns).Close()
		*ns = nil
	}
}

// closeAll closes descriptors that came unasked.
func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// wait reaps the init and returns its status. It waits for the init's
// exit on a pidfd through Go's poller, which leaves the monitor's one
// processor (GOMAXPROCS=1) to the goroutines that copy the container's
// output: blocked in wait4, the goroutine held it, and those goroutines
// first ran once a short container had already exited, on the way to
// its status. Without a pollable pidfd (Linux before 5.10), wait4 blocks.
func (p *pendingInit) wait() (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	reap := func(options int) (bool, error) {
		for {
			pid, err := unix.Wait4(p.pid, &ws, options, nil)
			if err != unix.EINTR {
				return pid != 0 || err != nil, err
			}
		}
	}
	if fd, err := unix.PidfdOpen(p.pid, unix.PIDFD_NONBLOCK); err == nil {
		f := os.NewFile(uintptr(fd), "pidfd")
		defer f.Close()
		if rc, err := f.SyscallConn(); err == nil {
			var werr error
			if err := rc.Read(func(uintptr) bool {
				var done bool
				done, werr = reap(unix.WNOHANG)
				return done
			}); err == nil {
				return ws, werr
			}
		}
	}
	_, err := reap(0)
	return ws, err
}

// initAttr are the init's clone flags. No new mount namespace: the init
// makes its own once the root filesystem is mounted (see nsinit).
func initAttr(c Clone, cgroupFD int) *syscall.SysProcAttr {
	flags := uintptr(unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP)
	if c.Network.Own() {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.SysProcAttr{Cloneflags: flags}
	if cgroupFD >= 0 {
		attr.UseCgroupFD, attr.CgroupFD = true, cgroupFD
	}
	if c.UserNS != nil {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.GidMappingsEnableSetgroups = true
		// The clone keeps this process's ids, which the new maps show as
		// the user's; become 0 there so that the init keeps its
		// capabilities across execve.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		for _, e := range c.UserNS.UIDMap {
			attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
		}
		for _, e := range c.UserNS.GIDMap {
			attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
		}
	}
	return attr
}
