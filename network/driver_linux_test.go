// Unit tests (privilege tier: none) of the choice of backend and port
// handler for a network.

package network

import (
	"reflect"
	"strings"
	"testing"
)

func TestDriverFor(t *testing.T) {
	userNet := Network{Mode: "app", Attachments: []Attachment{{Network: "app", IP: "10.89.0.2"}}}
	tests := []struct {
		n           Network
		backend     Backend
		ports       PortHandler
		inBackend   bool
		keepsSource bool
	}{
		{n: Network{Mode: Slirp4netns}, backend: slirp4netnsBackend{n: Network{Mode: Slirp4netns}}, ports: forwarderPorts{n: Network{Mode: Slirp4netns}}, keepsSource: true},
		{n: Network{Mode: Slirp4netns, NativePorts: true}, backend: slirp4netnsBackend{n: Network{Mode: Slirp4netns, NativePorts: true}}, ports: slirp4netnsPorts{}, inBackend: true, keepsSource: true},
		{n: Network{Mode: Pasta}, backend: pastaBackend{n: Network{Mode: Pasta}}, ports: forwarderPorts{n: Network{Mode: Pasta}}, keepsSource: true},
		{n: userNet, backend: usernetBackend{n: userNet}, ports: usernetPorts{n: userNet}, inBackend: true, keepsSource: true},
		{n: Network{Mode: Pasta, NativePorts: true}, backend: pastaBackend{n: Network{Mode: Pasta, NativePorts: true}}, ports: pastaPorts{}, inBackend: true, keepsSource: true},
		{n: Network{Mode: None}, backend: noBackend{}, ports: noPorts{mode: None}},
		{n: Network{Mode: Host}, backend: noBackend{}, ports: noPorts{mode: Host}},
		{n: Network{Mode: ContainerPrefix + "web"}, backend: noBackend{}, ports: noPorts{mode: ContainerPrefix + "web"}},
	}
	for _, tt := range tests {
		b, err := BackendFor(tt.n)
		if err != nil || !reflect.DeepEqual(b, tt.backend) {
			t.Errorf("BackendFor(%+v) = %#v, %v; want %#v", tt.n, b, err, tt.backend)
		}
		h, err := PortHandlerFor(tt.n)
		if err != nil || !reflect.DeepEqual(h, tt.ports) {
			t.Errorf("PortHandlerFor(%+v) = %#v, %v; want %#v", tt.n, h, err, tt.ports)
			continue
		}
		if h.InBackend() != tt.inBackend || h.KeepsSource() != tt.keepsSource {
			t.Errorf("%+v: InBackend %v KeepsSource %v, want %v %v", tt.n, h.InBackend(), h.KeepsSource(), tt.inBackend, tt.keepsSource)
		}
	}
	for _, mode := range []string{"", "bridge", "container"} {
		if _, err := BackendFor(Network{Mode: mode}); err == nil || !strings.Contains(err.Error(), "no backend") {
			t.Errorf("BackendFor(%q): %v", mode, err)
		}
		if _, err := PortHandlerFor(Network{Mode: mode}); err == nil {
			t.Errorf("PortHandlerFor(%q) succeeded", mode)
		}
	}
}

// TestNoBackend: a network without a backend attaches nothing, and
// refuses ports rather than leave them unpublished.
func TestNoBackend(t *testing.T) {
	b, err := BackendFor(Network{Mode: None})
	if err != nil {
		t.Fatal(err)
	}
	cleanup, err := b.Attach(nil, AttachOptions{})
	if err != nil || cleanup() != nil {
		t.Errorf("none: Attach %v", err)
	}
	h, err := PortHandlerFor(Network{Mode: Host})
	if err != nil {
		t.Fatal(err)
	}
	if cleanup, err := h.Publish(nil, nil, ""); err != nil || cleanup() != nil {
		t.Errorf("host: Publish of no ports: %v", err)
	}
	if _, err := h.Publish(nil, []Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}, ""); err == nil || !strings.Contains(err.Error(), `not "host"`) {
		t.Errorf("host: Publish of a port: %v", err)
	}
}

func TestPastaArgsPorts(t *testing.T) {
	args := strings.Join(pastaArgs(Network{Mode: Pasta}, []Port{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
	}), " ")
	for _, want := range []string{"-t 8080:80", "-u 127.0.0.1/5353:53", "--no-map-gw"} {
		if !strings.Contains(args, want) {
			t.Errorf("pasta args %q lack %q", args, want)
		}
	}
	if args := strings.Join(pastaArgs(Network{Mode: Pasta, AllowHostLoopback: true}, nil), " "); !strings.Contains(args, "-t none") || !strings.Contains(args, "-u none") || strings.Contains(args, "--no-map-gw") {
		t.Errorf("pasta args without ports: %q", args)
	}
}
