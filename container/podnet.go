package container

import (
	"errors"
	"fmt"

	"sandbox/network/usernet"
	"sandbox/spec"

	cstorage "go.podman.io/storage"
)

// A pod's infra container on a user-defined network answers there for
// the pod's name and its members' names, as podman's does: the members
// share its network namespace, so its address is theirs. The holder is
// told the names as the infra joins, as a member is made or renamed, and
// as a restarted holder puts the infra back (rejoinRunning).

// podMembers lists the containers of pod podID: its infra (nil if none)
// and the names of the others.
func (r *Runtime) podMembers(podID string) (infra *Container, names []string, err error) {
	if err := r.openStore(); err != nil {
		return nil, nil, err
	}
	cs, err := r.Store.Containers()
	if err != nil {
		return nil, nil, fmt.Errorf("list containers: %w", err)
	}
	for i := range cs {
		c, err := r.load(&cs[i])
		if errors.Is(err, cstorage.ErrContainerUnknown) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		switch {
		case c.Config == nil || c.Config.Pod != podID:
		case c.Config.Infra:
			infra = c
		default:
			names = append(names, c.Name())
		}
	}
	return infra, names, nil
}

// podNetworkNames are the names the infra of cfg's pod answers to on its
// networks: the pod's, and its members'.
func (r *Runtime) podNetworkNames(cfg *spec.Config) ([]string, error) {
	_, names, err := r.podMembers(cfg.Pod)
	if err != nil {
		return nil, fmt.Errorf("pod %s's names on its network: %w", cfg.PodName, err)
	}
	return append([]string{cfg.PodName}, names...), nil
}

// namePodOnNetworks tells the holder the names of the pod whose infra a
// container just made joins (join), if that infra is on a user-defined
// network.
func (r *Runtime) namePodOnNetworks(join *joinTarget) error {
	if join == nil || join.cfg == nil || !join.cfg.Infra || len(join.cfg.Host.Network.Attachments) == 0 {
		return nil
	}
	names, err := r.podNetworkNames(join.cfg)
	if err != nil {
		return err
	}
	return usernet.SetNames(join.cfg.Host.Network.HolderDir, join.id, names)
}

// renameInPod tells the holder a pod member's new name.
func (r *Runtime) renameInPod(c *Container) error {
	if c.Config.Pod == "" || c.Config.Infra {
		return nil
	}
	infra, _, err := r.podMembers(c.Config.Pod)
	if err != nil || infra == nil || len(infra.Config.Host.Network.Attachments) == 0 {
		return err
	}
	names, err := r.podNetworkNames(infra.Config)
	if err != nil {
		return err
	}
	return usernet.SetNames(infra.Config.Host.Network.HolderDir, infra.ID, names)
}
