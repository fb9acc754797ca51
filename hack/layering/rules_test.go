// Unit tests (privilege tier: none) of the layering rules on small
// made-up package graphs.

package main

import (
	"slices"
	"strings"
	"testing"
)

// graph builds a Graph from "importer: imported..." lines. A path without
// a dot in its first element is standard, as go list says, unless it is
// sandbox's; one ending in "/cgo" has cgo files.
func graph(lines ...string) Graph {
	g := Graph{}
	get := func(p string) *Package {
		if g[p] == nil {
			first, _, _ := strings.Cut(p, "/")
			g[p] = &Package{ImportPath: p, Standard: !strings.Contains(first, ".") && first != module}
			if strings.HasSuffix(p, "/cgo") {
				g[p].CgoFiles = []string{"x.go"}
			}
		}
		return g[p]
	}
	for _, l := range lines {
		from, to, _ := strings.Cut(l, ":")
		p := get(strings.TrimSpace(from))
		for _, imp := range strings.Fields(to) {
			get(imp)
			p.Imports = append(p.Imports, imp)
		}
	}
	return g
}

// clean is a graph that keeps every line.
var clean = []string{
	"sandbox/cmd/sandbox: sandbox/container sandbox/system github.com/spf13/cobra fmt",
	"sandbox/cmd/sandbox-monitor: sandbox/monitor sandbox/nsinit",
	"sandbox/cmd/sandbox-image: sandbox/storage/transfer",
	"sandbox/storage/transfer: sandbox/storage go.podman.io/image/v5/copy",
	"go.podman.io/image/v5/copy: net/http",
	"github.com/spf13/cobra: github.com/spf13/pflag",
	"sandbox/system: sandbox/container sandbox/cgroupv2/systemd",
	"sandbox/container: sandbox/network sandbox/storage sandbox/monitor sandbox/nsenter sandbox/spec sandbox/cgroupv2",
	"sandbox/cgroupv2/systemd: sandbox/cgroupv2 github.com/godbus/dbus/v5",
	"sandbox/monitor: sandbox/network sandbox/cgroupv2 sandbox/spec sandbox/nsinit",
	"sandbox/nsenter: sandbox/nsinit sandbox/spec",
	"sandbox/nsinit: sandbox/spec golang.org/x/sys/unix",
	"sandbox/network: sandbox/spec net/netip",
	"sandbox/spec: sandbox/internal/lockfile encoding/json",
	"sandbox/internal/lockfile: golang.org/x/sys/unix",
	"sandbox/userns: sandbox/prerun sandbox/internal/lockfile",
	"sandbox/prerun: C",
	"sandbox/test/helper: sandbox/container",
	"sandbox/hack/bench: sandbox/cmd/sandbox",
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		extra []string // lines added to clean
		want  []string
	}{
		{"clean", nil, nil},
		{"cobra outside cmd/sandbox", []string{"sandbox/container: github.com/spf13/pflag"},
			[]string{"sandbox/container imports github.com/spf13/pflag: only cmd/sandbox and the short exec command import pflag"}},
		{"driver links the engine", []string{"sandbox/userns: sandbox/attach", "sandbox/attach: sandbox/system"},
			[]string{"sandbox/attach imports sandbox/system (linked by sandbox/userns): drivers never import the engine, system or a command"}},
		{"driver imports the engine: a loop too", []string{"sandbox/seccomp: sandbox/container", "sandbox/container: sandbox/seccomp"}, []string{
			"sandbox/container imports sandbox/seccomp: no loop among top-level packages (container, seccomp)",
			"sandbox/seccomp imports sandbox/container: drivers never import the engine, system or a command",
			"sandbox/seccomp imports sandbox/container: no loop among top-level packages (container, seccomp)",
		}},
		{"spec imports a driver", []string{"sandbox/spec: sandbox/cgroupv2"},
			[]string{"sandbox/spec imports sandbox/cgroupv2: spec links nothing of sandbox but sandbox/internal: no driver, no engine"}},
		{"spec imports a module", []string{"sandbox/spec: golang.org/x/sys/unix"},
			[]string{"sandbox/spec imports golang.org/x/sys/unix: spec imports no module but the standard library (and sandbox/internal)"}},
		{"prerun imports sandbox", []string{"sandbox/prerun: sandbox/internal/lockfile"},
			[]string{"sandbox/prerun imports sandbox/internal/lockfile: prerun imports nothing of sandbox"}},
		{"monitor links HTTP and cgo", []string{"sandbox/monitor: net/http github.com/x/y/cgo", "net/http: crypto/tls"}, []string{
			"sandbox/monitor imports github.com/x/y/cgo (linked by sandbox/cmd/sandbox-monitor): the monitor and init binary links no containers/image, D-Bus, HTTP, cobra or cgo",
			"sandbox/monitor imports net/http (linked by sandbox/cmd/sandbox-monitor): the monitor and init binary links no containers/image, D-Bus, HTTP, cobra or cgo",
		}},
		{"monitor links seccomp and D-Bus", []string{"sandbox/nsinit: sandbox/seccomp github.com/godbus/dbus/v5"}, []string{
			"sandbox/nsinit imports github.com/godbus/dbus/v5 (linked by sandbox/cmd/sandbox-monitor): the monitor and init binary links no containers/image, D-Bus, HTTP, cobra or cgo",
			"sandbox/nsinit imports sandbox/seccomp (linked by sandbox/cmd/sandbox-monitor): the monitor and init binary links no containers/image, D-Bus, HTTP, cobra or cgo",
		}},
		{"the cleanup links the engine", []string{"sandbox/cmd/sandbox-cleanup: sandbox/removal", "sandbox/removal: sandbox/container"}, []string{
			"sandbox/removal imports sandbox/container: the cleanup binary links no engine, command line, containers/image, D-Bus, HTTP or cgo of sandbox's own",
		}},
		{"sandbox links containers/image", []string{"sandbox/container: sandbox/storage/transfer"},
			[]string{"sandbox/storage/transfer imports go.podman.io/image/v5/copy (linked by sandbox/cmd/sandbox): the sandbox binary links no containers/image (only cmd/sandbox-image does)"}},
		{"sandbox links the Docker API", []string{"sandbox/container: sandbox/api", "sandbox/api: net/http"},
			[]string{"sandbox/container imports sandbox/api (linked by sandbox/cmd/sandbox): the sandbox binary links no Docker API server (only cmd/sandbox-service does)"}},
		{"folder loop through a subpackage", []string{"sandbox/nsenter: sandbox/container/exec", "sandbox/container/exec: fmt"}, []string{
			"sandbox/container imports sandbox/nsenter: no loop among top-level packages (container, nsenter)",
			"sandbox/nsenter imports sandbox/container/exec: no loop among top-level packages (container, nsenter)",
		}},
		{"loop of three", []string{"sandbox/spec: sandbox/internal/x", "sandbox/internal/x: sandbox/nsinit"}, []string{
			"sandbox/internal/x imports sandbox/nsinit: no loop among top-level packages (internal, nsinit, spec)",
			"sandbox/internal/x imports sandbox/nsinit (linked by sandbox/spec): spec links nothing of sandbox but sandbox/internal: no driver, no engine",
			"sandbox/nsinit imports sandbox/spec: no loop among top-level packages (internal, nsinit, spec)",
			// Every import between two folders of the loop is part of it.
			"sandbox/spec imports sandbox/internal/lockfile: no loop among top-level packages (internal, nsinit, spec)",
			"sandbox/spec imports sandbox/internal/x: no loop among top-level packages (internal, nsinit, spec)",
		}},
	}
	for _, tt := range tests {
		var got []string
		for _, v := range Check(graph(append(slices.Clone(clean), tt.extra...)...)) {
			got = append(got, v.String())
		}
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	}
}

