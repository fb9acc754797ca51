package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sandbox/events"
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

// ConnectOptions are network connect's.
type ConnectOptions struct {
	Network, Container string
	Aliases            []string
	IP                 string
}

// Connect puts a container on a user-defined network; it may be on
// user-defined networks already, not on another mode's. A stopped
// container joins at its next start; a running one, already on a
// user-defined network, at once (the holder adds a veth in its
// namespace and answers its names there).
func (r *Runtime) Connect(o ConnectOptions) error {
	var joined string
	var ctr *Container
	err := r.changeNetworks(o.Container, func(c *Container, pid int, n *network.Network) (func() error, error) {
		if n.Mode != "" && len(n.Attachments) == 0 && n.Mode != network.Slirp4netns && n.Mode != network.Pasta {
			return nil, fmt.Errorf("container %s has --network %s: it cannot join a user-defined network", o.Container, n.Mode)
		}
		if pid > 0 && len(n.Attachments) == 0 {
			return nil, fmt.Errorf("container %s is running on --network %s: stop it first to connect it to network %s", o.Container, n.Mode, o.Network)
		}
		a, err := r.Networks.Attach(usernet.JoinOptions{Network: o.Network, ContainerID: c.ID, Name: c.Name(), Aliases: o.Aliases, IP: o.IP})
		if err != nil {
			return nil, err
		}
		if pid > 0 {
			// A holder killed since is started again (putting the
			// container back on its other networks) first.
			err := r.ensureHolder(n.HolderDir)
			if err == nil {
				err = connectLive(pid, n.HolderDir, c.ID, a)
			}
			if err != nil {
				return nil, errors.Join(err, r.Networks.Detach(a.Network, c.ID))
			}
		}
		if len(n.Attachments) == 0 {
			*n = network.Network{Mode: a.Network, HolderDir: usernet.HolderDir(r.runRoot), MemberID: c.ID, MemberName: c.Name()}
		}
		n.Attachments = append(n.Attachments, a)
		joined, ctr = a.Network, c
		return func() error {
			errs := []error{r.Networks.Detach(a.Network, c.ID)}
			if pid > 0 {
				errs = append(errs, usernet.Disconnect(n.HolderDir, c.ID, a))
			}
			return errors.Join(errs...)
		}, nil
	})
	if err != nil {
		return err
	}
	r.recordNetwork(events.Connect, ctr, joined)
	return nil
}

// connectLive puts the running container pid on network a at once.
func connectLive(pid int, dir, id string, a spec.Attachment) error {
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return fmt.Errorf("the container's network namespace: %w", err)
	}
	defer ns.Close()
	if err := usernet.Connect(dir, ns, id, a); err != nil {
		return fmt.Errorf("connect to network %s: %w", a.Network, err)
	}
	return nil
}

// Disconnect takes a container off a user-defined network (a running
// one at once); off its last, it has no network but its loopback.
func (r *Runtime) Disconnect(net, ref string) error {
	var left string
	var ctr *Container
	err := r.changeNetworks(ref, func(c *Container, pid int, n *network.Network) (func() error, error) {
		rec, err := r.Networks.Get(net)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(n.Attachments, func(a spec.Attachment) bool { return a.ID == rec.ID })
		if i < 0 {
			return nil, fmt.Errorf("container %s is not connected to network %s", ref, rec.Name)
		}
		if pid > 0 {
			if err := usernet.Disconnect(n.HolderDir, c.ID, n.Attachments[i]); err != nil {
				return nil, fmt.Errorf("disconnect from network %s: %w", rec.Name, err)
			}
		}
		if err := r.Networks.Detach(rec.Name, c.ID); err != nil {
			return nil, err
		}
		n.Attachments = slices.Delete(n.Attachments, i, i+1)
		if len(n.Attachments) == 0 {
			*n = network.Network{Mode: network.None}
		} else {
			n.Mode = n.Attachments[0].Network
		}
		left, ctr = rec.Name, c
		return nil, nil
	})
	if err != nil {
		return err
	}
	r.recordNetwork(events.Disconnect, ctr, left)
	return nil
}

// changeNetworks changes the network of a container under its state's
// lock; change is given the container's pid when it runs (else 0), and
// returns how to undo it should the configuration not be saved.
func (r *Runtime) changeNetworks(ref string, change func(c *Container, pid int, n *network.Network) (func() error, error)) error {
	c, _, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if c.Config == nil {
		return fmt.Errorf("%w: %s has no configuration", ErrNoSuchContainer, ref)
	}
	return spec.UpdateState(c.RunDir, func(st *spec.State) error {
		pid := 0
		if up(st) && alive(st.Pid, st.PidStart) {
			pid = st.Pid
		}
		cfg := *c.Config
		n := cfg.Host.Network
		n.Attachments = slices.Clone(n.Attachments)
		undo, err := change(c, pid, &n)
		if err != nil {
			return err
		}
		if err := saveNetworks(c, cfg, n); err != nil {
			if undo != nil {
				err = errors.Join(err, undo())
			}
			return err
		}
		return nil
	})
}

// saveNetworks writes c's configuration cfg with the network n.
func saveNetworks(c *Container, cfg spec.Config, n network.Network) error {
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
}
