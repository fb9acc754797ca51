// Rootless integration tests (privilege tier: rootless integration, as an
// unprivileged user that may create user namespaces; make test-integration
// runs them as the test user): every backend, and every port handler with
// every backend it works with, through the conformance suite.

package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sandbox/network"
	"sandbox/network/usernet"
)

func TestMain(m *testing.M) { Main(m) }

// TestNetworkConformancePorts runs the suite on each backend with each of
// its port handlers: sandbox's forwarder, and the backend's own. The
// backends' own handlers keep the client's address, so their UDP replies
// reach the suite's clients, on the host, only where the container may
// reach the host: those pairs allow it.
func TestNetworkConformancePorts(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    network.Network
	}{
		{"slirp4netns/forwarder", network.Network{Mode: network.Slirp4netns}},
		{"slirp4netns/slirp4netns", network.Network{Mode: network.Slirp4netns, NativePorts: true, AllowHostLoopback: true}},
		{"pasta/forwarder", network.Network{Mode: network.Pasta}},
		{"pasta/pasta", network.Network{Mode: network.Pasta, NativePorts: true, AllowHostLoopback: true}},
	} {
		t.Run(tc.name, func(t *testing.T) { Run(t, PairFor(t, tc.name, tc.n)) })
	}
}

// TestNetworkConformanceBackends runs every backend without ports,
// those that attach nothing included.
func TestNetworkConformanceBackends(t *testing.T) {
	for _, n := range []network.Network{
		{Mode: network.Slirp4netns},
		{Mode: network.Pasta},
		{Mode: network.None},
		{Mode: network.Host},
		{Mode: network.ContainerPrefix + "other"},
	} {
		t.Run(n.Mode, func(t *testing.T) {
			b, err := network.BackendFor(n)
			if err != nil {
				t.Fatal(err)
			}
			RunBackend(t, n.Mode, b)
		})
	}
}

func TestSourceSeen(t *testing.T) {
	slirp := network.Addresses{IP: "10.0.2.100", Gateway: "10.0.2.2"}
	pasta := network.Addresses{IP: "192.0.2.2", Gateway: "192.0.2.1"}
	for _, tt := range []struct {
		keeps  bool
		client string
		a      network.Addresses
		want   string
	}{
		{false, "192.0.2.2", slirp, "127.0.0.1"},
		{false, "192.0.2.2", pasta, "127.0.0.1"},
		{true, "192.0.2.2", slirp, "192.0.2.2"},
		{true, "192.0.2.2", pasta, "192.0.2.1"},
		{true, "198.51.100.7", pasta, "198.51.100.7"},
	} {
		if got := SourceSeen(tt.keeps, tt.client, tt.a); got != tt.want {
			t.Errorf("SourceSeen(%v, %s, %+v) = %s, want %s", tt.keeps, tt.client, tt.a, got, tt.want)
		}
	}
}

// TestNetworkConformanceUserNetwork runs the suite on a user-defined
// network: a holder of its own (this binary in the holder's role), the
// container joined to a network in it, its ports published by the
// transparent forwarder into the holder's namespace.
func TestNetworkConformanceUserNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "usernet")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := usernet.EnsureHolder(usernet.HolderOptions{Dir: dir, Binary: self, Env: os.Environ()}); err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("c0ffee", 11)[:64]
	n := network.Network{Mode: "conformance", HolderDir: dir, MemberID: id, MemberName: "conformance",
		Attachments: []network.Attachment{{Network: "conformance", ID: strings.Repeat("ab", 32),
			Subnet: "10.89.200.0/24", Gateway: "10.89.200.1", IP: "10.89.200.2"}}}
	t.Run("ports", func(t *testing.T) { Run(t, PairFor(t, "usernet/forwarder", n)) })
	b, err := network.BackendFor(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("backend", func(t *testing.T) { RunBackend(t, "usernet", b) })
}
