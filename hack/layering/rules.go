package main

import (
	"fmt"
	"sort"
	"strings"
)

// module is the import path of sandbox's own module.
const module = "sandbox"

// maxShare is the largest share of the production lines one top-level
// package may hold, in percent.
const maxShare = 30

// The rules, in one table. Besides them: no loop among top-level packages
// (checkLoops) and no top-level package over maxShare percent of the
// production lines (checkSizes).
//
// A rule applies to the packages that from matches. With transitive
// unset it looks at their own imports; with it set, at every import in
// the packages they link, so that a line cannot be crossed through an
// innocent package in between.
var rules = []rule{
	{
		name:   "only cmd/sandbox imports cobra",
		from:   allOf(ours, not(path("sandbox/cmd/sandbox"))),
		forbid: path("github.com/spf13/cobra"),
	},
	{
		// The short exec command parses exec's flags with cmd/sandbox's
		// own definitions (cmd/sandbox/execflags).
		name:   "only cmd/sandbox and the short exec command import pflag",
		from:   allOf(ours, not(path("sandbox/cmd/sandbox", "sandbox/cmd/sandbox-exec"))),
		forbid: path("github.com/spf13/pflag"),
	},
	{
		name: "the short exec command links no engine, store, containers/image, cobra, D-Bus, HTTP or cgo",
		from: path("sandbox/cmd/sandbox-exec"),
		forbid: anyOf(
			path("sandbox/container", "sandbox/storage", "sandbox/removal", "sandbox/prerun", "sandbox/seccomp", "sandbox/userns"),
			path("go.podman.io", "github.com/godbus/dbus", "net/http", "github.com/spf13/cobra"),
			allOf(not(standard), usesCgo),
		),
		transitive: true,
	},
	{
		name:       "drivers never import the engine, system or a command",
		from:       path("sandbox/network", "sandbox/cgroupv2", "sandbox/storage", "sandbox/userns", "sandbox/prerun", "sandbox/seccomp"),
		forbid:     path("sandbox/container", "sandbox/system", "sandbox/cmd"),
		transitive: true,
	},
	{
		name:   "spec imports no module but the standard library (and sandbox/internal)",
		from:   path("sandbox/spec"),
		forbid: allOf(not(standard), not(ours)),
	},
	{
		// What sandbox/internal imports outside sandbox is its own affair.
		name:       "spec links nothing of sandbox but sandbox/internal: no driver, no engine",
		from:       path("sandbox/spec"),
		forbid:     allOf(ours, not(path("sandbox/internal", "sandbox/spec"))),
		transitive: true,
	},
	{
		// Kubernetes YAML and the API use volumes too: the model stays
		// free of the engine and of every driver.
		name:       "volume links nothing of sandbox but sandbox/internal",
		from:       path("sandbox/volume"),
		forbid:     allOf(ours, not(path("sandbox/internal", "sandbox/volume"))),
		transitive: true,
	},
	{
		name:       "imageuser links nothing of sandbox but sandbox/internal",
		from:       path("sandbox/imageuser"),
		forbid:     allOf(ours, not(path("sandbox/internal", "sandbox/imageuser"))),
		transitive: true,
	},
	{
		name:   "only commands and the API import imagetools (it sits on the engine)",
		from:   allOf(ours, not(path("sandbox/cmd", "sandbox/imagetools", "sandbox/api"))),
		forbid: path("sandbox/imagetools"),
	},
	{
		name:       "prerun imports nothing of sandbox",
		from:       path("sandbox/prerun"),
		forbid:     allOf(ours, not(path("sandbox/prerun"))),
		transitive: true,
	},
	{
		name: "the monitor and init binary links no containers/image, D-Bus, HTTP, cobra or cgo",
		from: path("sandbox/cmd/sandbox-monitor"),
		forbid: anyOf(
			path("go.podman.io/image", "github.com/godbus/dbus", "net/http", "github.com/spf13/cobra", "github.com/spf13/pflag"),
			path("sandbox/prerun", "sandbox/seccomp"),
			// The binary is built with CGO_ENABLED=0, where the standard
			// library does without C; any other package with cgo files
			// would not build, or would lose them.
			allOf(not(standard), usesCgo),
		),
		transitive: true,
	},
	{
		// What every container's monitor becomes once the container has
		// exited: it starts fastest without the engine and without C. The
		// standard library and containers/storage do without their cgo
		// files when CGO_ENABLED=0 (built so by the Makefile).
		name: "the cleanup binary links no engine, command line, containers/image, D-Bus, HTTP or cgo of sandbox's own",
		from: path("sandbox/cmd/sandbox-cleanup", "sandbox/removal"),
		forbid: anyOf(
			path("sandbox/container", "sandbox/cmd/sandbox", "sandbox/prerun", "sandbox/seccomp", "sandbox/userns"),
			path("go.podman.io/image", "github.com/godbus/dbus", "net/http", "github.com/spf13/cobra", "github.com/spf13/pflag"),
		),
		transitive: true,
	},
	{
		name:       "the sandbox binary links no k8s.io (only cmd/sandbox-kube does)",
		from:       path("sandbox/cmd/sandbox"),
		forbid:     path("k8s.io", "sigs.k8s.io"),
		transitive: true,
	},
	{
		name:       "the sandbox binary links no Docker API server (only cmd/sandbox-service does)",
		from:       path("sandbox/cmd/sandbox"),
		forbid:     path("sandbox/api", "github.com/moby/moby/api"),
		transitive: true,
	},
	{
		name:       "the sandbox binary links no containers/image (only cmd/sandbox-image does)",
		from:       path("sandbox/cmd/sandbox"),
		forbid:     path("go.podman.io/image"),
		transitive: true,
	},
}

