package monitor

import (
	"errors"
	"fmt"
	"log"
	"os"

	"sandbox/network"
)

// startNetwork attaches the backend of c's network to the init's network
// namespace and publishes c's ports; the init is not begun until the
// namespace is configured. The monitor opens the namespace itself: it
// holds the capabilities that the backends' programs drop before they
// open anything.
func (p *pendingInit) startNetwork(c Clone) error {
	backend, err := network.BackendFor(c.Network)
	if err != nil {
		return err
	}
	ports, err := network.PortHandlerFor(c.Network)
	if err != nil {
		return err
	}
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", p.pid))
	if err != nil {
		return fmt.Errorf("open the container's network namespace: %w", err)
	}
	defer ns.Close()
	opts := network.AttachOptions{Dir: c.runDir}
	if ports.InBackend() {
		opts.Ports = c.Ports
	}
	if p.detachNetwork, err = backend.Attach(ns, opts); err != nil {
		return err
	}
	if p.unpublish, err = ports.Publish(ns, c.Ports, c.runDir); err != nil {
		p.stopNetwork()
		return err
	}
	return nil
}

// stopNetwork unpublishes the ports and detaches the backend, freeing the
// published ports.
func (p *pendingInit) stopNetwork() {
	var errs []error
	if p.unpublish != nil {
		errs = append(errs, p.unpublish())
		p.unpublish = nil
	}
	if p.detachNetwork != nil {
		errs = append(errs, p.detachNetwork())
		p.detachNetwork = nil
	}
	if err := errors.Join(errs...); err != nil {
		log.Printf("stop network: %v", err)
	}
}
