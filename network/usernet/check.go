package usernet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// wayOut is slirp4netns's network in the holder's namespace: no user
// network may overlap it.
var wayOut = netip.MustParsePrefix("10.0.2.0/24")

// reservedNames are --network modes, which no network may be named.
var reservedNames = []string{"none", "host", "bridge", "podman", "slirp4netns", "pasta", "private", "default", "container", "ns"}

// CheckName refuses a network name podman would refuse, and the names of
// --network modes.
func CheckName(name string) error {
	if !hostChars(name, "_.-") || len(name) > 200 {
		return fmt.Errorf("invalid network name %q: want letters, digits, '_', '.' or '-', starting with a letter or digit", name)
	}
	if slices.Contains(reservedNames, name) {
		return fmt.Errorf("network name %q is reserved for --network %s: choose another", name, name)
	}
	return nil
}

// hostChars reports whether s is a letter or digit, then letters, digits
// and characters of extra (a pattern checked by hand: a regexp compiled
// at init would cost every sandbox command's start).
func hostChars(s, extra string) bool {
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune(extra, c)) {
			return false
		}
	}
	return s != ""
}

// CheckAlias refuses a --network-alias that is no host name.
func CheckAlias(a string) error {
	if !hostChars(a, "_.-") || strings.HasSuffix(a, "-") || strings.HasSuffix(a, ".") || len(a) > 253 {
		return fmt.Errorf("invalid --network-alias %q: want a host name (letters, digits, '.', '-', '_')", a)
	}
	return nil
}

type namedPrefix struct {
	p    netip.Prefix
	what string
}

// chooseSubnet checks --subnet and --gateway against the prefixes taken,
// or chooses the first free 10.89.N.0/24 and its first address.
func chooseSubnet(subnet, gateway string, taken []namedPrefix) (netip.Prefix, netip.Addr, error) {
	overlap := func(p netip.Prefix) *namedPrefix {
		for i := range taken {
			if taken[i].p.Overlaps(p) {
				return &taken[i]
			}
		}
		return nil
	}
	var p netip.Prefix
	if subnet == "" {
		if gateway != "" {
			return p, netip.Addr{}, fmt.Errorf("--gateway %s needs --subnet", gateway)
		}
		for n := 0; n < 256; n++ {
			c := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 89, byte(n), 0}), 24)
			if overlap(c) == nil {
				p = c
				break
			}
		}
		if !p.IsValid() {
			return p, netip.Addr{}, fmt.Errorf("no free subnet left in 10.89.0.0/16: give one with --subnet")
		}
	} else {
		var err error
		p, err = netip.ParsePrefix(subnet)
		if err != nil || !p.Addr().Is4() {
			return p, netip.Addr{}, fmt.Errorf("invalid --subnet %q: want an IPv4 network like 10.90.0.0/24", subnet)
		}
		if p.Bits() > 30 || p.Bits() < 8 {
			return p, netip.Addr{}, fmt.Errorf("invalid --subnet %q: want a prefix length from 8 to 30", subnet)
		}
		p = p.Masked()
		if o := overlap(p); o != nil {
			return p, netip.Addr{}, fmt.Errorf("subnet %s overlaps %s (%s): choose another --subnet", p, o.what, o.p)
		}
	}
	gw := p.Addr().Next()
	if gateway != "" {
		g, err := netip.ParseAddr(gateway)
		if err != nil || !g.Is4() {
			return p, netip.Addr{}, fmt.Errorf("invalid --gateway %q: want an IPv4 address", gateway)
		}
		if !usable(p, g) {
			return p, netip.Addr{}, fmt.Errorf("--gateway %s is not a host address of subnet %s", g, p)
		}
		gw = g
	}
	return p, gw, nil
}

// usable reports whether a is one of p's host addresses (not its network
// or broadcast address).
func usable(p netip.Prefix, a netip.Addr) bool {
	if !p.Contains(a) || a == p.Addr() {
		return false
	}
	return a != lastAddr(p)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// chooseIP checks --ip against rec, or chooses its first free address.
func chooseIP(rec *Record, want string) (netip.Addr, error) {
	p, err := netip.ParsePrefix(rec.Subnet)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("network %s: %w", rec.Name, err)
	}
	taken := map[string]string{rec.Gateway: "the gateway"}
	for _, m := range rec.Members {
		taken[m.IP] = "container " + m.Name
	}
	if want != "" {
		a, err := netip.ParseAddr(want)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("invalid --ip %q: want an IPv4 address", want)
		}
		if !usable(p, a) {
			return netip.Addr{}, fmt.Errorf("--ip %s is not a host address of network %s (%s)", a, rec.Name, p)
		}
		if who, ok := taken[a.String()]; ok {
			return netip.Addr{}, fmt.Errorf("--ip %s is taken on network %s by %s", a, rec.Name, who)
		}
		return a, nil
	}
	last := lastAddr(p)
	for a := p.Addr().Next(); a.IsValid() && a != last; a = a.Next() {
		if _, ok := taken[a.String()]; !ok {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("network %s (%s) has no free address left", rec.Name, p)
}

// HostRoutes reads the host's IPv4 routes (the calling thread's network
// namespace), which a new network must not overlap; the default route
// is left out.
func HostRoutes() ([]netip.Prefix, error) {
	data, err := os.ReadFile("/proc/thread-self/net/route")
	if err != nil {
		return nil, fmt.Errorf("read the host's routes: %w", err)
	}
	return ParseRoutes(data)
}

// ParseRoutes parses /proc/net/route into the routed prefixes, without
// the default route.
func ParseRoutes(data []byte) ([]netip.Prefix, error) {
	var out []netip.Prefix
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		dst, err1 := hexAddr(f[1])
		mask, err2 := hexAddr(f[7])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad route line %q", sc.Text())
		}
		m := mask.As4()
		bits := 0
		for _, b := range m {
			for i := 7; i >= 0 && b&(1<<i) != 0; i-- {
				bits++
			}
		}
		if bits == 0 {
			continue
		}
		out = append(out, netip.PrefixFrom(dst, bits).Masked())
	}
	return out, nil
}

// hexAddr reads an address of /proc/net/route: 8 hex digits, in the
// host's (little-endian) byte order.
func hexAddr(s string) (netip.Addr, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, fmt.Errorf("bad address %q", s)
	}
	return netip.AddrFrom4([4]byte{b[3], b[2], b[1], b[0]}), nil
}
