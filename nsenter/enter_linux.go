package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"strconv"
	"syscall"
	"time"

	"sandbox/attach"
	"sandbox/internal/faultinject"

	"golang.org/x/sys/unix"
)

// nsenterName is the helper that enters a container (cmd/sandbox-nsenter).
const nsenterName = "sandbox-nsenter"

// drainDelay is how long Run copies output after the process in the
// container has ended: a process it left running in the background may
// hold the streams open for ever, and exec returns with its command.
const drainDelay = 200 * time.Millisecond

// Run starts the process of req in the namespaces of the container whose
// first process is req.Target, and relays for it: streams, terminal,
// signals. It returns the process's exit status (128+N for signal N), or
// 0 at once when req.Detach and the process runs.
//
// The process is sandbox-nsenter, executed from a sealed memfd copy
// (sealedCopy), with an empty environment, and with pipes of this command
// for its streams: none of the caller's descriptors, variables or host
// files is reachable from the container while it starts.
func Run(req *Request) (int, error) {
	helper := req.Helper
	if helper == nil {
		helper = PrepareHelper()
	}
	defer helper.Close()
	procs, err := openCgroup(req)
	if err != nil {
		return 125, err
	}
	if procs != nil {
		defer procs.Close()
	}
	data, err := req.Encode()
	if err != nil {
		return 125, err
	}
	bin, err := helper.wait()
	if err != nil {
		return 125, err
	}
	defer bin.Close()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 125, fmt.Errorf("exec socket: %w", err)
	}
	sock := os.NewFile(uintptr(pair[0]), "exec-sync")
	theirs := os.NewFile(uintptr(pair[1]), "exec-sync")
	defer sock.Close()
	// The request waits in the socket for the helper, which reads it as
	// soon as it runs, rather than for this process to come back from the
	// start: as much of it as the socket takes without blocking (all of
	// it, as a rule), the rest after the start.
	rest, err := writeAhead(pair[0], data)
	if err != nil {
		theirs.Close()
		return 125, fmt.Errorf("exec: send the request: %w", err)
	}
	cmd := &osexec.Cmd{
		Path:       "/proc/self/fd/" + strconv.Itoa(int(bin.Fd())),
		Args:       []string{nsenterName},
		Env:        []string{},
		ExtraFiles: []*os.File{theirs},
		// A process group of its own: keys typed at this terminal signal
		// this command, which forwards them once.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
		WaitDelay:   drainDelay,
	}
	if !req.Detach {
		// Pipes, never the caller's own descriptors: os/exec copies
		// between them and these streams.
		in, out, errw := io.Reader(os.Stdin), io.Writer(os.Stdout), io.Writer(os.Stderr)
		if st := req.Streams; st != nil {
			in, out, errw = st.In, st.Out, st.Err
		}
		cmd.Stderr = struct{ io.Writer }{errw}
		if !req.Process.Terminal {
			cmd.Stdout = struct{ io.Writer }{out}
			if req.Process.Stdin && in != nil {
				cmd.Stdin = struct{ io.Reader }{in}
			}
		}
	}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		return 125, fmt.Errorf("start exec: %w", err)
	}
	if len(rest) > 0 {
		if _, err := sock.Write(rest); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 125, fmt.Errorf("exec: send the request: %w", err)
		}
	}
	faultinject.Step(faultinject.ExecStarted)
	// Signals go to the intermediate, which passes them to the process;
	// a server's own signals are its own.
	if req.Streams == nil {
		stop := attach.ForwardSignals(func(sig unix.Signal) error {
			if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
				return err
			}
			return nil
		}, nil)
		defer stop()
	}

	master, err := converse(req, procs, sock)
	if err != nil {
		if master != nil {
			master.Close()
		}
		var fe *failure
		if errors.As(err, &fe) {
			cmd.Wait()
			return fe.code, errors.New(fe.msg)
		}
		cmd.Process.Kill()
		cmd.Wait()
		return 125, err
	}
	if req.Detach {
		cmd.Wait()
		return 0, nil
	}
	if master != nil && req.Streams != nil {
		relayStreams(master, req.Streams)
	} else if master != nil {
		if detached := relay(master, req.DetachKeys); detached {
			return 0, nil
		}
	}
	err = cmd.Wait()
	if err == nil || errors.Is(err, osexec.ErrWaitDelay) {
		return cmd.ProcessState.ExitCode(), nil
	}
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 125, fmt.Errorf("wait for exec: %w", err)
}

// writeAhead writes to the socket fd what of data it takes without
// blocking, and returns the rest; the socket blocks again after.
func writeAhead(fd int, data []byte) (rest []byte, err error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return data, err
	}
	defer func() {
		if berr := unix.SetNonblock(fd, false); berr != nil && err == nil {
			err = berr
		}
	}()
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return data, nil
		case err != nil:
			return data, err
		}
		data = data[n:]
	}
	return nil, nil
}

// failure is sandbox-nsenter's report that the process cannot start.
type failure struct {
	code int
	msg  string
}

func (f *failure) Error() string { return f.msg }

