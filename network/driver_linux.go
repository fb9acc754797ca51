package network

import (
	"fmt"
	"os"
	"strings"
)

// BackendFor is the backend of network n: slirp4netns or pasta, attached
// by a program of that name, or, for none, host and container:NAME, one
// that attaches nothing (the init's clone flags and its Begin message
// decide which namespace it has).
func BackendFor(n Network) (Backend, error) {
	switch {
	case len(n.Attachments) > 0:
		return usernetBackend{n: n}, nil
	case n.Mode == Slirp4netns:
		return slirp4netnsBackend{n: n}, nil
	case n.Mode == Pasta:
		return pastaBackend{n: n}, nil
	case n.Mode == None, n.Mode == Host, strings.HasPrefix(n.Mode, ContainerPrefix):
		return noBackend{}, nil
	}
	return nil, fmt.Errorf("network %q has no backend", n.Mode)
}

// PortHandlerFor is the port handler of network n: the backend's own
// forwarding when n asks for it (port_handler=slirp4netns or
// port_handler=pasta), else sandbox's forwarder; for a network without a
// backend, one that publishes nothing.
func PortHandlerFor(n Network) (PortHandler, error) {
	switch {
	case len(n.Attachments) > 0:
		return usernetPorts{n: n}, nil
	case n.Mode == Slirp4netns && n.NativePorts:
		return slirp4netnsPorts{}, nil
	case n.Mode == Pasta && n.NativePorts:
		return pastaPorts{}, nil
	case n.Mode == Slirp4netns, n.Mode == Pasta:
		return forwarderPorts{n: n}, nil
	case n.Mode == None, n.Mode == Host, strings.HasPrefix(n.Mode, ContainerPrefix):
		return noPorts{mode: n.Mode}, nil
	}
	return nil, fmt.Errorf("network %q has no port handler", n.Mode)
}

// noBackend attaches nothing: the namespace is the host's, another
// container's, or has only its loopback.
type noBackend struct{}

func (noBackend) Attach(*os.File, AttachOptions) (func() error, error) { return nothing, nil }

// noPorts is the port handler of a network without a backend: there is
// no way in from the host to publish.
type noPorts struct{ mode string }

func (noPorts) InBackend() bool   { return false }
func (noPorts) KeepsSource() bool { return false }

func (h noPorts) Publish(_ *os.File, ports []Port, _ string) (func() error, error) {
	if len(ports) > 0 {
		return nil, fmt.Errorf("publishing ports needs --network slirp4netns or pasta, not %q", h.mode)
	}
	return nothing, nil
}
