package container

import (
	"errors"
	"fmt"
	"os"

	"sandbox/network/usernet"

	cstorage "go.podman.io/storage"
)

// rejoinRunning puts the running containers whose networks are held in
// dir back on them: a holder just started (the previous one killed)
// knows no member, and the members' veths went with its namespace. Each
// is joined again as its monitor joined it: same addresses, names,
// aliases and published ports. A container that stops meanwhile is
// skipped.
func (r *Runtime) rejoinRunning(dir string) error {
	if err := r.openStore(); err != nil {
		return err
	}
	cs, err := r.Store.Containers()
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for i := range cs {
		c, err := r.load(&cs[i])
		if errors.Is(err, cstorage.ErrContainerUnknown) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if c.Config == nil || len(c.Config.Host.Network.Attachments) == 0 || c.Config.Host.Network.HolderDir != dir {
			continue
		}
		st, err := r.State(c)
		if errors.Is(err, ErrNoSuchContainer) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !up(st) || !alive(st.Pid, st.PidStart) {
			continue
		}
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", st.Pid))
		if err != nil {
			continue // gone since
		}
		if !alive(st.Pid, st.PidStart) {
			ns.Close()
			continue
		}
		n := c.Config.Host.Network
		req := usernet.Request{ContainerID: c.ID, Name: c.Name(), Attachments: n.Attachments, Ports: c.Config.Host.Ports}
		if c.Config.Infra {
			if req.Names, err = r.podNetworkNames(c.Config); err != nil {
				errs = append(errs, err)
			}
		}
		err = usernet.Join(dir, ns, req)
		ns.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("container %.12s back on network %s: %w", c.ID, n.Attachments[0].Network, err))
		}
	}
	return errors.Join(errs...)
}
