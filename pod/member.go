package pod

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"sandbox/container"
	"sandbox/network"
)

// NewPrefix starts --pod new:NAME: a new pod for the container.
const NewPrefix = "new:"

// Join makes o a member of the pod that o.Pod.Name names (as --pod gave
// it): its network becomes the infra container's, it joins the pod's
// shared namespaces, and the infra is started if it does not run. With
// new:NAME the pod is created first, with the container's -p and
// --network, as podman does. A member may not publish ports or choose a
// network of its own: those are the pod's.
func (m *Manager) Join(ctx context.Context, o *container.CreateOptions) error {
	ref := o.Pod.Name
	if name, ok := strings.CutPrefix(ref, NewPrefix); ok {
		if _, err := m.Create(ctx, CreateOptions{Name: name, Publish: o.Publish, Network: o.Network, Aliases: o.Aliases}); err != nil {
			return err
		}
		ref, o.Publish, o.Network, o.Aliases = name, nil, "", nil
	}
	if o.Network != "" {
		return fmt.Errorf("--pod and --network do not go together: the members of pod %s share its network; give --network to pod create", ref)
	}
	if len(o.Publish) > 0 || o.PublishAll {
		return errors.New("invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod")
	}
	p, err := m.Lookup(ref)
	if err != nil {
		return err
	}
	share := slices.DeleteFunc(slices.Clone(p.Share), func(k string) bool { return k == "net" })
	if slices.Contains(share, "uts") {
		if o.Hostname != "" {
			return fmt.Errorf("--hostname cannot be set for a member of pod %s: it shares the pod's UTS namespace (give --hostname to pod create)", p.Name)
		}
		o.Hostname = p.Hostname
	}
	if err := m.startInfra(ctx, p); err != nil {
		return err
	}
	o.Network = network.ContainerPrefix + p.Infra
	o.Pod = container.PodRef{ID: p.ID, Name: p.Name, Share: share}
	return nil
}
