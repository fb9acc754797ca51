package network

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// pastaBackend attaches pasta (package passt): user-mode networking that
// copies the host's address and routes into the namespace. It publishes
// AttachOptions.Ports itself, as it starts (pasta's -t and -u), and no
// other port.
type pastaBackend struct{ n Network }

func (b pastaBackend) Attach(netns *os.File, o AttachOptions) (func() error, error) {
	h, err := startHelper(helperOptions{
		mode:     Pasta,
		args:     pastaArgs(b.n, o.Ports),
		dir:      o.Dir,
		netns:    netns,
		waitStop: len(o.Ports) > 0,
	})
	if err != nil {
		return nil, err
	}
	return h.stop, nil
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

// pastaPorts is pasta's own forwarding: the ports are on pasta's command
// line (InBackend), so there is nothing left to do once it is attached.
// It keeps the client's address, and is freed with pasta itself.
type pastaPorts struct{}

func (pastaPorts) InBackend() bool   { return true }
func (pastaPorts) KeepsSource() bool { return true }

func (pastaPorts) Publish(*os.File, []Port, string) (func() error, error) { return nothing, nil }
