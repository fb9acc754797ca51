package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// Helper is a running backend, attached to one container's network
// namespace. It dies with the process that started it (a parent-death
// signal), so a killed monitor leaves no backend behind.
type Helper struct {
	proc       *os.Process
	exit       *os.File // slirp4netns ends when this, its exit fd, closes
	log        string
	holdsPorts bool // the backend publishes ports itself
}

// readyTimeout bounds a backend's start.
const readyTimeout = 10 * time.Second

// Start attaches the backend of n to the network namespace netns (the
// container's init's /proc/PID/ns/net, opened by the caller: both backends
// drop capabilities before they would open a /proc/PID path themselves,
// and then may not), publishes ports, and returns once the namespace is
// configured. dir holds the backend's log (network.log) and, for
// slirp4netns, its API socket.
func Start(n Network, netns *os.File, ports []Port, dir string) (*Helper, error) {
	prog, err := Program(n.Mode)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "network.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("network log: %w", err)
	}
	defer logFile.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("network ready pipe: %w", err)
	}
	defer readyR.Close()
	h := &Helper{log: logPath, holdsPorts: n.NativePorts && len(ports) > 0}
	// Descriptors from 3: the namespace, the ready pipe, then per backend.
	// os.StartProcess rather than os/exec: this runs in every container's
	// monitor, which stays small without os/exec.
	files := []*os.File{nil, logFile, logFile, netns, readyW}
	var args []string
	var dirFd *os.File
	switch n.Mode {
	case Slirp4netns:
		exitR, exitW, err := os.Pipe()
		if err != nil {
			readyW.Close()
			return nil, fmt.Errorf("network exit pipe: %w", err)
		}
		defer exitR.Close()
		h.exit = exitW
		if dirFd, err = os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY, 0); err != nil {
			readyW.Close()
			exitW.Close()
			return nil, fmt.Errorf("network directory: %w", err)
		}
		defer dirFd.Close()
		files = append(files, exitR, dirFd)
		args = slirp4netnsArgs(n)
	case Pasta:
		if !n.NativePorts {
			ports = nil
		}
		args = pastaArgs(n, ports)
	default:
		readyW.Close()
		return nil, fmt.Errorf("network %q has no backend", n.Mode)
	}
	null, err := os.Open(os.DevNull)
	if err == nil {
		files[0] = null
		h.proc, err = os.StartProcess(prog, args, &os.ProcAttr{
			Dir:   "/",
			Files: files,
			Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
		})
		null.Close()
	}
	readyW.Close()
	if err != nil {
		h.closeExit()
		return nil, fmt.Errorf("start %s: %w", n.Mode, err)
	}
	if err := waitReady(readyR); err != nil {
		h.Stop()
		return nil, h.failure(n.Mode, err)
	}
	if n.Mode == Slirp4netns && n.NativePorts {
		for _, p := range ports {
			if err := addHostfwd(dir, p); err != nil {
				h.Stop()
				return nil, err
			}
		}
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
func (h *Helper) failure(mode string, err error) error {
	out, _ := os.ReadFile(h.log)
	msg := strings.TrimSpace(strings.ReplaceAll(string(out), "\n", "; "))
	if msg != "" {
		return fmt.Errorf("%s did not start: %s", mode, msg)
	}
	return fmt.Errorf("%s did not start: %v", mode, err)
}

func (h *Helper) closeExit() {
	if h.exit != nil {
		h.exit.Close()
		h.exit = nil
	}
}

// Stop kills the backend. It returns once the backend is gone when the
// backend holds published ports itself, so that they are free again;
// otherwise at once, the backend reaped in the background: a backend takes
// 20 to 50 ms to die (the kernel tears its tap device down), which would
// otherwise be on the path of every container's exit status.
func (h *Helper) Stop() error {
	h.closeExit()
	proc := h.proc
	if proc == nil {
		return nil
	}
	h.proc = nil
	if err := proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop network backend: %w", err)
	}
	if !h.holdsPorts {
		go proc.Wait()
		return nil
	}
	if _, err := proc.Wait(); err != nil {
		return fmt.Errorf("stop network backend: %w", err)
	}
	return nil
}

