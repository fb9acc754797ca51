package network

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// AddressesFor are the addresses a container on network n sees. pasta
// copies the host's: the address of the interface of its default route,
// and its gateway.
func AddressesFor(n Network) (Addresses, error) {
	if len(n.Attachments) > 0 {
		a := n.Attachments[0]
		return Addresses{IP: a.IP, Gateway: a.Gateway, DNS: a.Gateway}, nil
	}
	switch n.Mode {
	case Slirp4netns:
		return slirpAddressesIn(n.CIDR)
	case Pasta:
		// The calling thread's routes: /proc/net is the main thread's
		// namespace, which in a process with a forwarder (its dialing
		// thread has entered a container's namespace) may not be the
		// host's. Threads that are not locked stay in the host's.
		data, err := os.ReadFile("/proc/thread-self/net/route")
		if err != nil {
			return Addresses{}, fmt.Errorf("read routes: %w", err)
		}
		iface, gw, err := ParseDefaultRoute(data)
		if err != nil {
			return Addresses{}, err
		}
		ip, err := interfaceAddr(iface)
		if err != nil {
			return Addresses{}, err
		}
		return Addresses{IP: ip, Gateway: gw, DNS: pastaDNS}, nil
	}
	return Addresses{}, nil
}

// ParseDefaultRoute finds the default IPv4 route in /proc/net/route: its
// interface and gateway.
func ParseDefaultRoute(data []byte) (iface, gateway string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		raw, err := hex.DecodeString(f[2])
		if err != nil || len(raw) != 4 {
			continue
		}
		// The kernel prints the address in host (little-endian) order.
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], binary.LittleEndian.Uint32(raw))
		return f[0], netip.AddrFrom4(b).String(), nil
	}
	return "", "", fmt.Errorf("no default IPv4 route: pasta copies the host's address and routes, and the host has none")
}

// interfaceAddr is an interface's IPv4 address.
func interfaceAddr(name string) (string, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("address of %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return "", fmt.Errorf("address of %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFADDR, ifr); err != nil {
		return "", fmt.Errorf("address of %s: %w", name, err)
	}
	ip, err := ifr.Inet4Addr()
	if err != nil {
		return "", fmt.Errorf("address of %s: %w", name, err)
	}
	return netip.AddrFrom4([4]byte(ip)).String(), nil
}
