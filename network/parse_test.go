// Unit tests (privilege tier: none) of the network flag parsers and of
// the container's /etc/hosts and /etc/resolv.conf.

package network

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParsePublish(t *testing.T) {
	tests := []struct {
		in      string
		want    []Port
		wantErr string
	}{
		{in: "80", want: []Port{{ContainerPort: 80, Protocol: "tcp"}}},
		{in: "8080:80", want: []Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		{in: "8080:80/udp", want: []Port{{HostPort: 8080, ContainerPort: 80, Protocol: "udp"}}},
		{in: "127.0.0.1:8080:80", want: []Port{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		{in: "127.0.0.1::80", want: []Port{{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"}}},
		{in: "[::1]:8080:80", want: []Port{{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		{in: "8000-8001:90-91", want: []Port{{HostPort: 8000, ContainerPort: 90, Protocol: "tcp"}, {HostPort: 8001, ContainerPort: 91, Protocol: "tcp"}}},
		{in: "90-91", want: []Port{{ContainerPort: 90, Protocol: "tcp"}, {ContainerPort: 91, Protocol: "tcp"}}},
		{in: "0:80", want: []Port{{ContainerPort: 80, Protocol: "tcp"}}},
		{in: "8080:80/sctp", wantErr: `invalid port "8080:80/sctp": protocol "sctp"`},
		{in: "8080:0", wantErr: `"0" is not a port`},
		{in: "70000:80", wantErr: `"70000" is not a port`},
		{in: "a:b:c:d", wantErr: "too many ':'"},
		{in: "nothost:8080:80", wantErr: `"nothost" is not an IP address`},
		{in: "8000-8002:90-91", wantErr: "differ in length"},
		{in: "91-90", wantErr: "runs backwards"},
		{in: "1-2000", wantErr: "more than 1024 ports"},
		{in: "[::1:80", wantErr: "unterminated"},
		{in: "", wantErr: "is not a port"},
	}
	for _, tt := range tests {
		got, err := ParsePublish(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePublish(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParsePublish(f *testing.F) {
	for _, s := range []string{"80", "8080:80/udp", "127.0.0.1:8000-8010:80-90", "[::1]::53/udp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePublish(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid port") {
				t.Fatalf("error does not name the value: %v", err)
			}
			return
		}
		if len(ports) == 0 || len(ports) > maxRange {
			t.Fatalf("%q gave %d ports", s, len(ports))
		}
		for _, p := range ports {
			if p.ContainerPort == 0 || (p.Protocol != "tcp" && p.Protocol != "udp") {
				t.Fatalf("%q gave %+v", s, p)
			}
		}
	})
}

func TestParseNetwork(t *testing.T) {
	tests := []struct {
		in      string
		want    Network
		wantErr string
	}{
		{in: "none", want: Network{Mode: None}},
		{in: "host", want: Network{Mode: Host}},
		{in: "slirp4netns", want: Network{Mode: Slirp4netns}},
		{in: "slirp4netns:allow_host_loopback=true,mtu=1500", want: Network{Mode: Slirp4netns, AllowHostLoopback: true, MTU: 1500}},
		{in: "slirp4netns:port_handler=slirp4netns", want: Network{Mode: Slirp4netns, NativePorts: true}},
		{in: "slirp4netns:cidr=10.0.3.0/24", want: Network{Mode: Slirp4netns, CIDR: "10.0.3.0/24"}},
		{in: "slirp4netns:cidr=192.168.7.9/25,mtu=1500", want: Network{Mode: Slirp4netns, CIDR: "192.168.7.0/25", MTU: 1500}},
		{in: "slirp4netns:cidr=10.0.3.0/26", wantErr: `invalid --network "slirp4netns:cidr=10.0.3.0/26": cidr="10.0.3.0/26": want a prefix length from 1 to 25`},
		{in: "slirp4netns:cidr=fd00::/64", wantErr: "want an IPv4 network"},
		{in: "slirp4netns:cidr=10.0.3.0", wantErr: "want an IPv4 network"},
		{in: "pasta", want: Network{Mode: Pasta}},
		{in: "pasta:--map-gw,-4", want: Network{Mode: Pasta, AllowHostLoopback: true, Args: []string{"-4"}}},
		{in: "pasta:port_handler=pasta", want: Network{Mode: Pasta, NativePorts: true}},
		{in: "container:web", want: Network{Mode: ContainerPrefix + "web"}},
		{in: "bridge", wantErr: `invalid --network "bridge"`},
		{in: "host:x", wantErr: "takes no options"},
		{in: "container:", wantErr: "want container:NAME"},
		{in: "slirp4netns:mtu=10", wantErr: "mtu"},
		{in: "slirp4netns:allow_host_loopback=maybe", wantErr: "allow_host_loopback"},
		{in: "slirp4netns:port_handler=rootlesskit", wantErr: "port_handler"},
		{in: "pasta:--netns", wantErr: "sandbox's to set"},
	}
	for _, tt := range tests {
		got, err := ParseNetwork(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseNetwork(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseNetwork(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if n := (Network{Mode: Host}); n.Own() || n.UserMode() {
		t.Error("host network counted as own or user-mode")
	}
	if n := (Network{Mode: ContainerPrefix + "x"}); n.Own() {
		t.Error("container: network counted as own")
	}
}

func FuzzParseNetwork(f *testing.F) {
	for _, s := range []string{"none", "slirp4netns:mtu=1500", "pasta:--map-gw", "container:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNetwork(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--network") {
				t.Fatalf("error does not name the flag: %v", err)
			}
			return
		}
		if n.UserMode() && !n.Own() {
			t.Fatalf("%q: a user-mode network that is not the container's own", s)
		}
	})
}

func TestParseAddHost(t *testing.T) {
	for _, tt := range []struct{ in, gw, want, wantErr string }{
		{in: "db:10.0.0.5", want: "db 10.0.0.5"},
		{in: "db=10.0.0.5", want: "db 10.0.0.5"},
		{in: "v6:2001:db8::1", want: "v6 2001:db8::1"},
		{in: "v6:[2001:db8::1]", want: "v6 2001:db8::1"},
		{in: "gw:host-gateway", gw: "10.0.2.2", want: "gw 10.0.2.2"},
		{in: "gw:host-gateway", wantErr: "no gateway"},
		{in: "noip", wantErr: "want HOST:IP"},
		{in: ":1.2.3.4", wantErr: "want HOST:IP"},
		{in: "bad host:1.2.3.4", wantErr: "want HOST:IP"},
		{in: "h:1.2.3", wantErr: `"1.2.3" is not an IP address`},
	} {
		got, err := ParseAddHost(tt.in, tt.gw)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAddHost(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAddHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseAddHost(f *testing.F) {
	f.Add("db:10.0.0.5", "10.0.2.2")
	f.Add("gw:host-gateway", "")
	f.Fuzz(func(t *testing.T, in, gw string) {
		got, err := ParseAddHost(in, gw)
		if err != nil {
			return
		}
		host, ip, ok := strings.Cut(got, " ")
		if !ok || host == "" || ip == "" || strings.ContainsAny(host, " \t\n") {
			t.Fatalf("ParseAddHost(%q) = %q", in, got)
		}
	})
}

func TestParseDNS(t *testing.T) {
	if v, err := ParseDNS("192.0.2.53"); err != nil || v != "192.0.2.53" {
		t.Errorf("ParseDNS: %q %v", v, err)
	}
	if _, err := ParseDNS("dns.example"); err == nil || !strings.Contains(err.Error(), "dns.example") {
		t.Errorf("ParseDNS of a name: %v", err)
	}
	if _, err := ParseDNSSearch("bad domain"); err == nil {
		t.Error("ParseDNSSearch accepted a space")
	}
	if _, err := ParseDNSOption("ndots:2 edns0"); err == nil {
		t.Error("ParseDNSOption accepted two options")
	}
}

func TestHostsFile(t *testing.T) {
	host := []byte("127.0.0.1 localhost\n10.0.0.5 build-box")
	names := Names{Hostname: "box", Name: "web", ExtraHosts: []string{"db 10.1.1.1"}}
	got := string(HostsFile(Network{Mode: Slirp4netns}, slirpAddresses, names, host))
	want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.2.100\tbox web\n10.0.2.2\thost.containers.internal host.docker.internal\n10.1.1.1\tdb\n"
	if got != want {
		t.Errorf("slirp4netns hosts:\n%q\nwant\n%q", got, want)
	}
	got = string(HostsFile(Network{Mode: None}, Addresses{}, Names{Hostname: "web", Name: "web"}, host))
	if want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\tweb\n"; got != want {
		t.Errorf("none hosts: %q, want %q", got, want)
	}
	got = string(HostsFile(Network{Mode: Host}, Addresses{}, names, host))
	if want := string(host) + "\n10.1.1.1\tdb\n"; got != want {
		t.Errorf("host network hosts: %q, want %q", got, want)
	}
}

func TestResolvConf(t *testing.T) {
	host := []byte("# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\nsearch example.com\noptions edns0\n")
	got := string(ResolvConf(Network{Mode: Slirp4netns}, slirpAddresses, Names{}, host))
	want := "# generated\nnameserver 10.0.2.3\nnameserver 10.0.0.1\nsearch example.com\noptions edns0\n"
	if got != want {
		t.Errorf("slirp4netns resolv.conf:\n%q\nwant\n%q", got, want)
	}
	got = string(ResolvConf(Network{Mode: None}, Addresses{}, Names{}, host))
	if want := "# generated\nnameserver 10.0.0.1\nsearch example.com\noptions edns0\n"; got != want {
		t.Errorf("none resolv.conf: %q, want %q", got, want)
	}
	if got = string(ResolvConf(Network{Mode: Host}, Addresses{}, Names{}, host)); got != string(host) {
		t.Errorf("host resolv.conf: %q", got)
	}
	got = string(ResolvConf(Network{Mode: Pasta}, Addresses{DNS: pastaDNS}, Names{DNS: []string{"192.0.2.53"}, DNSSearch: []string{"a.example"}, DNSOptions: []string{"ndots:3"}}, host))
	if want := "# generated\nnameserver 192.0.2.53\nsearch a.example\noptions ndots:3\n"; got != want {
		t.Errorf("overridden resolv.conf: %q, want %q", got, want)
	}
	// Only loopback servers, and a backend: the backend's server.
	got = string(ResolvConf(Network{Mode: Pasta}, Addresses{DNS: pastaDNS}, Names{}, []byte("nameserver 127.0.0.53\n")))
	if got != "nameserver 169.254.1.1\n" {
		t.Errorf("loopback-only host: %q", got)
	}
}

func FuzzResolvConf(f *testing.F) {
	f.Add("nameserver 127.0.0.53\nsearch x\n", "slirp4netns")
	f.Fuzz(func(t *testing.T, host, mode string) {
		n := Network{Mode: mode}
		out := string(ResolvConf(n, slirpAddresses, Names{}, []byte(host)))
		if mode != Host && strings.Contains(out, "nameserver 127.") && !strings.Contains(host, "nameserver 127.") {
			t.Fatalf("a loopback nameserver appeared: %q", out)
		}
	})
}

func TestParseDefaultRoute(t *testing.T) {
	routes := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	iface, gw, err := ParseDefaultRoute([]byte(routes))
	if err != nil || iface != "eth0" || gw != "10.0.2.1" {
		t.Errorf("ParseDefaultRoute = %q %q %v", iface, gw, err)
	}
	if _, _, err := ParseDefaultRoute([]byte("Iface\tDestination\n")); err == nil {
		t.Error("no default route: no error")
	}
}

func FuzzParseDefaultRoute(f *testing.F) {
	f.Add("eth0\t00000000\t0102000A\t0003\n")
	f.Fuzz(func(t *testing.T, s string) {
		iface, gw, err := ParseDefaultRoute([]byte(s))
		if err == nil && (iface == "" || strings.Count(gw, ".") != 3) {
			t.Fatalf("ParseDefaultRoute(%q) = %q %q", s, iface, gw)
		}
	})
}

func TestPortString(t *testing.T) {
	ports := []Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}, {HostIP: "::1", HostPort: 53, ContainerPort: 53, Protocol: "udp"}}
	if got := Format(ports); got != "0.0.0.0:8080->80/tcp, [::1]:53->53/udp" {
		t.Errorf("Format = %q", got)
	}
}

func TestSlirpAddressesIn(t *testing.T) {
	for cidr, want := range map[string]Addresses{
		"":                slirpAddresses,
		"10.0.2.0/24":     slirpAddresses,
		"10.0.3.0/24":     {IP: "10.0.3.100", Gateway: "10.0.3.2", DNS: "10.0.3.3"},
		"172.16.0.128/25": {IP: "172.16.0.228", Gateway: "172.16.0.130", DNS: "172.16.0.131"},
		"10.0.0.0/8":      {IP: "10.0.0.100", Gateway: "10.0.0.2", DNS: "10.0.0.3"},
	} {
		got, err := slirpAddressesIn(cidr)
		if err != nil || got != want {
			t.Errorf("slirpAddressesIn(%q) = %+v, %v; want %+v", cidr, got, err, want)
		}
	}
}

func FuzzParseSlirpCIDR(f *testing.F) {
	for _, s := range []string{"10.0.3.0/24", "1.2.3.4/25", "::/0", "10.0.0.0/26", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseSlirpCIDR(v)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(v)) {
				t.Fatalf("ParseSlirpCIDR(%q): error %q does not name the value", v, err)
			}
			return
		}
		a, err := slirpAddressesIn(c)
		if err != nil {
			t.Fatalf("slirpAddressesIn(%q): %v", c, err)
		}
		p := netip.MustParsePrefix(c)
		for _, s := range []string{a.IP, a.Gateway, a.DNS} {
			if !p.Contains(netip.MustParseAddr(s)) {
				t.Fatalf("ParseSlirpCIDR(%q) = %q: %s is outside it", v, c, s)
			}
		}
	})
}
