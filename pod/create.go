package pod

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/internal/cleanup"
)

// CreateOptions are the flags of pod create.
type CreateOptions struct {
	// Name is --name; "" gives the pod its short id as name.
	Name string
	// Hostname is the members' host name ("": the pod's name).
	Hostname string
	Labels   []string
	// Publish are -p values and Network --network: the infra
	// container's, so the pod's.
	Publish []string
	Network string
	// Aliases are --network-alias: further names of the pod on its
	// user-defined network (besides its own and its members' names).
	Aliases []string
	// Share is --share: a comma list of net, ipc, uts ("": all three).
	Share string
	// NoInfra is --infra=false, which sandbox refuses: without an infra
	// container there is nothing to share.
	NoInfra bool
	// Replace removes a pod of the same name first.
	Replace bool
}

// Shareable are the namespaces a pod may share, as --share names them.
var Shareable = []string{"ipc", "net", "uts"}

// ParseShare reads --share: a comma list of Shareable names ("" is all of
// them). The network is what holds a pod together, so net is required.
func ParseShare(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(Shareable), nil
	}
	var out []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "cgroup":
			// podman lists it; members are in cgroups of their own anyway.
			continue
		case !slices.Contains(Shareable, k):
			return nil, fmt.Errorf("invalid --share %q: %q cannot be shared; want a comma list of %s", s, k, strings.Join(Shareable, ", "))
		case !slices.Contains(out, k):
			out = append(out, k)
		}
	}
	if !slices.Contains(out, "net") {
		return nil, fmt.Errorf("invalid --share %q: a pod's members share its network: include net", s)
	}
	slices.Sort(out)
	return out, nil
}

// Manager is the pods of one store.
type Manager struct {
	rt *container.Runtime
	db db
}

// Runtime is the container runtime the pods are made on.
func (m *Manager) Runtime() *container.Runtime { return m.rt }

// New returns the pods of rt's (open) store.
func New(rt *container.Runtime) *Manager {
	return &Manager{rt: rt, db: db{dir: filepath.Join(rt.Store.Options.GraphRoot, "sandbox-pods")}}
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("pod id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Create makes a pod and its infra container (created, not started: the
// pod's first start or first member starts it). On error nothing is left.
func (m *Manager) Create(ctx context.Context, o CreateOptions) (_ *Pod, retErr error) {
	if o.NoInfra {
		return nil, fmt.Errorf("--infra=false is not supported: a pod's members share the namespaces its infra container holds")
	}
	share, err := ParseShare(o.Share)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for _, l := range o.Labels {
		k, v, err := container.ParseLabel(l)
		if err != nil {
			return nil, err
		}
		labels[k] = v
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	p := &Pod{ID: id, Name: o.Name, Created: time.Now().UTC(), Labels: labels, Share: share,
		Network: o.Network, Publish: o.Publish}
	if p.Name == "" {
		p.Name = id[:12]
	} else if !container.ValidName(p.Name) {
		return nil, fmt.Errorf("invalid pod name %q: use letters, digits and _ . - (starting with a letter or digit)", p.Name)
	}
	p.Hostname = o.Hostname
	if p.Hostname == "" {
		p.Hostname = p.Name
	}
	p.InfraName = id[:12] + "-infra"
	if o.Replace {
		if _, err := m.Remove(ctx, p.Name, RemoveOptions{Force: true, Ignore: true}); err != nil {
			return nil, err
		}
	}
	// The name is taken under the lock before the infra is made, so that
	// two creates of one name cannot both succeed.
	if err := m.db.locked(func(recs *records) (bool, error) {
		if other := recs.byName(p.Name); other != nil {
			return false, fmt.Errorf("%w: the name %q is used by pod %.12s: remove it first, or choose another name", ErrNameInUse, p.Name, other.ID)
		}
		recs.Pods[p.ID] = p
		return true, nil
	}); err != nil {
		return nil, err
	}
	undo := cleanup.Make(func() {
		if err := m.forget(p.ID); err != nil {
			retErr = fmt.Errorf("%w (and removing the pod's record: %v)", retErr, err)
		}
	})
	defer undo.Clean()
	if err := ensurePauseImage(ctx, m.rt); err != nil {
		return nil, err
	}
	infra := &container.CreateOptions{
		Image:          PauseImage,
		Pull:           container.PullNever,
		Name:           p.InfraName,
		NetworkOptions: container.NetworkOptions{Network: o.Network, Publish: o.Publish, Aliases: o.Aliases},
		Pod:            container.PodRef{ID: p.ID, Name: p.Name, Infra: true},
		LogDriver:      "none",
	}
	if slices.Contains(share, "uts") {
		infra.Hostname = p.Hostname
	}
	c, err := m.rt.Create(ctx, infra)
	if err != nil {
		return nil, err
	}
	if err := m.rt.MarkCreated(c); err != nil {
		if rerr := m.rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true, Infra: true}); rerr != nil {
			err = fmt.Errorf("%w (and removing the infra container: %v)", err, rerr)
		}
		return nil, err
	}
	p.Infra = c.ID
	if err := m.db.locked(func(recs *records) (bool, error) {
		recs.Pods[p.ID] = p
		return true, nil
	}); err != nil {
		if rerr := m.rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true, Infra: true}); rerr != nil {
			err = fmt.Errorf("%w (and removing the infra container: %v)", err, rerr)
		}
		return nil, err
	}
	undo.Release()
	return p, nil
}

// EmptyDirs is the folder of Dir that holds a played pod's emptyDir
// volumes, one directory each, named as the volume.
const EmptyDirs = "emptydir"

// Dir is a directory of the pod's own (its emptyDir volumes), removed
// with the pod.
func (m *Manager) Dir(p *Pod) string { return filepath.Join(m.db.dir, p.ID) }

// forget removes a pod's record.
func (m *Manager) forget(id string) error {
	return m.db.locked(func(recs *records) (bool, error) {
		delete(recs.Pods, id)
		return true, nil
	})
}

// Lookup finds a pod by id, name or unique id prefix.
func (m *Manager) Lookup(ref string) (*Pod, error) {
	recs, err := m.db.read()
	if err != nil {
		return nil, err
	}
	return recs.find(ref)
}
