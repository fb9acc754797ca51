package container

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"sandbox/network"
	"sandbox/network/usernet"
	"sandbox/spec"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// NetworkOptions are the network flags of create and run.
type NetworkOptions struct {
	// Network is --network; "" is the default (network.DefaultMode).
	Network string
	// Publish are -p values; PublishAll is -P (the image's exposed ports,
	// on free host ports).
	Publish    []string
	PublishAll bool
	DNS        []string
	DNSSearch  []string
	DNSOptions []string
	AddHosts   []string
	// Aliases and IP are --network-alias and --ip, on a user-defined
	// network (usernet.go).
	Aliases []string
	IP      string
}

// netFlags is the network part of the checked flags.
type netFlags struct {
	net   network.Network
	ports []network.Port
	names network.Names // DNS, search, options and extra hosts (no hostname yet)
	// join is the container whose network namespace this one joins.
	join *joinTarget
}

type joinTarget struct {
	id  string
	ref spec.ProcessRef
	cfg *spec.Config
}

// checkNetwork parses the network flags; nothing on the host is touched.
func checkNetwork(o *NetworkOptions) (*netFlags, error) {
	mode := o.Network
	// bridge is what docker and compose say for "the default network";
	// rootless podman maps it to its rootless default too.
	if mode == "" || mode == "bridge" {
		m, err := network.DefaultMode()
		if err != nil {
			return nil, err
		}
		mode = m
	}
	n, err := network.ParseNetwork(mode)
	if userNetwork(mode) {
		// A user-defined network: found, and joined, by attachNetworks.
		n, err = network.Network{Mode: mode}, usernet.CheckName(mode)
	}
	if err != nil {
		return nil, err
	}
	f := &netFlags{net: n}
	if n.UserMode() {
		if _, err := network.Program(n.Mode); err != nil {
			return nil, err
		}
	}
	for _, p := range o.Publish {
		ports, err := network.ParsePublish(p)
		if err != nil {
			return nil, err
		}
		f.ports = append(f.ports, ports...)
	}
	if (len(f.ports) > 0 || o.PublishAll) && !n.UserMode() && !userNetwork(mode) {
		return nil, fmt.Errorf("publishing ports needs --network slirp4netns or pasta, not %q", mode)
	}
	for _, d := range o.DNS {
		v, err := network.ParseDNS(d)
		if err != nil {
			return nil, err
		}
		f.names.DNS = append(f.names.DNS, v)
	}
	for _, d := range o.DNSSearch {
		v, err := network.ParseDNSSearch(d)
		if err != nil {
			return nil, err
		}
		f.names.DNSSearch = append(f.names.DNSSearch, v)
	}
	for _, d := range o.DNSOptions {
		v, err := network.ParseDNSOption(d)
		if err != nil {
			return nil, err
		}
		f.names.DNSOptions = append(f.names.DNSOptions, v)
	}
	addrs, err := network.AddressesFor(n)
	if err != nil {
		return nil, err
	}
	for _, h := range o.AddHosts {
		v, err := network.ParseAddHost(h, addrs.Gateway)
		if err != nil {
			return nil, err
		}
		f.names.ExtraHosts = append(f.names.ExtraHosts, v)
	}
	return f, nil
}

// preparePorts adds -P's ports from the image, chooses free host ports for
// those without one, and refuses ports the user may not bind or that are
// in use, naming them.
func preparePorts(f *netFlags, publishAll bool, img *v1.ImageConfig) error {
	if publishAll {
		var exposed []string
		for k := range img.ExposedPorts {
			exposed = append(exposed, k)
		}
		sort.Strings(exposed)
		for _, k := range exposed {
			port, proto, err := network.ParseExposed(k)
			if err != nil {
				return err
			}
			f.ports = append(f.ports, network.Port{ContainerPort: port, Protocol: proto})
		}
	}
	if len(f.ports) == 0 {
		return nil
	}
	lowest := unprivilegedPortStart()
	seen := map[string]bool{}
	for i := range f.ports {
		p := &f.ports[i]
		if p.HostPort == 0 {
			port, err := freePort(p.HostIP, p.Protocol)
			if err != nil {
				return err
			}
			p.HostPort = port
		}
		key := fmt.Sprintf("%s/%s/%d", p.HostIP, p.Protocol, p.HostPort)
		if seen[key] {
			return fmt.Errorf("port %d/%s is published twice", p.HostPort, p.Protocol)
		}
		seen[key] = true
		if int(p.HostPort) < lowest {
			return fmt.Errorf("port %d is below net.ipv4.ip_unprivileged_port_start (%d): an unprivileged user cannot bind it; publish a higher port, or allow it with: sudo sysctl -w net.ipv4.ip_unprivileged_port_start=%d", p.HostPort, lowest, p.HostPort)
		}
		if err := portFree(*p); err != nil {
			return err
		}
	}
	return nil
}

// unprivilegedPortStart reads net.ipv4.ip_unprivileged_port_start (1024
// when it cannot be read, as the kernel's default).
func unprivilegedPortStart() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return 1024
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 1024
	}
	return n
}

// freePort asks the kernel for a free port.
func freePort(ip, proto string) (uint16, error) {
	addr := net.JoinHostPort(ip, "0")
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, fmt.Errorf("find a free udp port: %w", err)
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("find a free tcp port: %w", err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}

// portFree refuses a host port that something else holds.
func portFree(p network.Port) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(int(p.HostPort)))
	var err error
	if p.Protocol == "udp" {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", addr); err == nil {
			c.Close()
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			l.Close()
		}
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("port %d/%s: %w", p.HostPort, p.Protocol, err)
		}
		return fmt.Errorf("port %d/%s is in use on the host: free it, or publish another (%v)", p.HostPort, p.Protocol, err)
	}
	return nil
}

// resolveJoin finds the running container whose network a container:NAME
// network joins.
func (r *Runtime) resolveJoin(ctx context.Context, f *netFlags) error {
	name, ok := strings.CutPrefix(f.net.Mode, network.ContainerPrefix)
	if !ok {
		return nil
	}
	if err := r.openStore(); err != nil {
		return err
	}
	c, st, err := r.lookupState(name)
	if err != nil {
		return fmt.Errorf("--network %s: %w", f.net.Mode, err)
	}
	if (st.Status != spec.StatusRunning || !alive(st.Pid, st.PidStart)) && c.Config != nil && c.Config.Infra {
		// A pod's member starts its pod's infra container, as podman's do.
		if _, _, err := r.StartContainer(ctx, c.ID, false); err != nil {
			return fmt.Errorf("start the infra container of pod %s: %w", c.Config.PodName, err)
		}
		if c, st, err = r.lookupState(c.ID); err != nil {
			return fmt.Errorf("--network %s: %w", f.net.Mode, err)
		}
	}
	if st.Status != spec.StatusRunning || !alive(st.Pid, st.PidStart) {
		return fmt.Errorf("--network %s: %w: start it first", f.net.Mode, ErrNotRunning)
	}
	f.net.Mode = network.ContainerPrefix + c.ID
	f.join = &joinTarget{id: c.ID, ref: spec.ProcessRef{Pid: st.Pid, Start: st.PidStart}, cfg: c.Config}
	return nil
}
