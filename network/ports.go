package network

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// maxRange bounds how many ports one -p may publish.
const maxRange = 1024

// ParsePublish reads -p [IP:][HOSTPORT:]CTRPORT[/tcp|/udp], where the ports
// may be ranges (8000-8010) of equal length. A missing or zero host port
// means a free one, chosen when the container starts (HostPort 0).
func ParsePublish(v string) ([]Port, error) {
	bad := func(why string) ([]Port, error) {
		return nil, fmt.Errorf("invalid port %q: %s; want [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]", v, why)
	}
	spec, proto, hasProto := strings.Cut(v, "/")
	if !hasProto {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return bad(fmt.Sprintf("protocol %q", proto))
	}
	var ip, host, ctr string
	// An IPv6 address comes in brackets: [::1]:8080:80.
	if strings.HasPrefix(spec, "[") {
		end := strings.Index(spec, "]")
		if end < 0 || len(spec) <= end+1 || spec[end+1] != ':' {
			return bad("unterminated [address]")
		}
		ip, spec = spec[1:end], spec[end+2:]
	}
	parts := strings.Split(spec, ":")
	switch {
	case len(parts) == 1:
		ctr = parts[0]
	case len(parts) == 2:
		host, ctr = parts[0], parts[1]
	case len(parts) == 3 && ip == "":
		ip, host, ctr = parts[0], parts[1], parts[2]
	default:
		return bad("too many ':'")
	}
	if ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return bad(fmt.Sprintf("%q is not an IP address", ip))
		}
		ip = addr.String()
	}
	cLo, cHi, err := parseRange(ctr, false)
	if err != nil {
		return bad(err.Error())
	}
	hLo, hHi := uint16(0), uint16(0)
	if host != "" {
		if hLo, hHi, err = parseRange(host, true); err != nil {
			return bad(err.Error())
		}
	}
	n := int(cHi-cLo) + 1
	if hLo != 0 && int(hHi-hLo)+1 != n {
		return bad("host and container ranges differ in length")
	}
	if hLo == 0 && hHi == 0 && host != "" && n != 1 {
		return bad("a range needs host ports, or none")
	}
	if n > maxRange {
		return bad(fmt.Sprintf("more than %d ports", maxRange))
	}
	out := make([]Port, 0, n)
	for i := 0; i < n; i++ {
		p := Port{HostIP: ip, ContainerPort: cLo + uint16(i), Protocol: proto}
		if hLo != 0 {
			p.HostPort = hLo + uint16(i)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseRange reads PORT or LO-HI; zero is allowed only when zeroOK (a
// host port of 0 means any).
func parseRange(s string, zeroOK bool) (uint16, uint16, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parsePort(lo, zeroOK && !isRange)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return a, a, nil
	}
	b, err := parsePort(hi, false)
	if err != nil {
		return 0, 0, err
	}
	if b < a {
		return 0, 0, fmt.Errorf("range %q runs backwards", s)
	}
	return a, b, nil
}

func parsePort(s string, zeroOK bool) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || (n == 0 && !zeroOK) {
		return 0, fmt.Errorf("%q is not a port from 1 to 65535", s)
	}
	return uint16(n), nil
}

// ParseExposed reads an image's ExposedPorts key, like "80/tcp".
func ParseExposed(k string) (uint16, string, error) {
	port, proto, _ := strings.Cut(k, "/")
	if proto == "" {
		proto = "tcp"
	}
	n, err := parsePort(port, false)
	if err != nil || (proto != "tcp" && proto != "udp") {
		return 0, "", fmt.Errorf("exposed port %q: want PORT[/tcp|/udp]", k)
	}
	return n, proto, nil
}

// Format lists ports as ps shows them, sorted and comma-separated.
func Format(ports []Port) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.String()
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
