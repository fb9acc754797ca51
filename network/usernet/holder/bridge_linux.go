package holder

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"sandbox/spec"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// bridge is a network's bridge in the holder's namespace.
type bridge struct {
	name     string
	index    int
	internal bool
	subnet   netip.Prefix
}

// bridgeName is the bridge of the network whose id is id: "sbr" and
// eleven characters of the id.
func bridgeName(id string) string {
	if len(id) > 11 {
		id = id[:11]
	}
	return "sbr" + id
}

func setupLoopback() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// makeBridge makes a's bridge with the gateway's address, up.
func makeBridge(a spec.Attachment) (*bridge, error) {
	name := bridgeName(a.ID)
	if l, err := netlink.LinkByName(name); err == nil {
		// Made by this holder for a network since removed and made again
		// under the same id: never; keep it simple and start afresh.
		if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return nil, fmt.Errorf("remove stale bridge %s: %w", name, err)
		}
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		return nil, fmt.Errorf("add bridge %s: %w", name, err)
	}
	ok := false
	defer func() {
		if !ok {
			netlink.LinkDel(br)
		}
	}()
	addr, err := gatewayAddr(a)
	if err != nil {
		return nil, err
	}
	if err := netlink.AddrAdd(br, addr); err != nil {
		return nil, fmt.Errorf("address %s on %s: %w", addr, name, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return nil, fmt.Errorf("bridge %s up: %w", name, err)
	}
	ok = true
	return &bridge{name: name, index: br.Attrs().Index}, nil
}

func gatewayAddr(a spec.Attachment) (*netlink.Addr, error) {
	return netlink.ParseAddr(a.Gateway + "/" + prefixLen(a.Subnet))
}

func prefixLen(subnet string) string {
	_, n, err := net.ParseCIDR(subnet)
	if err != nil {
		return "32"
	}
	ones, _ := n.Mask.Size()
	return fmt.Sprint(ones)
}

// attachVeth makes a veth pair whose host end veth is on br and whose
// other end is ethI in the container's namespace, with the container's
// address and, on its first network unless internal, the default route
// through the gateway.
func attachVeth(br *bridge, veth string, ctr *os.File, i int, a spec.Attachment) error {
	if l, err := netlink.LinkByName(veth); err == nil {
		// Left by a namespace the kernel has not finished destroying.
		// ENODEV: the kernel finished meanwhile.
		if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("remove stale %s: %w", veth, err)
		}
	}
	inner := fmt.Sprintf("eth%d", i)
	h, err := netlink.NewHandleAt(netns.NsHandle(int(ctr.Fd())))
	if err != nil {
		return fmt.Errorf("the container's namespace: %w", err)
	}
	defer h.Close()
	if l, err := h.LinkByName(inner); err == nil {
		// The end of a veth on the bridge of a holder that was killed,
		// whose namespace something still holds: the member rejoins.
		if err := h.LinkDel(l); err != nil {
			return fmt.Errorf("remove the old %s in the container: %w", inner, err)
		}
	}
	v := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: veth, MasterIndex: br.index},
		PeerName:      inner,
		PeerNamespace: netlink.NsFd(int(ctr.Fd())),
	}
	if err := netlink.LinkAdd(v); err != nil {
		return fmt.Errorf("add veth %s: %w", veth, err)
	}
	ok := false
	defer func() {
		if !ok {
			deleteLink(veth)
		}
	}()
	host, err := netlink.LinkByName(veth)
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return fmt.Errorf("%s up: %w", veth, err)
	}
	link, err := h.LinkByName(inner)
	if err != nil {
		return fmt.Errorf("%s in the container: %w", inner, err)
	}
	addr, err := netlink.ParseAddr(a.IP + "/" + prefixLen(a.Subnet))
	if err != nil {
		return err
	}
	if err := h.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("address %s: %w", addr, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("%s up: %w", inner, err)
	}
	if lo, err := h.LinkByName("lo"); err == nil {
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("loopback up: %w", err)
		}
	}
	if i == 0 && !a.Internal {
		gw := net.ParseIP(a.Gateway)
		if err := h.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: gw}); err != nil {
			return fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	ok = true
	return nil
}

func deleteLink(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

// answerTable routes every address to the holder itself: the policy
// rules of published ports (portRule) send a container's answers to a
// forwarded client there, where the forwarder's transparent socket
// takes them, instead of out through slirp4netns.
const answerTable = 1000

func setupAnswerTable() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	_, all, _ := net.ParseCIDR("0.0.0.0/0")
	r := &netlink.Route{LinkIndex: lo.Attrs().Index, Dst: all, Type: unix.RTN_LOCAL, Table: answerTable, Scope: netlink.SCOPE_HOST}
	if err := netlink.RouteReplace(r); err != nil {
		return fmt.Errorf("table of answers to published ports: %w", err)
	}
	return nil
}

// portRule sends what the container at ip answers from a published
// port to answerTable.
type portRule struct {
	ip    string
	port  uint16
	proto string
}

func (p portRule) rule() *netlink.Rule {
	r := netlink.NewRule()
	r.Table = answerTable
	r.Src = &net.IPNet{IP: net.ParseIP(p.ip).To4(), Mask: net.CIDRMask(32, 32)}
	r.Sport = netlink.NewRulePortRange(p.port, p.port)
	r.IPProto = unix.IPPROTO_TCP
	if p.proto == "udp" {
		r.IPProto = unix.IPPROTO_UDP
	}
	r.Priority = 100
	return r
}

func (p portRule) add() error {
	if err := netlink.RuleAdd(p.rule()); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("route answers from %s:%d/%s: %w", p.ip, p.port, p.proto, err)
	}
	return nil
}

func (p portRule) del() error {
	if err := netlink.RuleDel(p.rule()); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove route of answers from %s:%d/%s: %w", p.ip, p.port, p.proto, err)
	}
	return nil
}
