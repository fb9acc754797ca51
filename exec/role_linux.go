package exec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"sandbox/container/attach"
	"sandbox/container/nsinit"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Role is what the hook made of this process.
type Role int

const (
	// NoRole: an ordinary sandbox command.
	NoRole Role = iota
	// Child: inside a container's namespaces, about to become the process
	// that sandbox exec asked for.
	Child
)

// CurrentRole reports the role the hook gave this process.
func CurrentRole() Role { return Role(execRole()) }

// Main runs the role the hook gave this process and returns the exit
// status for the process to end with. Call it first thing in main when
// CurrentRole is not NoRole.
func Main() int {
	req, err := request()
	if err == nil {
		err = hookFailure()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 125
	}
	return childMain(req)
}

// syncFd is the child's socket to the relaying command.
const syncFd = 3

// childMain becomes the requested process, or reports to the parent why
// it cannot and returns the status to end with.
func childMain(req *Request) int {
	// Capabilities are a thread's own: the thread that drops them (SetUser)
	// must be the one that calls execve.
	runtime.LockOSThread()
	sock := syncFd
	unix.CloseOnExec(sock)
	err := child(req, sock)
	code := nsinit.Code(err)
	nsinit.Send(sock, nsinit.Message{Error: err.Error(), Code: code}, -1)
	return code
}

func child(req *Request, sock int) error {
	p := &req.Process
	// A session of its own, as the container's other processes have:
	// signals typed at the caller's terminal go through the parent.
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	switch {
	case p.Terminal && !req.Detach:
		if err := nsinit.OpenTerminal(p, sock); err != nil {
			return err
		}
	case req.Detach:
		// Nothing of the caller's stays with a detached process.
		if err := nullStreams(0, 1, 2); err != nil {
			return err
		}
	case !p.Stdin:
		if err := nullStreams(0); err != nil {
			return err
		}
	}
	if err := unix.Chdir(p.Cwd); err != nil {
		return fmt.Errorf("change to working directory %s: %w", p.Cwd, err)
	}
	if err := nsinit.SetUser(p); err != nil {
		return err
	}
	nsinit.CloseExtraFds()
	if req.HoldExec {
		return nsinit.HoldExec(sock, p)
	}
	return nsinit.ExecProcess(p)
}

// nullStreams points the given standard streams at /dev/null.
func nullStreams(fds ...int) error {
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/null: %w", err)
	}
	defer unix.Close(null)
	for _, fd := range fds {
		if err := unix.Dup3(null, fd, 0); err != nil {
			return fmt.Errorf("standard streams: %w", err)
		}
	}
	return nil
}

// Run starts the process of req in the namespaces of the container whose
// first process is pid (started at start), and relays for it: terminal,
// input, signals. It returns the process's exit status (128+N for signal
// N), or at once with 0 when req.Detach and the process runs.
func Run(pid int, start uint64, req *Request) (int, error) {
	procs, err := openCgroup(req)
	if err != nil {
		return 125, err
	}
	if procs != nil {
		defer procs.Close()
	}
	data, err := json.Marshal(req)
	if err != nil {
		return 125, err
	}
	self, err := os.Executable()
	if err != nil {
		return 125, fmt.Errorf("find own executable: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 125, fmt.Errorf("exec socket: %w", err)
	}
	sock := os.NewFile(uintptr(pair[0]), "exec-sync")
	theirs := os.NewFile(uintptr(pair[1]), "exec-sync")
	defer sock.Close()
	if procs != nil {
		// The process's pid comes with its messages (cgroup_linux.go).
		if err := unix.SetsockoptInt(pair[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
			theirs.Close()
			return 125, fmt.Errorf("exec socket: %w", err)
		}
	}
	detach := 0
	if req.Detach {
		detach = 1
	}
	cmd := &osexec.Cmd{
		Path:       self,
		Args:       []string{"sandbox-exec"},
		Env:        append(os.Environ(), fmt.Sprintf("%s=%d %d %d", nsenterEnv, pid, start, detach), requestEnv+"="+string(data)),
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{theirs},
		// A process group of its own: keys typed at this terminal signal
		// this command, which forwards them once.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		return 125, fmt.Errorf("start exec: %w", err)
	}
	stop := forwardSignals(cmd.Process)
	defer stop()

	var master *os.File
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4)+unix.CmsgSpace(unix.SizeofUcred))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			break // closed on execve (or the process died before)
		}
		var msg nsinit.Message
		if err := json.Unmarshal(buf[:n], &msg); err != nil {
			return 125, fmt.Errorf("message from the process in the container: %w", err)
		}
		if msg.Error != "" {
			cmd.Wait()
			return msg.Code, errors.New(msg.Error)
		}
		if msg.Exec {
			if err := joinCgroup(req, procs, sock, oob[:oobn]); err != nil {
				return 125, err // the process sees the socket close, and exits
			}
			continue
		}
		if msg.Pty {
			fd, err := receivedFd(oob[:oobn])
			if err != nil {
				return 125, err
			}
			master = os.NewFile(uintptr(fd), "pty")
		}
	}
	if req.Detach {
		cmd.Wait()
		return 0, nil
	}
	if master != nil {
		if detached := relay(master, req.DetachKeys); detached {
			return 0, nil
		}
	}
	err = cmd.Wait()
	var ee *osexec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return 125, fmt.Errorf("wait for exec: %w", err)
}

func receivedFd(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return -1, fmt.Errorf("terminal from the container: bad control message: %v", err)
	}
	for i := range msgs {
		// Credentials may come along (SO_PASSCRED): the descriptor is the
		// SCM_RIGHTS message.
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil || len(fds) != 1 {
			return -1, fmt.Errorf("terminal from the container: %v", err)
		}
		unix.CloseOnExec(fds[0])
		return fds[0], nil
	}
	return -1, errors.New("terminal from the container: no descriptor came")
}

// forwardSignals passes the signals this process receives to p (the
// intermediate, which passes them to the process in the container).
func forwardSignals(p *os.Process) func() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	go func() {
		for s := range ch {
			if err := p.Signal(s); err != nil && !errors.Is(err, os.ErrProcessDone) {
				fmt.Fprintf(os.Stderr, "forward %v: %v\n", s, err)
			}
		}
	}()
	return func() { signal.Stop(ch); close(ch) }
}

// relay copies between this process's terminal and the container's until
// the container's side closes; it reports true when the detach keys ended
// it first.
func relay(master *os.File, detachKeys []byte) bool {
	defer master.Close()
	in := int(os.Stdin.Fd())
	if term.IsTerminal(in) {
		if old, err := term.MakeRaw(in); err == nil {
			defer term.Restore(in, old)
		}
		resize := func() {
			if ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ); err == nil {
				unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
			}
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				resize()
			}
		}()
	}
	detached := make(chan struct{})
	var once sync.Once
	go func() {
		keys := attach.DetachScanner{Keys: detachKeys}
		b := make([]byte, 32<<10)
		for {
			n, err := os.Stdin.Read(b)
			if n > 0 {
				out, detach := keys.Scan(b[:n])
				if len(out) > 0 {
					if _, werr := master.Write(out); werr != nil {
						return
					}
				}
				if detach {
					once.Do(func() { close(detached) })
					return
				}
			}
			if err != nil {
				// End of input: the terminal's end-of-file character.
				master.Write([]byte{4})
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		io.Copy(os.Stdout, master) // ends with EIO once the container's side is closed
		close(done)
	}()
	select {
	case <-done:
		return false
	case <-detached:
		return true
	}
}
