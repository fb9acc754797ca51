package monitor

// The launcher: the end of the monitor's protocol that the sandbox command
// holds. It starts the monitor with its descriptors (drawn in
// monitor_linux.go), gives it its options, then the go-ahead, and reads
// its report.

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
	"sandbox/nsinit"

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

// SpawnOptions say how to start a container's monitor before its options
// are known (Spawn): what its descriptors are from its first instruction.
type SpawnOptions struct {
	// Binary is the sandbox-monitor executable; Env its environment.
	Binary string
	Env    []string
	// RunDir is the container's run directory, which need not exist
	// yet: the monitor's command line names it (how its monitors are
	// found when a container's state is lost), and the monitor uses it
	// once it has its options.
	RunDir string
	// Attach: an attach stream is connected (Launched.Conn).
	Attach bool
	// PreserveFDs and Passthrough are Clone's, which the monitor gets
	// at its start.
	PreserveFDs int
	Passthrough bool
}

// Launched is a monitor that waits for its options (Configure), then has
// cloned the init and waits for its go-ahead (Begin), or for Abandon.
type Launched struct {
	Pid int
	// Conn is the attach stream, or nil.
	Conn    *os.File
	spawned SpawnOptions
	sync    *os.File // read end: the monitor's report
	goPipe  *os.File // write end: the go-ahead
	opts    *os.File // write end: the options, until Configure
}

// Launch starts a container's monitor and gives it its options: it clones
// the init at once.
func Launch(o LaunchOptions) (*Launched, error) {
	l, err := Spawn(SpawnOptions{Binary: o.Binary, Env: o.Env, RunDir: o.RunDir, Attach: o.Attach, PreserveFDs: o.Clone.PreserveFDs, Passthrough: o.Clone.Passthrough})
	if err != nil {
		return nil, err
	}
	if err := l.Configure(Options{RunDir: o.RunDir, Attach: o.Attach, Clone: o.Clone, Events: o.Events}); err != nil {
		l.Abandon()
		return nil, err
	}
	return l, nil
}

// Spawn starts a container's monitor, which waits for its options
// (Configure): its process starts while the command still checks its
// flags and claims the container.
func Spawn(o SpawnOptions) (_ *Launched, retErr error) {
	var closeOnErr []*os.File
	defer func() {
		if retErr != nil {
			for _, f := range closeOnErr {
				f.Close()
			}
		}
	}()
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
	optsR, optsW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("monitor pipe: %w", err)
	}
	defer optsR.Close()
	closeOnErr = append(closeOnErr, optsW)
	l := &Launched{spawned: o, sync: syncR, goPipe: goW, opts: optsW}
	// fd 0, 1 and 2 /dev/null (the monitor opens its log once it has its
	// options), 3 sync, 4 attach (or /dev/null), 5 go-ahead, 6 options.
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
	// syscall.ForkExec rather than os/exec: the launcher never waits for
	// the monitor, and os/exec's first start probes for pidfd support with
	// an extra clone, on the path of every container start. GOMAXPROCS=1
	// from the first instruction: the monitor mostly waits, and each
	// processor the Go runtime keeps costs every idle monitor its own
	// allocation caches (about 200 KiB).
	// --preserve-fds: this process's 3..2+N follow, at 7 on.
	files := []uintptr{null.Fd(), null.Fd(), null.Fd(), syncW.Fd(), fd4.Fd(), goR.Fd(), optsR.Fd()}
	for i := 0; i < o.PreserveFDs; i++ {
		files = append(files, uintptr(3+i))
	}
	if o.Passthrough {
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

// Adopted is a monitor that another part of the process started as Spawn
// would (prerun's early monitor): its process, what it was started with,
// and this process's ends of its pipes and attach socket.
type Adopted struct {
	Pid    int
	Binary string
	RunDir string
	// Attach: the attach socket is used (Launched.Conn); otherwise it is
	// closed here, and the monitor, told Options.Attach false, closes its
	// end.
	Attach bool
	// Sync is the read end of the sync pipe, Go and Options the write
	// ends of the go and options pipes, AttachFd this end of the attach
	// socket.
	Sync, Go, Options, AttachFd int
}

// Adopt takes a started monitor as Spawn would have returned it: one
// without preserved descriptors or passthrough streams, whose options
// are to come (Configure).
func Adopt(a Adopted) *Launched {
	l := &Launched{
		Pid:     a.Pid,
		spawned: SpawnOptions{Binary: a.Binary, RunDir: a.RunDir, Attach: a.Attach},
		sync:    os.NewFile(uintptr(a.Sync), "monitor-sync"),
		goPipe:  os.NewFile(uintptr(a.Go), "monitor-go"),
		opts:    os.NewFile(uintptr(a.Options), "monitor-options"),
	}
	if a.Attach {
		l.Conn = attach.Pollable(a.AttachFd, "attach")
	} else {
		unix.Close(a.AttachFd)
	}
	return l
}

// Configure gives a spawned monitor its options, which must agree with
// what it was spawned with; it then clones the init. After an error the
// monitor is to be abandoned.
func (l *Launched) Configure(o Options) error {
	s := l.spawned
	if l.opts == nil {
		return errors.New("monitor configured twice")
	}
	if !l.Matches(o) {
		return fmt.Errorf("monitor options for %s (attach %t, %d preserved descriptors, passthrough %t) do not match its start (%s, %t, %d, %t)",
			o.RunDir, o.Attach, o.Clone.PreserveFDs, o.Clone.Passthrough, s.RunDir, s.Attach, s.PreserveFDs, s.Passthrough)
	}
	data, err := json.Marshal(&o)
	if err != nil {
		return err
	}
	_, err = l.opts.Write(data)
	if cerr := l.opts.Close(); err == nil {
		err = cerr
	}
	l.opts = nil
	if err != nil {
		// Gone before it read them: its log, if any, says why.
		return fmt.Errorf("give monitor (pid %d) its options: %w", l.Pid, err)
	}
	return nil
}

// Matches reports whether the monitor was spawned for o: the caller
// spawned it before o was known, and spawns another when it was not.
func (l *Launched) Matches(o Options) bool {
	s := l.spawned
	return o.RunDir == s.RunDir && o.Attach == s.Attach && o.Clone.PreserveFDs == s.PreserveFDs && o.Clone.Passthrough == s.Passthrough
}

// Abandon tells the monitor that there will be no container, and waits
// while it ends its init and exits: what it leaves in the run directory
// may then be removed.
func (l *Launched) Abandon() {
	if l.opts != nil {
		l.opts.Close()
		l.opts = nil
	}
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

// Prepare sends ahead of the go-ahead what the init may do before it
// (nsinit.Prepare): the container's root filesystem, mounted, and the
// binds whose mount points it may make meanwhile. A write that fails is
// the go-ahead's to report.
func (l *Launched) Prepare(p nsinit.Prepare) {
	line, err := nsinit.PrepareLine(p)
	if err == nil {
		_, _ = l.goPipe.Write(line)
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
			out, rerr := os.ReadFile(filepath.Join(l.spawned.RunDir, LogFile))
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
