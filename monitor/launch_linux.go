package monitor

// The launcher: the end of the monitor's protocol that the sandbox command
// holds. It starts the monitor with its descriptors (drawn in
// monitor_linux.go), gives it the go-ahead and reads its report.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"sandbox/attach"
	"sandbox/internal/atomicfile"

	"golang.org/x/sys/unix"
)

// LaunchOptions say how to launch a container's monitor.
type LaunchOptions struct {
	// Binary is the sandbox-monitor executable; Env its environment.
	Binary string
	Env    []string
	// RunDir is the container's run directory; Clone what the init is
	// cloned with.
	RunDir string
	Clone  Clone
	// Attach: connect an attach stream before the container's command
	// starts (Launched.Conn), so that no output is missed.
	Attach bool
	// Events is the events journal the monitor records the container's
	// start and exit in; "" records nothing.
	Events string
}

// Launched is a monitor that has cloned the init and waits for its
// go-ahead (Begin) or for Abandon.
type Launched struct {
	Pid int
	// Conn is the attach stream, or nil.
	Conn   *os.File
	runDir string
	sync   *os.File // read end: the monitor's report
	goPipe *os.File // write end: the go-ahead
}

// Launch starts a container's monitor, which clones the init at once.
func Launch(o LaunchOptions) (_ *Launched, retErr error) {
	var closeOnErr []*os.File
	defer func() {
		if retErr != nil {
			for _, f := range closeOnErr {
				f.Close()
			}
		}
	}()
	opts, err := json.Marshal(&Options{RunDir: o.RunDir, Attach: o.Attach, Clone: o.Clone, Events: o.Events})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(o.RunDir, OptionsFile), opts, 0o600); err != nil {
		return nil, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("monitor pipe: %w", err)
	}
	defer syncW.Close()
	goR, goW, err := os.Pipe()
	if err != nil {
		syncR.Close()
		return nil, fmt.Errorf("monitor pipe: %w", err)
	}
	defer goR.Close()
	closeOnErr = append(closeOnErr, syncR, goW)
	l := &Launched{runDir: o.RunDir, sync: syncR, goPipe: goW}
	// fd 0 /dev/null, 1 and 2 the monitor's log, 3 sync, 4 attach (or
	// /dev/null), 5 go-ahead.
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	fd4 := null
	if o.Attach {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("attach socket: %w", err)
		}
		l.Conn = attach.Pollable(pair[0], "attach")
		closeOnErr = append(closeOnErr, l.Conn)
		theirs := os.NewFile(uintptr(pair[1]), "attach")
		defer theirs.Close()
		fd4 = theirs
	}
	monLog, err := os.OpenFile(filepath.Join(o.RunDir, "monitor.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("monitor log: %w", err)
	}
	defer monLog.Close()
	// syscall.ForkExec rather than os/exec: the launcher never waits for
	// the monitor, and os/exec's first start probes for pidfd support with
	// an extra clone, on the path of every container start. GOMAXPROCS=1
	// from the first instruction: the monitor mostly waits, and each
	// processor the Go runtime keeps costs every idle monitor its own
	// allocation caches (about 200 KiB).
	// --preserve-fds: this process's 3..2+N follow, at 6 on.
	files := []uintptr{null.Fd(), monLog.Fd(), monLog.Fd(), syncW.Fd(), fd4.Fd(), goR.Fd()}
	for i := 0; i < o.Clone.PreserveFDs; i++ {
		files = append(files, uintptr(3+i))
	}
	if o.Clone.Passthrough {
		files = append(files, 0, 1, 2)
	}
	pid, err := syscall.ForkExec(o.Binary, []string{"sandbox-monitor", "monitor", o.RunDir}, &syscall.ProcAttr{
		Dir:   "/",
		Env:   append(o.Env, "GOMAXPROCS=1"),
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return nil, fmt.Errorf("start monitor %s: %w", o.Binary, err)
	}
	l.Pid = pid
	return l, nil
}

// Abandon tells the monitor that there will be no container, and waits
// while it ends its init and exits: what it leaves in the run directory
// may then be removed.
func (l *Launched) Abandon() {
	l.goPipe.Close()
	l.sync.Close()
	if l.Conn != nil {
		l.Conn.Close()
	}
	for {
		_, err := syscall.Wait4(l.Pid, nil, 0, nil)
		if err != syscall.EINTR {
			return
		}
	}
}

// Begin gives the monitor its go-ahead and returns its report: the
// container's first process, or (Error set) why the container could not
// start and the status to report. The attach stream is closed when there
// is no container to attach to.
func (l *Launched) Begin(g Go) (*SyncMessage, error) {
	defer l.sync.Close()
	goAhead, err := json.Marshal(&g)
	if err != nil {
		l.Abandon()
		return nil, err
	}
	_, werr := l.goPipe.Write(append(goAhead, '\n'))
	l.goPipe.Close()
	// A write error means the monitor is gone: its report, or its log,
	// says why.
	line, err := bufio.NewReader(l.sync).ReadBytes('\n')
	if err != nil {
		if l.Conn != nil {
			l.Conn.Close()
		}
		if errors.Is(err, io.EOF) {
			out, rerr := os.ReadFile(filepath.Join(l.runDir, "monitor.log"))
			if rerr != nil {
				out = []byte(rerr.Error())
			}
			return nil, fmt.Errorf("monitor (pid %d) exited before the container started: %s%s", l.Pid, strings.TrimSpace(string(out)), errSuffix(werr))
		}
		return nil, fmt.Errorf("read from monitor: %w", err)
	}
	var msg SyncMessage
	if err := json.Unmarshal(line, &msg); err != nil {
		return nil, fmt.Errorf("message from monitor %q: %w", line, err)
	}
	if msg.Error != "" && l.Conn != nil {
		l.Conn.Close()
	}
	return &msg, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
