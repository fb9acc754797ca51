package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// slirp4netns's fixed addresses in its default 10.0.2.0/24.
var slirpAddresses = Addresses{IP: "10.0.2.100", Gateway: "10.0.2.2", DNS: "10.0.2.3"}

// ParseSlirpCIDR checks slirp4netns:cidr=: an IPv4 prefix of 25 bits at
// most (slirp4netns puts the container at the 100th address), returned
// masked.
func ParseSlirpCIDR(v string) (string, error) {
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is4() {
		return "", fmt.Errorf("cidr=%q: want an IPv4 network like 10.0.3.0/24", v)
	}
	if p.Bits() < 1 || p.Bits() > 25 {
		return "", fmt.Errorf("cidr=%q: want a prefix length from 1 to 25, room for the container's address (the 100th)", v)
	}
	return p.Masked().String(), nil
}

// slirpAddressesIn are slirp4netns's addresses in the network cidr (a
// value of ParseSlirpCIDR; "" is the default): the gateway the 2nd, the
// DNS server the 3rd, the container the 100th.
func slirpAddressesIn(cidr string) (Addresses, error) {
	if cidr == "" {
		return slirpAddresses, nil
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return Addresses{}, fmt.Errorf("slirp4netns network %q: not an IPv4 network", cidr)
	}
	base := p.Masked().Addr().As4()
	at := func(n byte) string {
		a := base
		a[3] += n // the prefix is 25 bits at most: no carry
		return netip.AddrFrom4(a).String()
	}
	return Addresses{IP: at(100), Gateway: at(2), DNS: at(3)}, nil
}

// pastaDNS is the address pasta answers DNS on (--dns-forward), as podman
// uses it.
const pastaDNS = "169.254.1.1"

// Names are the container's own name entries and the user's additions.
type Names struct {
	Hostname string
	Name     string
	// ExtraHosts are --add-host entries, "HOST IP".
	ExtraHosts []string
	// DNS, DNSSearch, DNSOptions replace resolv.conf's lines when given.
	DNS, DNSSearch, DNSOptions []string
}

// HostsFile is the container's /etc/hosts. With the host's network it is
// the host's file; otherwise loopback names, the container's own address
// and names, host.containers.internal when there is a gateway; then the
// user's --add-host entries.
func HostsFile(n Network, a Addresses, names Names, hostHosts []byte) []byte {
	var b bytes.Buffer
	if n.Mode == Host {
		b.Write(hostHosts)
		if len(hostHosts) > 0 && !bytes.HasSuffix(hostHosts, []byte("\n")) {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString("127.0.0.1\tlocalhost\n")
		b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
		own := names.Hostname
		if names.Name != "" && names.Name != names.Hostname {
			own += " " + names.Name
		}
		ip := a.IP
		if ip == "" {
			ip = "127.0.0.1"
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, own)
		if a.Gateway != "" {
			fmt.Fprintf(&b, "%s\thost.containers.internal host.docker.internal\n", a.Gateway)
		}
	}
	for _, h := range names.ExtraHosts {
		host, ip, _ := strings.Cut(h, " ")
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	return b.Bytes()
}

// ResolvConf is the container's /etc/resolv.conf: the host's, with its
// loopback nameservers (unreachable from a network namespace of its own)
// replaced by the backend's, or dropped when there is none; --dns,
// --dns-search and --dns-option replace their lines.
func ResolvConf(n Network, a Addresses, names Names, host []byte) []byte {
	var b bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 1 {
			switch {
			case fields[0] == "nameserver" && len(names.DNS) > 0,
				fields[0] == "search" && len(names.DNSSearch) > 0,
				fields[0] == "options" && len(names.DNSOptions) > 0:
				continue
			case fields[0] == "nameserver" && len(n.Attachments) > 0:
				// The holder answers the network's names and relays the rest.
				if servers == 0 {
					fmt.Fprintf(&b, "nameserver %s\n", a.DNS)
					servers++
				}
				continue
			case fields[0] == "nameserver" && len(fields) >= 2 && n.Mode != Host:
				if addr, err := netip.ParseAddr(fields[1]); err == nil && addr.IsLoopback() {
					if a.DNS != "" && servers == 0 {
						fmt.Fprintf(&b, "nameserver %s\n", a.DNS)
						servers++
					}
					continue
				}
				servers++
			case fields[0] == "nameserver":
				servers++
			}
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	for _, d := range names.DNS {
		fmt.Fprintf(&b, "nameserver %s\n", d)
		servers++
	}
	if servers == 0 && a.DNS != "" {
		fmt.Fprintf(&b, "nameserver %s\n", a.DNS)
	}
	if len(names.DNSSearch) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(names.DNSSearch, " "))
	}
	if len(names.DNSOptions) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(names.DNSOptions, " "))
	}
	return b.Bytes()
}

// ParseAddHost reads --add-host HOST:IP (docker's form; HOST=IP too), with
// IP "host-gateway" for the gateway address. It returns "HOST IP".
func ParseAddHost(v, gateway string) (string, error) {
	host, ip, ok := strings.Cut(v, ":")
	if h, i, eq := strings.Cut(v, "="); eq && (!ok || len(h) < len(host)) {
		host, ip, ok = h, i, true
	}
	if !ok || host == "" || !validHostname(host) {
		return "", fmt.Errorf("invalid --add-host %q: want HOST:IP", v)
	}
	if ip == "host-gateway" {
		if gateway == "" {
			return "", fmt.Errorf("invalid --add-host %q: this network has no gateway to the host", v)
		}
		ip = gateway
	}
	ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", fmt.Errorf("invalid --add-host %q: %q is not an IP address", v, ip)
	}
	return host + " " + addr.String(), nil
}

// ParseDNS reads a --dns address.
func ParseDNS(v string) (string, error) {
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return "", fmt.Errorf("invalid --dns %q: want an IP address", v)
	}
	return addr.String(), nil
}

// ParseDNSSearch reads a --dns-search domain ("." clears the search list).
func ParseDNSSearch(v string) (string, error) {
	if v != "." && !validHostname(strings.TrimSuffix(v, ".")) {
		return "", fmt.Errorf("invalid --dns-search %q: want a domain name", v)
	}
	return v, nil
}

// ParseDNSOption reads a --dns-option, like ndots:2 or edns0.
func ParseDNSOption(v string) (string, error) {
	if v == "" || strings.ContainsAny(v, " \t\n") {
		return "", fmt.Errorf("invalid --dns-option %q: want one option, like ndots:2", v)
	}
	return v, nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
