package network

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"

	"sandbox/network/usernet"
)

// usernetBackend puts the namespace on the container's user-defined
// networks, through their holder (usernet.Join); the way out is the
// holder's.
type usernetBackend struct{ n Network }

func (b usernetBackend) Attach(netns *os.File, o AttachOptions) (func() error, error) {
	req := usernet.Request{ContainerID: b.n.MemberID, Name: b.n.MemberName, Attachments: b.n.Attachments, Ports: o.Ports, Names: b.n.MemberNames}
	if err := usernet.Join(b.n.HolderDir, netns, req); err != nil {
		return nil, fmt.Errorf("join network %s: %w", b.n.Attachments[0].Network, err)
	}
	return func() error { return usernet.Leave(b.n.HolderDir, b.n.MemberID) }, nil
}

// usernetPorts forwards published ports from the host to the container's
// address on its first network, dialing inside the holder's namespace
// from the client's own address: the server sees the client's address.
// The holder routes the answers back (it is told the ports as the
// backend joins: InBackend).
type usernetPorts struct{ n Network }

func (usernetPorts) InBackend() bool   { return true }
func (usernetPorts) KeepsSource() bool { return true }

func (h usernetPorts) Publish(_ *os.File, ports []Port, _ string) (func() error, error) {
	if len(ports) == 0 {
		return nothing, nil
	}
	ip, err := netip.ParseAddr(h.n.Attachments[0].IP)
	if err != nil || !ip.Is4() {
		return nil, fmt.Errorf("network %s: container address %q", h.n.Attachments[0].Network, h.n.Attachments[0].IP)
	}
	ns, err := usernet.OpenHolderNetns(h.n.HolderDir)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	follow, err := followHolder(h.n.HolderDir)
	if err != nil {
		return nil, err
	}
	f, err := ForwardTo(ns, ports, Target{IP: ip.As4(), Transparent: true, Follow: follow})
	if err != nil {
		return nil, err
	}
	return f.Close, nil
}

// followHolder gives the namespace of a holder that replaced the one the
// forwarder entered (killed, then started again: its members were put
// back in the new one), nil while the holder is the same one.
func followHolder(dir string) (func() (*os.File, error), error) {
	pidFile := usernet.PidPath(dir)
	last, err := os.ReadFile(pidFile)
	if err != nil {
		return nil, fmt.Errorf("network holder: %w", err)
	}
	return func() (*os.File, error) {
		now, err := os.ReadFile(pidFile)
		if err != nil {
			return nil, fmt.Errorf("network holder: %w", err)
		}
		if bytes.Equal(now, last) {
			return nil, nil
		}
		ns, err := usernet.OpenHolderNetns(dir)
		if err != nil {
			return nil, err
		}
		last = now
		return ns, nil
	}, nil
}