// converse reads sandbox-nsenter's messages until the process execs (end
// of file), moving it into the cgroup when it asks; it returns the
// terminal's master end when one came.
func converse(req *Request, procs, sock *os.File) (*os.File, error) {
	var (
		buf    []byte
		fds    []int
		master *os.File
		pid    int
		held   bool // the process waits for its move, and pid is not known yet
	)
	chunk := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	release := func() error {
		if err := joinCgroup(req, procs, pid); err != nil {
			return err
		}
		if _, err := sock.Write([]byte{1}); err != nil {
			return fmt.Errorf("exec: start the process: %w", err)
		}
		return nil
	}
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), chunk, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return master, fmt.Errorf("exec: read from the process: %w", err)
		}
		if oobn > 0 {
			got, err := attach.ReceivedFds(oob[:oobn])
			if err != nil {
				return master, fmt.Errorf("exec: from the container: %w", err)
			}
			fds = append(fds, got...)
		}
		if n == 0 {
			break // closed on execve (or the process died before)
		}
		buf = append(buf, chunk[:n]...)
		for len(buf) >= 5 {
			size := int(binary.NativeEndian.Uint32(buf[1:5]))
			if size > 64<<10 {
				return master, fmt.Errorf("exec: a message of %d bytes from the process", size)
			}
			if len(buf) < 5+size {
				break
			}
			kind, body := buf[0], buf[5:5+size]
			buf = buf[5+size:]
			switch kind {
			case 'C':
				if size != 4 {
					return master, errors.New("exec: a bad pid message from the process")
				}
				pid = int(binary.NativeEndian.Uint32(body))
				if held {
					held = false
					if err := release(); err != nil {
						return master, err
					}
				}
			case 'X':
				if pid == 0 {
					held = true
					continue
				}
				if err := release(); err != nil {
					return master, err
				}
			case 'P':
				if len(fds) == 0 {
					return master, errors.New("terminal from the container: no descriptor came")
				}
				master = os.NewFile(uintptr(fds[0]), "pty")
				fds = fds[1:]
			case 'E':
				if size < 1 {
					return master, errors.New("exec: an empty error from the process")
				}
				return master, &failure{code: int(body[0]), msg: string(body[1:])}
			default:
				return master, fmt.Errorf("exec: unknown message %q from the process", kind)
			}
		}
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return master, nil
}

// sealedCopy is an executable memfd holding the file at path, sealed
// against every change: what a process in a container reaches through
// /proc/PID/exe is this copy, which no one can write, never the user's
// own file (the CVE-2019-5736 class).
func sealedCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("exec: open %s: %w", path, err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", path, err)
	}
	fd, err := unix.MemfdCreate(nsenterName, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("exec: memfd for %s: %w", path, err)
	}
	// Above the descriptors os/exec arranges in the child (0-3), so that
	// /proc/self/fd/N still names the copy when the child executes it.
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 10)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("exec: memfd for %s: %w", path, err)
	}
	bin := os.NewFile(uintptr(high), nsenterName)
	for left := st.Size(); left > 0; {
		n, err := unix.Sendfile(high, int(src.Fd()), nil, int(left))
		if err != nil && err != unix.EINTR && err != unix.EAGAIN {
			bin.Close()
			return nil, fmt.Errorf("exec: copy %s: %w", path, err)
		}
		if n == 0 && err == nil {
			bin.Close()
			return nil, fmt.Errorf("exec: copy %s: it shrank while read", path)
		}
		left -= int64(n)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(high), unix.F_ADD_SEALS, seals); err != nil {
		bin.Close()
		return nil, fmt.Errorf("exec: seal the copy of %s: %w", path, err)
	}
	return bin, nil
}

// relay copies between this process's terminal and the container's until
// the container's side closes; it reports true when the detach keys ended
// it first.
func relay(master *os.File, detachKeys []byte) bool {
	defer master.Close()
	if restore, err := attach.RawTerminal(os.Stdin); err == nil {
		defer restore()
	}
	resize := func() {
		if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
		}
	}
	stop := attach.ForwardSignals(nil, resize)
	defer stop()
	detached := make(chan struct{})
	go func() {
		d, err := attach.CopyInput(os.Stdin, detachKeys, func(b []byte) error {
			_, err := master.Write(b)
			return err
		})
		if d {
			close(detached)
			return
		}
		// End of input, or input that cannot be read or written: the
		// terminal's end-of-file character, as a user would type it.
		if err != nil {
			fmt.Fprintf(os.Stderr, "exec: input: %v\n", err)
		}
		master.Write([]byte{4})
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

// relayStreams copies between streams and the container's terminal until
// the container's side closes, applying the sizes that come on
// st.Resize. The end of st.In is the terminal's end-of-file character.
func relayStreams(master *os.File, st *Streams) {
	defer master.Close()
	done := make(chan struct{})
	if st.In != nil {
		go func() {
			io.Copy(master, st.In)
			master.Write([]byte{4})
		}()
	}
	go func() {
		for {
			select {
			case <-done:
				return
			case ws, ok := <-st.Resize:
				if !ok {
					return
				}
				unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: ws[0], Col: ws[1]})
			}
		}
	}()
	io.Copy(st.Out, master) // ends with EIO once the container's side is closed
	close(done)
}
