// Package network gives a container's network namespace its way out and
// its published ports, from the host's side of the namespace, behind two
// small interfaces (driver.go): a Backend (slirp4netns, pasta, the
// user-defined networks' holder; none, host and container: attach
// nothing) and a PortHandler (sandbox's own forwarder, which keeps the
// client's address with a transparent dial, or the backend's own
// forwarding), each in files named after it and chosen in one place
// (BackendFor, PortHandlerFor); package network/conformance is the suite
// every pair passes. A container on user-defined networks joins them
// through package network/usernet (usernet_linux.go). It also says what
// the container's /etc/hosts and /etc/resolv.conf hold, and parses
// --network, -p, --dns and --add-host.
//
// The monitor links this package: the standard library, x/sys,
// sandbox/spec, sandbox/internal and network/usernet only; not the net
// package (the forwarder works on raw descriptors, the answer routes are
// set by raw netlink).
package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sandbox/spec"
)

// Network modes of --network, and the network model: the model's own
// (package spec), by their names here.
const (
	None            = spec.NetworkNone
	Host            = spec.NetworkHost
	Slirp4netns     = spec.NetworkSlirp4netns
	Pasta           = spec.NetworkPasta
	ContainerPrefix = spec.NetworkContainerPrefix
)

type (
	Network    = spec.Network
	Port       = spec.Port
	Addresses  = spec.Addresses
	Attachment = spec.Attachment
)

// ParseNetwork reads --network: none, host, container:NAME,
// slirp4netns[:OPT=VALUE,...] or pasta[:ARG,...]. An empty value is the
// default (see Default).
func ParseNetwork(v string) (Network, error) {
	mode, opts, hasOpts := strings.Cut(v, ":")
	n := Network{Mode: mode}
	bad := func(why string) (Network, error) {
		return Network{}, fmt.Errorf("invalid --network %q: %s", v, why)
	}
	switch mode {
	case None, Host:
		if hasOpts {
			return bad(mode + " takes no options")
		}
	case "container":
		if opts == "" {
			return bad("want container:NAME")
		}
		n.Mode = ContainerPrefix + opts
	case Slirp4netns:
		if !hasOpts {
			break
		}
		for _, o := range strings.Split(opts, ",") {
			k, val, _ := strings.Cut(o, "=")
			switch k {
			case "allow_host_loopback":
				b, err := strconv.ParseBool(val)
				if err != nil {
					return bad(fmt.Sprintf("allow_host_loopback=%q is not true or false", val))
				}
				n.AllowHostLoopback = b
			case "mtu":
				m, err := strconv.Atoi(val)
				if err != nil || m < 576 || m > 65521 {
					return bad(fmt.Sprintf("mtu=%q: want a number from 576 to 65521", val))
				}
				n.MTU = m
			case "cidr":
				c, err := ParseSlirpCIDR(val)
				if err != nil {
					return bad(err.Error())
				}
				n.CIDR = c
			case "outbound_addr":
				n.OutboundAddr = val
			case "port_handler":
				switch val {
				case Slirp4netns:
					n.NativePorts = true
				case "builtin":
				default:
					return bad(fmt.Sprintf("port_handler=%q: want builtin or slirp4netns", val))
				}
			default:
				return bad(fmt.Sprintf("unknown slirp4netns option %q: want allow_host_loopback, cidr, mtu, outbound_addr or port_handler", k))
			}
		}
	case Pasta:
		if !hasOpts {
			break
		}
		for _, a := range strings.Split(opts, ",") {
			switch a {
			case "--map-gw":
				n.AllowHostLoopback = true
			case "port_handler=pasta":
				n.NativePorts = true
			case "port_handler=builtin":
			case "--no-map-gw":
			case "-f", "--foreground", "--netns", "--config-net", "-P", "--pid":
				return bad(fmt.Sprintf("pasta option %q is sandbox's to set", a))
			default:
				n.Args = append(n.Args, a)
			}
		}
	default:
		return bad("want none, host, container:NAME, slirp4netns[:OPTIONS] or pasta[:OPTIONS]")
	}
	return n, nil
}

// Packages name the Debian package of each backend.
var Packages = map[string]string{Slirp4netns: "slirp4netns", Pasta: "passt"}

// ErrNoBackend is a user-mode backend that is not installed.
var ErrNoBackend = errors.New("network backend not installed")

// Program finds a backend's program.
func Program(mode string) (string, error) {
	p, err := lookPath(mode)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found: install the %s package (apt-get install %s), or use --network none", ErrNoBackend, mode, Packages[mode], Packages[mode])
	}
	return p, nil
}

// DefaultMode is the backend used when --network is not given: slirp4netns
// when installed (it sets up in about 5 ms, against about 17 ms for pasta
// on this kind of machine), else pasta.
func DefaultMode() (string, error) {
	for _, m := range []string{Slirp4netns, Pasta} {
		if _, err := lookPath(m); err == nil {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w: neither slirp4netns nor pasta is installed: apt-get install slirp4netns, or use --network none", ErrNoBackend)
}

// lookPath finds an executable file named name in $PATH.
func lookPath(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not in $PATH", name)
}
