package container

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"sandbox/container/monitor"
	"sandbox/internal/atomicfile"
	"sandbox/userns"

	"golang.org/x/sys/unix"
)

// ExitError is a container command that could not be started or ended
// with a status: the command line exits with Code.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// Started is a container whose command runs.
type Started struct {
	Pid      int
	PidStart uint64
	// Conn is the attach stream, when asked for.
	Conn *os.File
}

// Start starts the monitor of a created container and waits until the
// container's command runs. With attach, the returned Conn is connected
// to the monitor before the command starts, so no output is missed.
func (r *Runtime) Start(ctx context.Context, c *Container, attach bool) (*Started, error) {
	if c.Config == nil {
		return nil, fmt.Errorf("container %.12s has no configuration: remove it", c.ID)
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("monitor pipe: %w", err)
	}
	defer syncR.Close()
	extra := []*os.File{syncW}
	var ours *os.File
	if attach {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			syncW.Close()
			return nil, fmt.Errorf("attach socket: %w", err)
		}
		ours = os.NewFile(uintptr(pair[0]), "attach")
		theirs := os.NewFile(uintptr(pair[1]), "attach")
		defer theirs.Close()
		extra = append(extra, theirs)
	}
	cleanup := append([]string{r.Self}, GlobalArgs(c.Config.Storage)...)
	cleanup = append(cleanup, "container", "cleanup")
	if c.Config.Remove {
		cleanup = append(cleanup, "--rm")
	}
	cleanup = append(cleanup, c.ID)
	opts, err := json.Marshal(&monitor.Options{
		ConfigPath: filepath.Join(c.Dir, "config.json"),
		RunDir:     c.RunDir,
		LogPath:    filepath.Join(c.Dir, "ctr.log"),
		Cleanup:    cleanup,
		Attach:     attach,
	})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(c.RunDir, monitor.OptionsFile), opts, 0o600); err != nil {
		return nil, err
	}
	monLog, err := os.OpenFile(filepath.Join(c.RunDir, "monitor.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("monitor log: %w", err)
	}
	defer monLog.Close()
	cmd := &osexec.Cmd{
		Path:        r.Monitor,
		Args:        []string{"sandbox-monitor", "monitor", c.RunDir},
		Env:         append(userns.ChildEnv(), "PATH="+os.Getenv("PATH")),
		Dir:         "/",
		Stdout:      monLog,
		Stderr:      monLog,
		ExtraFiles:  extra,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		syncW.Close()
		if ours != nil {
			ours.Close()
		}
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	syncW.Close()
	// The monitor outlives this command; it is never waited for here.
	monPid := cmd.Process.Pid
	if err := cmd.Process.Release(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(syncR).ReadBytes('\n')
	if err != nil {
		if ours != nil {
			ours.Close()
		}
		if errors.Is(err, io.EOF) {
			out, _ := os.ReadFile(filepath.Join(c.RunDir, "monitor.log"))
			return nil, fmt.Errorf("monitor (pid %d) exited before the container started: %s", monPid, strings.TrimSpace(string(out)))
		}
		return nil, fmt.Errorf("read from monitor: %w", err)
	}
	var msg monitor.SyncMessage
	if err := json.Unmarshal(line, &msg); err != nil {
		return nil, fmt.Errorf("message from monitor %q: %w", line, err)
	}
	if msg.Error != "" {
		if ours != nil {
			ours.Close()
		}
		return nil, &ExitError{Code: msg.Code, Msg: msg.Error}
	}
	return &Started{Pid: msg.Pid, PidStart: msg.PidStart, Conn: ours}, nil
}