// Package is what the rules need of a package: the fields of `go list -json`
// they read.
type Package struct {
	ImportPath string
	Standard   bool
	Imports    []string
	CgoFiles   []string
	Error      *struct{ Err string }
}

// Graph is a set of packages by import path.
type Graph map[string]*Package

type rule struct {
	name       string
	from       match
	forbid     match
	transitive bool
}

// A match says whether a rule speaks of a package.
type match func(*Package) bool

// path matches the packages at or under any of the import paths.
func path(paths ...string) match {
	return func(p *Package) bool {
		for _, q := range paths {
			if under(p.ImportPath, q) {
				return true
			}
		}
		return false
	}
}

func under(p, q string) bool { return p == q || strings.HasPrefix(p, q+"/") }

func ours(p *Package) bool     { return under(p.ImportPath, module) }
func standard(p *Package) bool { return p.Standard }
func usesCgo(p *Package) bool  { return len(p.CgoFiles) > 0 }

func not(m match) match { return func(p *Package) bool { return !m(p) } }

func allOf(ms ...match) match {
	return func(p *Package) bool {
		for _, m := range ms {
			if !m(p) {
				return false
			}
		}
		return true
	}
}

func anyOf(ms ...match) match {
	return func(p *Package) bool {
		for _, m := range ms {
			if m(p) {
				return true
			}
		}
		return false
	}
}

// A Violation is one import that crosses a line.
type Violation struct {
	Importer, Imported string
	// Via is the package the rule applies to when the importer is only
	// linked by it (transitive rules); "" when they are the same.
	Via  string
	Rule string
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s imports %s", v.Importer, v.Imported)
	if v.Via != "" {
		s += fmt.Sprintf(" (linked by %s)", v.Via)
	}
	return s + ": " + v.Rule
}

// Check returns every import in g that crosses a line: the rules of the
// table and the loop rule, sorted.
func Check(g Graph) []Violation {
	seen := map[Violation]bool{}
	var out []Violation
	add := func(v Violation) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, r := range rules {
		checkRule(g, r, add)
	}
	checkLoops(g, add)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Importer != b.Importer {
			return a.Importer < b.Importer
		}
		if a.Imported != b.Imported {
			return a.Imported < b.Imported
		}
		return a.Via < b.Via
	})
	return out
}

