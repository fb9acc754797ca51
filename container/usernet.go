package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sandbox/internal/atomicfile"
	"sandbox/network"
	"sandbox/network/usernet"
	"sandbox/spec"
	"sandbox/userns"
)

// userNetwork reports whether --network v names a user-defined network
// rather than a mode.
func userNetwork(v string) bool {
	switch mode, _, _ := strings.Cut(v, ":"); mode {
	case "", "bridge", network.None, network.Host, network.Slirp4netns, network.Pasta, "container":
		return false
	}
	return true
}

// attachNetworks gives the claimed container p its address on its
// user-defined network (a member from now until its removal) and makes
// sure the networks' holder runs. Nothing else on the host is touched.
func (r *Runtime) attachNetworks(p *prepared, o *CreateOptions) error {
	f := p.flags.netw
	if !userNetwork(f.net.Mode) {
		if len(o.Aliases) > 0 || o.IP != "" {
			return errors.New("--network-alias and --ip need a user-defined --network (sandbox network create)")
		}
		return nil
	}
	a, err := r.Networks.Attach(usernet.JoinOptions{Network: f.net.Mode, ContainerID: p.id, Name: o.Name, Aliases: o.Aliases, IP: o.IP})
	if errors.Is(err, usernet.ErrNotFound) {
		return fmt.Errorf("%w (--network is none, host, slirp4netns[:OPTIONS], pasta[:OPTIONS], container:NAME or a network of sandbox network create)", err)
	}
	if err != nil {
		return err
	}
	if a.Internal && len(f.ports) > 0 {
		return errors.Join(fmt.Errorf("network %s is internal: it has no way in for published ports", a.Network), r.Networks.Release(p.id))
	}
	f.net.Mode = a.Network
	f.net.Attachments = append(f.net.Attachments[:0], a)
	f.net.HolderDir = usernet.HolderDir(r.runRoot)
	f.net.MemberID, f.net.MemberName = p.id, o.Name
	if err := r.ensureHolder(f.net.HolderDir); err != nil {
		return errors.Join(err, r.Networks.Release(p.id))
	}
	return nil
}

// ensureHolder starts the holder of the user-defined networks in dir
// unless it runs.
func (r *Runtime) ensureHolder(dir string) error {
	return usernet.EnsureHolder(usernet.HolderOptions{
		Dir:    dir,
		Binary: r.Self,
		Env:    append(os.Environ(), userns.ChildEnv()...),
		// A failure to put another container back is no reason to fail
		// this one's start.
		Started: func() error {
			if err := r.rejoinRunning(dir); err != nil {
				fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
			}
			return nil
		},
	})
}

// nameOnNetworks tells the networks of n, and their holder, the
// container's name: one chosen after it joined, or a new one.
func (r *Runtime) nameOnNetworks(n network.Network, id, name string) error {
	if len(n.Attachments) == 0 {
		return nil
	}
	if err := r.Networks.Rename(id, name); err != nil {
		return err
	}
	return usernet.SetName(n.HolderDir, id, name)
}

// unclaimPrepared gives up the claim of p, and its networks' addresses.
func (r *Runtime) unclaimPrepared(p *prepared, err error) error {
	if rerr := r.Networks.Release(p.id); rerr != nil {
		err = fmt.Errorf("%w (and releasing its network address: %v)", err, rerr)
	}
	return unclaim(p.runDir, err)
}

// ConnectOptions are network connect's: the container joins Network at
// its next start.
type ConnectOptions struct {
	Network, Container string
	Aliases            []string
	IP                 string
}

// Connect puts a container that is not running on a user-defined
// network; it may be on user-defined networks already, not on another
// mode's.
func (r *Runtime) Connect(o ConnectOptions) error {
	return r.changeNetworks(o.Container, func(c *Container, n *network.Network) error {
		if n.Mode != "" && len(n.Attachments) == 0 && n.Mode != network.Slirp4netns && n.Mode != network.Pasta {
			return fmt.Errorf("container %s has --network %s: it cannot join a user-defined network", o.Container, n.Mode)
		}
		a, err := r.Networks.Attach(usernet.JoinOptions{Network: o.Network, ContainerID: c.ID, Name: c.Name(), Aliases: o.Aliases, IP: o.IP})
		if err != nil {
			return err
		}
		if len(n.Attachments) == 0 {
			*n = network.Network{Mode: a.Network, HolderDir: usernet.HolderDir(r.runRoot), MemberID: c.ID, MemberName: c.Name()}
		}
		n.Attachments = append(n.Attachments, a)
		return nil
	})
}

// Disconnect takes a container that is not running off a user-defined
// network; off its last, it has no network but its loopback.
func (r *Runtime) Disconnect(net, ref string) error {
	return r.changeNetworks(ref, func(c *Container, n *network.Network) error {
		rec, err := r.Networks.Get(net)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(n.Attachments, func(a spec.Attachment) bool { return a.ID == rec.ID })
		if i < 0 {
			return fmt.Errorf("container %s is not connected to network %s", ref, rec.Name)
		}
		if err := r.Networks.Detach(rec.Name, c.ID); err != nil {
			return err
		}
		n.Attachments = slices.Delete(n.Attachments, i, i+1)
		if len(n.Attachments) == 0 {
			*n = network.Network{Mode: network.None}
		} else {
			n.Mode = n.Attachments[0].Network
		}
		return nil
	})
}

// changeNetworks changes the network of a container that is not running,
// under its state's lock.
func (r *Runtime) changeNetworks(ref string, change func(*Container, *network.Network) error) error {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if c.Config == nil {
		return fmt.Errorf("%w: %s has no configuration", ErrNoSuchContainer, ref)
	}
	if up(st) && alive(st.Pid, st.PidStart) {
		return fmt.Errorf("container %s is running: stop it first (a running container's networks do not change)", ref)
	}
	return spec.UpdateState(c.RunDir, func(*spec.State) error {
		cfg := *c.Config
		n := cfg.Host.Network
		n.Attachments = slices.Clone(n.Attachments)
		if err := change(c, &n); err != nil {
			return err
		}
		cfg.Host.Network, cfg.Host.NetworkMode = n, n.Mode
		cfg.Spec.Network = n.Mode
		var err error
		if cfg.Host.Addresses, err = network.AddressesFor(n); err != nil {
			return err
		}
		data, err := json.MarshalIndent(&cfg, "", "  ")
		if err != nil {
			return err
		}
		return atomicfile.Write(filepath.Join(c.Dir, "config.json"), data, 0o600)
	})
}
