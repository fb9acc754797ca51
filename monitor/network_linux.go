package monitor

import (
	"fmt"
	"log"
	"os"

	"sandbox/network"
)

// startNetwork attaches the user-mode backend that c asks for to the
// init's network namespace, publishing c's ports; the init is not begun
// until it is configured. The monitor opens the namespace itself: it holds
// the capabilities that the backends drop before they open anything.
func (p *pendingInit) startNetwork(c Clone) error {
	if !c.Network.UserMode() {
		return nil
	}
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", p.pid))
	if err != nil {
		return fmt.Errorf("open the container's network namespace: %w", err)
	}
	defer ns.Close()
	h, err := network.Start(c.Network, ns, c.Ports, c.runDir)
	if err != nil {
		return err
	}
	p.net = h
	if len(c.Ports) > 0 && !c.Network.NativePorts {
		if p.fwd, err = network.Forward(ns, c.Ports); err != nil {
			p.stopNetwork()
			return err
		}
	}
	return nil
}

// stopNetwork ends the forwarder and the backend, freeing the published
// ports.
func (p *pendingInit) stopNetwork() {
	if p.fwd != nil {
		p.fwd.Close()
		p.fwd = nil
	}
	if p.net == nil {
		return
	}
	if err := p.net.Stop(); err != nil {
		log.Printf("stop network: %v", err)
	}
	p.net = nil
}
