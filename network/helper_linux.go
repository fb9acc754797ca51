package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// helper is a backend's program running beside one container, attached to
// its network namespace. It dies with the process that started it (a
// parent-death signal), so a killed monitor leaves no backend behind.
type helper struct {
	proc     *os.Process
	exit     *os.File // the program ends when this closes (slirp4netns's exit fd), or nil
	log      string
	waitStop bool // stop waits for the program to exit (AttachOptions.Ports)
}

// helperOptions start a backend's program.
type helperOptions struct {
	// mode is the backend, whose program of that name is started.
	mode string
	args []string
	// dir holds the program's log, network.log.
	dir string
	// netns becomes the program's fd 3, and its ready pipe fd 4; extra
	// follow from fd 5.
	netns *os.File
	extra []*os.File
	// exit is kept open while the program runs, and closed to end it; the
	// helper owns it from the start, whatever startHelper returns. nil
	// when the program has no exit descriptor.
	exit *os.File
	// waitStop: see helper.waitStop.
	waitStop bool
}

// readyTimeout bounds a backend's start.
const readyTimeout = 10 * time.Second

// startHelper starts a backend's program and returns once it reports the
// namespace configured, or with what it logged when it does not.
func startHelper(o helperOptions) (*helper, error) {
	h := &helper{exit: o.exit, log: filepath.Join(o.dir, "network.log"), waitStop: o.waitStop}
	prog, err := Program(o.mode)
	if err != nil {
		h.closeExit()
		return nil, err
	}
	logFile, err := os.OpenFile(h.log, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		h.closeExit()
		return nil, fmt.Errorf("network log: %w", err)
	}
	defer logFile.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		h.closeExit()
		return nil, fmt.Errorf("network ready pipe: %w", err)
	}
	defer readyR.Close()
	// os.StartProcess rather than os/exec: this runs in every container's
	// monitor, which stays small without os/exec.
	files := append([]*os.File{nil, logFile, logFile, o.netns, readyW}, o.extra...)
	null, err := os.Open(os.DevNull)
	if err == nil {
		files[0] = null
		h.proc, err = os.StartProcess(prog, o.args, &os.ProcAttr{
			Dir:   "/",
			Files: files,
			Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
		})
		null.Close()
	}
	readyW.Close()
	if err != nil {
		h.closeExit()
		return nil, fmt.Errorf("start %s: %w", o.mode, err)
	}
	if err := waitReady(readyR); err != nil {
		if serr := h.stop(); serr != nil {
			return nil, errors.Join(h.failure(o.mode, err), serr)
		}
		return nil, h.failure(o.mode, err)
	}
	return h, nil
}

// waitReady waits for the backend to write to its ready pipe (slirp4netns
// writes "1", pasta its pid); end of file means it exited.
func waitReady(r *os.File) error {
	done := make(chan error, 1)
	go func() {
		b := make([]byte, 16)
		n, err := r.Read(b)
		if n > 0 {
			done <- nil
			return
		}
		if err == nil {
			err = errors.New("no answer")
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(readyTimeout):
		return fmt.Errorf("not ready after %v", readyTimeout)
	}
}

// failure explains a backend that did not come up, with what it logged.
func (h *helper) failure(mode string, err error) error {
	out, rerr := os.ReadFile(h.log)
	msg := strings.TrimSpace(strings.ReplaceAll(string(out), "\n", "; "))
	if rerr == nil && msg != "" {
		return fmt.Errorf("%s did not start: %s", mode, msg)
	}
	return fmt.Errorf("%s did not start: %w", mode, err)
}

func (h *helper) closeExit() {
	if h.exit != nil {
		h.exit.Close()
		h.exit = nil
	}
}

// stop kills the program: the cleanup of Backend.Attach. It returns once
// the program is gone when waitStop, otherwise at once, the program
// reaped in the background.
func (h *helper) stop() error {
	h.closeExit()
	proc := h.proc
	if proc == nil {
		return nil
	}
	h.proc = nil
	if err := proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop network backend: %w", err)
	}
	if !h.waitStop {
		go proc.Wait()
		return nil
	}
	if _, err := proc.Wait(); err != nil {
		return fmt.Errorf("stop network backend: %w", err)
	}
	return nil
}