// slirp4netnsArgs: fd 3 the namespace, 4 ready, 5 exit, 6 the directory of
// the API socket (bound through /proc/self/fd, whatever its path's length).
func slirp4netnsArgs(n Network) []string {
	mtu := n.MTU
	if mtu == 0 {
		mtu = 65520
	}
	args := []string{"slirp4netns", "--configure", "--mtu=" + strconv.Itoa(mtu),
		"--enable-sandbox", "--enable-seccomp", "--ready-fd=4", "--exit-fd=5",
		"--api-socket=/proc/self/fd/6/slirp4netns.sock", "--netns-type=path"}
	if !n.AllowHostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	if n.OutboundAddr != "" {
		args = append(args, "--outbound-addr="+n.OutboundAddr)
	}
	return append(args, "/proc/self/fd/3", "tap0")
}

// pastaArgs: fd 3 the namespace, 4 the ready pipe (as its pid file). No
// port is forwarded but those published, nothing from the namespace to the
// host's loopback.
func pastaArgs(n Network, ports []Port) []string {
	args := []string{"pasta", "--config-net", "--foreground", "--quiet",
		"--netns", "/proc/self/fd/3", "--pid", "/proc/self/fd/4",
		"-T", "none", "-U", "none", "--dns-forward", pastaDNS}
	var tcp, udp []string
	for _, p := range ports {
		spec := fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
		if p.HostIP != "" {
			spec = p.HostIP + "/" + spec
		}
		if p.Protocol == "udp" {
			udp = append(udp, spec)
		} else {
			tcp = append(tcp, spec)
		}
	}
	for _, f := range []struct {
		flag  string
		specs []string
	}{{"-t", tcp}, {"-u", udp}} {
		if len(f.specs) == 0 {
			args = append(args, f.flag, "none")
		} else {
			args = append(args, f.flag, strings.Join(f.specs, ","))
		}
	}
	if !n.AllowHostLoopback {
		args = append(args, "--no-map-gw")
	}
	if n.MTU != 0 {
		args = append(args, "--mtu", strconv.Itoa(n.MTU))
	}
	return append(args, n.Args...)
}

// addHostfwd publishes one port through slirp4netns's API.
func addHostfwd(dir string, p Port) error {
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("publish port %d: %w", p.HostPort, err)
	}
	defer unix.Close(d)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("publish port %d: %w", p.HostPort, err)
	}
	conn := os.NewFile(uintptr(fd), "slirp4netns-api")
	defer conn.Close()
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: fmt.Sprintf("/proc/self/fd/%d/slirp4netns.sock", d)}); err != nil {
		return fmt.Errorf("publish port %d: slirp4netns API: %w", p.HostPort, err)
	}
	hostAddr := p.HostIP
	if hostAddr == "" {
		hostAddr = "0.0.0.0"
	}
	req, err := json.Marshal(map[string]any{"execute": "add_hostfwd", "arguments": map[string]any{
		"proto": p.Protocol, "host_addr": hostAddr, "host_port": p.HostPort, "guest_port": p.ContainerPort}})
	if err != nil {
		return err
	}
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("publish port %d: slirp4netns API: %w", p.HostPort, err)
	}
	// One request per connection: slirp4netns answers and closes.
	unix.Shutdown(fd, unix.SHUT_WR)
	answer, err := io.ReadAll(conn)
	if err != nil {
		return fmt.Errorf("publish port %d: slirp4netns API: %w", p.HostPort, err)
	}
	var resp struct {
		Error *struct{ Desc string } `json:"error"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		return fmt.Errorf("publish port %d: slirp4netns answered %q", p.HostPort, answer)
	}
	if resp.Error != nil {
		return fmt.Errorf("publish port %s: %s (is the port in use?)", spec.HostPort(hostAddr, p.HostPort), resp.Error.Desc)
	}
	return nil
}
