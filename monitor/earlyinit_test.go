package monitor

import (
	"testing"

	"sandbox/spec"
)

// The options that keep an early init: the shape it was cloned in
// (earlyShape), whatever the network backend, ports and run directory;
// anything else clones another. Unit tier.
func TestFitsEarly(t *testing.T) {
	own := spec.Network{Mode: "slirp4netns"}
	for _, tc := range []struct {
		name string
		c    Clone
		cg   *leaf
		want bool
	}{
		{"the early shape", earlyShape, nil, true},
		{"default network, ports", Clone{Network: own, Ports: []spec.Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}, runDir: "/run/x"}, nil, true},
		{"a cgroup request that made none", Clone{Network: own, Cgroup: &Cgroup{Name: "x"}}, nil, true},
		{"host network", Clone{Network: spec.Network{Mode: spec.NetworkHost}}, nil, false},
		{"another container's network", Clone{Network: spec.Network{Mode: spec.NetworkContainerPrefix + "abc"}}, nil, false},
		{"a network namespace to join", Clone{Network: own, JoinNetns: &spec.ProcessRef{Pid: 1}}, nil, false},
		{"a user namespace", Clone{Network: own, UserNS: &spec.UserNS{}}, nil, false},
		{"a terminal", Clone{Network: own, Terminal: true}, nil, false},
		{"input", Clone{Network: own, Stdin: true}, nil, false},
		{"preserved descriptors", Clone{Network: own, PreserveFDs: 1}, nil, false},
		{"passthrough", Clone{Network: own, Passthrough: true}, nil, false},
		{"a cgroup of its own", Clone{Network: own}, &leaf{}, false},
	} {
		if got := fitsEarly(tc.c, tc.cg); got != tc.want {
			t.Errorf("%s: fits the early init %t, want %t", tc.name, got, tc.want)
		}
	}
}
