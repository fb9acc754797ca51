// Unit tests (privilege tier: none) of the container's /etc/hosts and
// /etc/resolv.conf.

package container

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"sandbox/container/spec"
)

func TestHostsFile(t *testing.T) {
	host := []byte("127.0.0.1 localhost\n10.0.0.5 build-box\n")
	tests := []struct {
		name                    string
		network, hostname, ctrN string
		want                    string
	}{
		{name: "own network", network: spec.NetworkNone, hostname: "0123456789ab", ctrN: "web",
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t0123456789ab web\n"},
		{name: "name equal to hostname given once", network: spec.NetworkNone, hostname: "web", ctrN: "web",
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\tweb\n"},
		{name: "no name", network: spec.NetworkNone, hostname: "box",
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\tbox\n"},
		{name: "host network is the host's file", network: spec.NetworkHost, hostname: "ignored", ctrN: "web",
			want: string(host)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HostsFile(tt.network, tt.hostname, tt.ctrN, host); string(got) != tt.want {
				t.Errorf("HostsFile() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResolvConf(t *testing.T) {
	host := "# generated\n" +
		"nameserver 127.0.0.53\n" +
		"nameserver 10.0.0.1\n" +
		"nameserver ::1\n" +
		"nameserver 127.1.2.3\n" +
		"  nameserver\t127.0.0.1  \n" +
		"nameserver fe80::1%eth0\n" +
		"nameserver 2001:db8::53\n" +
		"nameserver not-an-address\n" +
		"nameserver\n" +
		"search example.com\n" +
		"options edns0 trust-ad\n"
	want := "# generated\n" +
		"nameserver 10.0.0.1\n" +
		"nameserver fe80::1%eth0\n" +
		"nameserver 2001:db8::53\n" +
		"nameserver not-an-address\n" +
		"nameserver\n" +
		"search example.com\n" +
		"options edns0 trust-ad\n"
	if got := ResolvConf(spec.NetworkNone, []byte(host)); string(got) != want {
		t.Errorf("ResolvConf(none) = %q\nwant %q", got, want)
	}
	// With the host's network, loopback resolvers are reachable: kept.
	if got := ResolvConf(spec.NetworkHost, []byte(host)); string(got) != host {
		t.Errorf("ResolvConf(host) = %q, want the host's file", got)
	}
	if got := ResolvConf(spec.NetworkNone, nil); len(got) != 0 {
		t.Errorf("ResolvConf(none, nil) = %q, want nothing", got)
	}
	// A last line without newline gets one.
	if got := ResolvConf(spec.NetworkNone, []byte("nameserver 1.1.1.1")); string(got) != "nameserver 1.1.1.1\n" {
		t.Errorf("ResolvConf() = %q", got)
	}
}

func FuzzResolvConf(f *testing.F) {
	f.Add([]byte("nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch x\n"))
	f.Add([]byte("nameserver ::1\nnameserver ::ffff:127.0.0.1"))
	f.Fuzz(func(t *testing.T, host []byte) {
		if !bytes.Equal(ResolvConf(spec.NetworkHost, host), host) {
			t.Fatalf("ResolvConf(host) changed the file")
		}
		got := string(ResolvConf(spec.NetworkNone, host))
		if len(got) > len(host)+1 {
			t.Fatalf("ResolvConf(%q) = %q grew", host, got)
		}
		for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "nameserver" {
				if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() {
					t.Fatalf("ResolvConf(%q) kept loopback nameserver line %q", host, line)
				}
			}
			if !strings.Contains(string(host), line) {
				t.Fatalf("ResolvConf(%q) made up line %q", host, line)
			}
		}
	})
}
