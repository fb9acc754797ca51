package usernet

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRoutes(t *testing.T) {
	data := []byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n")
	got, err := ParseRoutes(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("172.17.0.0/16")}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ParseRoutes = %v, want %v", got, want)
	}
	if _, err := ParseRoutes([]byte("h\neth0 zz 0 0 0 0 0 00FFFFFF\n")); err == nil {
		t.Error("a bad address was accepted")
	}
}

func FuzzParseRoutes(f *testing.F) {
	f.Add([]byte("Iface\tDestination\n eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParseRoutes(data)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p.Bits() == 0 {
				t.Fatalf("bad prefix %v", p)
			}
		}
	})
}

func TestChooseSubnet(t *testing.T) {
	taken := []namedPrefix{{netip.MustParsePrefix("10.89.0.0/24"), "network a"}, {netip.MustParsePrefix("192.0.2.0/24"), "a route of the host"}}
	for _, c := range []struct {
		subnet, gateway, want, wantGW, err string
	}{
		{"", "", "10.89.1.0/24", "10.89.1.1", ""},
		{"10.90.0.0/16", "", "10.90.0.0/16", "10.90.0.1", ""},
		{"10.90.3.7/24", "10.90.3.254", "10.90.3.0/24", "10.90.3.254", ""},
		{"10.89.0.0/16", "", "", "", "overlaps network a"},
		{"192.0.2.128/25", "", "", "", "overlaps a route of the host"},
		{"10.90.0.0/24", "10.90.0.255", "", "", "not a host address"},
		{"10.90.0.0/24", "10.91.0.1", "", "", "not a host address"},
		{"", "10.90.0.1", "", "", "needs --subnet"},
		{"fd00::/64", "", "", "", "IPv4"},
		{"nonsense", "", "", "", "invalid --subnet"},
		{"10.0.0.0/31", "", "", "", "prefix length"},
	} {
		p, gw, err := chooseSubnet(c.subnet, c.gateway, taken)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("chooseSubnet(%q, %q) = %v, want an error with %q", c.subnet, c.gateway, err, c.err)
			}
			continue
		}
		if err != nil || p.String() != c.want || gw.String() != c.wantGW {
			t.Errorf("chooseSubnet(%q, %q) = %v %v %v, want %s %s", c.subnet, c.gateway, p, gw, err, c.want, c.wantGW)
		}
	}
}

func TestStoreAttach(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "networks")}
	rec, err := s.Create(CreateOptions{Name: "n", Subnet: "10.90.0.0/30"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(CreateOptions{Name: "n"}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("a duplicate name: %v", err)
	}
	for _, bad := range []string{"none", "bridge", "a b", "-x"} {
		if _, err := s.Create(CreateOptions{Name: bad}); err == nil {
			t.Errorf("name %q was accepted", bad)
		}
	}
	a, err := s.Attach(JoinOptions{Network: "n", ContainerID: strings.Repeat("a", 64), Name: "one", Aliases: []string{"db"}})
	if err != nil || a.IP != "10.90.0.2" || a.Gateway != "10.90.0.1" || a.ID != rec.ID {
		t.Fatalf("Attach = %+v, %v", a, err)
	}
	for _, o := range []JoinOptions{
		{Network: "n", ContainerID: strings.Repeat("b", 64), Name: "two", Aliases: []string{"db"}},
		{Network: "n", ContainerID: strings.Repeat("b", 64), Name: "one"},
		{Network: "nope", ContainerID: strings.Repeat("b", 64), Name: "two"},
		{Network: "n", ContainerID: strings.Repeat("b", 64), Name: "two"}, // no address left in a /30
	} {
		if _, err := s.Attach(o); err == nil {
			t.Errorf("Attach(%+v) was accepted", o)
		}
	}
	if _, err := s.Remove("n", nil); err == nil {
		t.Error("a network with members was removed")
	}
	if err := s.Release(strings.Repeat("a", 64)); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.Prune(nil); err != nil || len(gone) != 1 {
		t.Errorf("Prune = %v, %v", gone, err)
	}
}
