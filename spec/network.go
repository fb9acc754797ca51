package spec

// The network of a container as the model holds it; package network parses
// the flags into these and runs the backends.

import (
	"fmt"
	"strconv"
	"strings"
)

// Network modes of --network.
const (
	NetworkNone        = "none"        // loopback only
	NetworkHost        = "host"        // the host's network namespace
	NetworkSlirp4netns = "slirp4netns" // user-mode TCP/IP by slirp4netns
	NetworkPasta       = "pasta"       // user-mode networking by pasta (package passt)
	// NetworkContainerPrefix starts container:NAME, another container's
	// namespace.
	NetworkContainerPrefix = "container:"
)

// Network is a parsed --network value.
type Network struct {
	// Mode is one of the Network* modes, or NetworkContainerPrefix+NAME.
	Mode string `json:"mode"`
	// AllowHostLoopback lets the container reach the host's loopback
	// through the gateway address (slirp4netns:allow_host_loopback=true,
	// pasta:--map-gw).
	AllowHostLoopback bool `json:"allowHostLoopback,omitempty"`
	// MTU of the container's interface; 0 is the backend's default.
	MTU int `json:"mtu,omitempty"`
	// CIDR is slirp4netns's network (slirp4netns:cidr=), a masked IPv4
	// prefix; "" is its default, 10.0.2.0/24.
	CIDR string `json:"cidr,omitempty"`
	// OutboundAddr binds outbound connections (slirp4netns:outbound_addr=).
	OutboundAddr string `json:"outboundAddr,omitempty"`
	// Args are further options of pasta, passed as they are.
	Args []string `json:"args,omitempty"`
	// NativePorts: the backend publishes ports itself
	// (slirp4netns:port_handler=slirp4netns, pasta:port_handler=pasta),
	// which keeps the client's address but is slower, and whose UDP replies
	// reach only clients that the container may reach (not the host's
	// loopback unless allowed). Otherwise the monitor's forwarder does.
	NativePorts bool `json:"nativePorts,omitempty"`
	// Attachments are the user-defined networks the container is on
	// (Mode is then the first one's name); empty for every other mode.
	Attachments []Attachment `json:"attachments,omitempty"`
	// HolderDir is where the holder of the user-defined networks keeps
	// its pid file and socket, with Attachments.
	HolderDir string `json:"holderDir,omitempty"`
	// MemberID and MemberName are the container's id and name, by which
	// the holder knows it (and answers its name), with Attachments.
	MemberID   string `json:"memberID,omitempty"`
	MemberName string `json:"memberName,omitempty"`
	// MemberNames are further names the member answers to on its
	// networks: a pod's infra answers for its pod and the pod's members.
	// Set as the container starts, never saved.
	MemberNames []string `json:"memberNames,omitempty"`
}

// Attachment is a container's place on a user-defined network: the
// network as it was when the container joined it, and the container's
// address and aliases on it.
type Attachment struct {
	Network  string `json:"network"`
	ID       string `json:"id"`
	Subnet   string `json:"subnet"`  // a masked IPv4 prefix
	Gateway  string `json:"gateway"` // the bridge's address, and the nameserver
	Internal bool   `json:"internal,omitempty"`
	// IP is the container's address in Subnet.
	IP      string   `json:"ip"`
	Aliases []string `json:"aliases,omitempty"`
}

// UserMode reports whether the mode runs a backend beside the container.
func (n Network) UserMode() bool { return n.Mode == NetworkSlirp4netns || n.Mode == NetworkPasta }

// Own reports whether the container gets a network namespace of its own.
func (n Network) Own() bool {
	return n.Mode != NetworkHost && !strings.HasPrefix(n.Mode, NetworkContainerPrefix)
}

// Port is one published port: HostPort on the host (on HostIP, or every
// address when empty) forwarded to ContainerPort in the container.
type Port struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	// Protocol is "tcp" or "udp".
	Protocol string `json:"protocol"`
}

// String is docker's form: 0.0.0.0:8080->80/tcp.
func (p Port) String() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s->%d/%s", HostPort(ip, p.HostPort), p.ContainerPort, p.Protocol)
}

// HostPort is IP:PORT, with brackets around an IPv6 address.
func HostPort(ip string, port uint16) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(int(port))
	}
	return ip + ":" + strconv.Itoa(int(port))
}

// Addresses are what a container sees of its network: its own address,
// the gateway (the host, as host.containers.internal), and the nameserver
// that stands in for the host's loopback resolvers. Empty where none.
type Addresses struct {
	IP      string `json:"ip,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	DNS     string `json:"dns,omitempty"`
}