func TestLineOwner(t *testing.T) {
	for rel, want := range map[string]string{
		"container/run.go":          "container",
		"cgroupv2/systemd/scope.go": "cgroupv2",
		"cmd/sandbox/main.go":       "cmd/sandbox",
		"cmd/sandbox-nsenter/x.c":   "cmd/sandbox-nsenter",
		"internal/atomicfile/a.go":  "internal",
		"doc.go":                    ".",
	} {
		if got := lineOwner(rel); got != want {
			t.Errorf("lineOwner(%q) = %q, want %q", rel, got, want)
		}
	}
	for rel, want := range map[string]bool{"a/b.go": true, "a/b_test.go": false, "a/hook.c": true, "a/procfs.h": true, "a/README.md": false} {
		if got := production(rel); got != want {
			t.Errorf("production(%q) = %v, want %v", rel, got, want)
		}
	}
}

func TestCheckSizes(t *testing.T) {
	if got := checkSizes([]Share{{"a", 30}, {"b", 30}, {"c", 40}}); len(got) != 1 || !strings.HasPrefix(got[0], "c holds 40 of 100 production lines (40.0%)") {
		t.Errorf("checkSizes: %q", got)
	}
	if got := checkSizes([]Share{{"a", 30}, {"b", 35}, {"c", 35}}); len(got) != 2 {
		t.Errorf("checkSizes of 35%% twice: %q", got)
	}
	if got := checkSizes([]Share{{"a", 3}, {"b", 3}, {"c", 3}, {"d", 1}}); len(got) != 0 {
		t.Errorf("checkSizes at 30%%: %q", got)
	}
}
