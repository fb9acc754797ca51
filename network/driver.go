package network

import "os"

// A container's network is set up from the host's side of its network
// namespace, by the monitor, in two steps, after the init is cloned into a
// new namespace and before it begins:
//
//  1. Backend.Attach gives the namespace its way out (slirp4netns, pasta;
//     nothing for none, host and container:);
//  2. PortHandler.Publish makes the published ports reachable on the host.
//
// Each returns its cleanup; they are undone in the reverse order. Nothing
// here runs inside the namespace: the backends' programs and the
// forwarder's dialing thread enter it themselves.

// Backend attaches a network to a container's network namespace from
// outside it.
type Backend interface {
	// Attach configures the namespace netns (the init's /proc/PID/ns/net,
	// opened by the caller, who holds the capabilities that a backend's
	// program drops before it would open a /proc path) and returns once
	// the container may use it. cleanup detaches; it is safe to call more
	// than once.
	Attach(netns *os.File, o AttachOptions) (cleanup func() error, err error)
}

// AttachOptions are what a backend needs besides the namespace.
type AttachOptions struct {
	// Dir holds the backend's log (network.log) and, for slirp4netns, its
	// API socket.
	Dir string
	// Ports are published ports whose host side the backend's own process
	// holds (PortHandler.InBackend): pasta publishes them as it starts,
	// slirp4netns when its port handler asks. With any, cleanup returns
	// once the process is gone, so that they are free again; with none,
	// at once, the process reaped in the background (a backend takes 20
	// to 50 ms to die, the kernel tearing its tap device down, which would
	// otherwise be on the path of every container's exit status).
	Ports []Port
}

// PortHandler publishes a container's ports on the host, into a namespace
// that a Backend has attached.
type PortHandler interface {
	// InBackend reports whether the backend's own process holds the host
	// side of the ports: the caller passes them in AttachOptions.Ports.
	InBackend() bool
	// KeepsSource reports whether a server in the container sees a
	// client's own address (true; a client on the host's loopback, or on
	// the container's own address, which pasta copies from the host, is
	// seen as the gateway), or every client as the container's loopback,
	// 127.0.0.1 (false). Where it does, UDP replies go to the address the
	// server sees, and reach a client on the host only when the container
	// may reach the host (Network.AllowHostLoopback).
	KeepsSource() bool
	// Publish publishes ports on the host once the backend is attached to
	// netns; dir is the backend's AttachOptions.Dir. cleanup unpublishes;
	// with InBackend the ports are free only once the backend's cleanup
	// has returned too.
	Publish(netns *os.File, ports []Port, dir string) (cleanup func() error, err error)
}

// nothing is the cleanup of what set nothing up.
func nothing() error { return nil }