// checkRule reports the imports that break r. Of a chain of forbidden
// packages only the first link is reported: the import that crossed.
func checkRule(g Graph, r rule, add func(Violation)) {
	reported := map[[2]string]bool{} // importer, imported
	for _, p := range sortedPackages(g) {
		if !r.from(p) {
			continue
		}
		linked := []*Package{p}
		if r.transitive {
			linked = closure(g, p)
		}
		for _, a := range linked {
			if a != p && r.forbid(a) {
				continue
			}
			for _, imp := range a.Imports {
				b := g[imp]
				if b == nil {
					b = &Package{ImportPath: imp}
				}
				if !r.forbid(b) {
					continue
				}
				if reported[[2]string{a.ImportPath, imp}] {
					continue // linked by another package the rule applies to
				}
				reported[[2]string{a.ImportPath, imp}] = true
				v := Violation{Importer: a.ImportPath, Imported: imp, Rule: r.name}
				if a != p && !r.from(a) {
					v.Via = p.ImportPath
				}
				add(v)
			}
		}
	}
}

// closure is p and every package it links, in import path order.
func closure(g Graph, p *Package) []*Package {
	seen := map[string]bool{p.ImportPath: true}
	stack := []*Package{p}
	var out []*Package
	for len(stack) > 0 {
		q := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, q)
		for _, imp := range q.Imports {
			if r := g[imp]; r != nil && !seen[imp] {
				seen[imp] = true
				stack = append(stack, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ImportPath < out[j].ImportPath })
	return out
}

func sortedPackages(g Graph) []*Package {
	out := make([]*Package, 0, len(g))
	for _, p := range g {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ImportPath < out[j].ImportPath })
	return out
}

// folder is the top-level folder of one of sandbox's packages for the loop
// rule ("container" for sandbox/container/x), or "" for a package the rule
// leaves out: not ours, or a leaf (cmd, hack, test), or the module's root.
func folder(importPath string) string {
	rest, ok := strings.CutPrefix(importPath, module+"/")
	if !ok {
		return ""
	}
	top, _, _ := strings.Cut(rest, "/")
	switch top {
	case "cmd", "hack", "test":
		return ""
	}
	return top
}

const loopRule = "no loop among top-level packages"

// checkLoops reports, for each loop among top-level folders, every import
// between two different folders of the loop. Go forbids loops among
// packages; this forbids them among folders, where a subpackage counts
// as its folder.
func checkLoops(g Graph, add func(Violation)) {
	edges := map[string]map[string]bool{}
	for _, p := range sortedPackages(g) {
		a := folder(p.ImportPath)
		if a == "" {
			continue
		}
		for _, imp := range p.Imports {
			if b := folder(imp); b != "" && b != a {
				if edges[a] == nil {
					edges[a] = map[string]bool{}
				}
				edges[a][b] = true
			}
		}
	}
	comp := components(edges)
	for _, p := range sortedPackages(g) {
		a := folder(p.ImportPath)
		if a == "" || len(comp[a]) < 2 {
			continue
		}
		for _, imp := range p.Imports {
			b := folder(imp)
			if b != "" && b != a && comp[b] != nil && comp[a][0] == comp[b][0] {
				add(Violation{Importer: p.ImportPath, Imported: imp,
					Rule: fmt.Sprintf("%s (%s)", loopRule, strings.Join(comp[a], ", "))})
			}
		}
	}
}

// components returns for each node the sorted members of its strongly
// connected component (Tarjan's algorithm).
func components(edges map[string]map[string]bool) map[string][]string {
	var nodes []string
	seenNode := map[string]bool{}
	for a, bs := range edges {
		for _, n := range append([]string{a}, keys(bs)...) {
			if !seenNode[n] {
				seenNode[n] = true
				nodes = append(nodes, n)
			}
		}
	}
	sort.Strings(nodes)
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	comp := map[string][]string{}
	next := 0
	var visit func(string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range keys(edges[v]) {
			if _, ok := index[w]; !ok {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var members []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			members = append(members, w)
			if w == v {
				break
			}
		}
		sort.Strings(members)
		for _, m := range members {
			comp[m] = members
		}
	}
	for _, n := range nodes {
		if _, ok := index[n]; !ok {
			visit(n)
		}
	}
	return comp
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
