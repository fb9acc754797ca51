package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"

	"sandbox/container/attach"
	"sandbox/container/nsinit"
	"sandbox/container/spec"

	"golang.org/x/sys/unix"
)

type stream struct {
	name  string
	frame byte
	r     *os.File
}

// startError is a container that could not start, with its exit status.
type startError struct {
	code int
	err  error
}

func (e *startError) Error() string { return e.err.Error() }

// startInit starts the init in the container's namespaces and waits until
// the container's command runs.
func (m *monitor) startInit() (*os.Process, []stream, error) {
	p := &m.cfg.Spec.Process
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("init socket: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "init-sync"), os.NewFile(uintptr(pair[1]), "init-sync")
	defer ours.Close()
	defer theirs.Close()

	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer null.Close()
	files := []*os.File{null, null, null, theirs}
	var streams []stream
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	if !p.Terminal {
		outR, outW, err := os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		files[1], files[2] = outW, errW
		childEnds = append(childEnds, outW, errW)
		streams = []stream{{"stdout", attach.Stdout, outR}, {"stderr", attach.Stderr, errR}}
		if p.Stdin {
			inR, inW, err := os.Pipe()
			if err != nil {
				return nil, nil, err
			}
			files[0] = inR
			childEnds = append(childEnds, inR)
			m.stdin = inW
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	proc, err := os.StartProcess(self, []string{"sandbox-init", "init", m.opts.ConfigPath}, &os.ProcAttr{
		Dir:   "/",
		Env:   []string{},
		Files: files,
		Sys:   initAttr(&m.cfg.Spec),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start init: %w", err)
	}
	theirs.Close()
	for _, f := range childEnds {
		f.Close()
	}
	childEnds = nil

	// Read the init's messages until its socket closes on execve.
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(ours.Fd()), buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			proc.Kill()
			proc.Wait()
			return nil, nil, fmt.Errorf("read from init: %w", err)
		}
		if n == 0 {
			break
		}
		var msg nsinit.Message
		if err := json.Unmarshal(buf[:n], &msg); err != nil {
			proc.Kill()
			proc.Wait()
			return nil, nil, fmt.Errorf("message from init: %w", err)
		}
		if msg.Error != "" {
			proc.Wait()
			return nil, nil, &startError{code: msg.Code, err: errors.New(msg.Error)}
		}
		if msg.Pty {
			fd, err := receivedFd(oob[:oobn])
			if err != nil {
				proc.Kill()
				proc.Wait()
				return nil, nil, err
			}
			master := os.NewFile(uintptr(fd), "pty")
			m.stdin = master
			streams = []stream{{"stdout", attach.Stdout, master}}
		}
	}
	return proc, streams, nil
}

func initAttr(s *spec.Spec) *syscall.SysProcAttr {
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP)
	if s.Network != spec.NetworkHost {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.SysProcAttr{Cloneflags: flags}
	if s.UserNS != nil {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.GidMappingsEnableSetgroups = true
		// The clone keeps this process's ids, which the new maps show as
		// the user's; become 0 there so that the init keeps its
		// capabilities across execve.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		for _, e := range s.UserNS.UIDMap {
			attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
		}
		for _, e := range s.UserNS.GIDMap {
			attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
		}
	}
	return attr
}

func receivedFd(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("terminal from init: bad control message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("terminal from init: %v", err)
	}
	unix.CloseOnExec(fds[0])
	return fds[0], nil
}
