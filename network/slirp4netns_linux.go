package network

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// slirp4netnsBackend attaches slirp4netns: user-mode TCP/IP on a tap
// device in the namespace, with an API socket in AttachOptions.Dir.
type slirp4netnsBackend struct{ n Network }

func (b slirp4netnsBackend) Attach(netns *os.File, o AttachOptions) (func() error, error) {
	exitR, exitW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("network exit pipe: %w", err)
	}
	defer exitR.Close()
	dirFd, err := os.OpenFile(o.Dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("network directory: %w", err)
	}
	defer dirFd.Close()
	h, err := startHelper(helperOptions{
		mode:     Slirp4netns,
		args:     slirp4netnsArgs(b.n),
		dir:      o.Dir,
		netns:    netns,
		extra:    []*os.File{exitR, dirFd},
		exit:     exitW,
		waitStop: len(o.Ports) > 0,
	})
	if err != nil {
		return nil, err
	}
	return h.stop, nil
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
	if n.CIDR != "" {
		args = append(args, "--cidr="+n.CIDR)
	}
	if n.OutboundAddr != "" {
		args = append(args, "--outbound-addr="+n.OutboundAddr)
	}
	return append(args, "/proc/self/fd/3", "tap0")
}

// slirp4netnsPorts publishes ports through slirp4netns's API
// (add_hostfwd): slirp4netns listens on the host and forwards to the
// container's address, keeping the client's. The ports are freed with
// slirp4netns itself.
type slirp4netnsPorts struct{}

func (slirp4netnsPorts) InBackend() bool   { return true }
func (slirp4netnsPorts) KeepsSource() bool { return true }

func (slirp4netnsPorts) Publish(_ *os.File, ports []Port, dir string) (func() error, error) {
	for _, p := range ports {
		if err := addHostfwd(dir, p); err != nil {
			return nil, err
		}
	}
	return nothing, nil
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
	if err := unix.Shutdown(fd, unix.SHUT_WR); err != nil {
		return fmt.Errorf("publish port %d: slirp4netns API: %w", p.HostPort, err)
	}
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
