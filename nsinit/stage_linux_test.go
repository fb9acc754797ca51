// Unit tests (privilege tier: none) of when staged file systems stand for
// the spec's. The staging itself runs in the integration tests
// (TestStagedFileSystems), in real namespaces.

package nsinit

import (
	"slices"
	"testing"

	"sandbox/spec"
)

// defaultSpec is what the command writes for "run IMAGE": the standard
// mounts, a user volume, the /etc files, docker's paths.
func defaultSpec() *spec.Spec {
	s := &spec.Spec{Process: spec.Process{Cwd: "/"}}
	s.Mounts = append(spec.StandardMounts(true),
		spec.Mount{Type: "bind", Source: "/srv", Destination: "/data"},
		spec.Mount{Type: "bind", Source: "/run/x/hosts", Destination: "/etc/hosts"})
	s.MaskedPaths = slices.Clone(spec.DefaultMaskedPaths)
	s.ReadonlyPaths = slices.Clone(spec.DefaultReadonlyPaths)
	return s
}

func TestStagePlan(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*spec.Spec)
		gid5   bool
		want   []string // the trees used
	}{
		{"default", func(*spec.Spec) {}, true, []string{"/proc", "/dev", "/sys"}},
		{"pts without gid 5", func(*spec.Spec) {}, false, []string{"/proc", "/sys"}},
		{"privileged: no masks", func(s *spec.Spec) { s.Privileged = true }, true, []string{"/dev"}},
		{"a path unmasked", func(s *spec.Spec) {
			s.MaskedPaths = slices.DeleteFunc(s.MaskedPaths, func(p string) bool { return p == "/proc/acpi" })
		}, true, []string{"/dev", "/sys"}},
		{"a path masked more", func(s *spec.Spec) { s.MaskedPaths = append(s.MaskedPaths, "/sys/kernel") }, true, []string{"/proc", "/dev"}},
		{"read-only paths in another order", func(s *spec.Spec) { slices.Reverse(s.ReadonlyPaths) }, true, []string{"/dev", "/sys"}},
		{"a volume under /proc", func(s *spec.Spec) {
			s.Mounts = append(s.Mounts, spec.Mount{Type: "bind", Source: "/srv", Destination: "/proc/x"})
		}, true, []string{"/dev", "/sys"}},
		{"a device under /dev, after", func(s *spec.Spec) {
			s.Mounts = append(s.Mounts, spec.Mount{Type: "bind", Source: "/dev/fuse", Destination: "/dev/fuse"})
		}, true, []string{"/proc", "/dev", "/sys"}},
		{"a second /dev/shm on top", func(s *spec.Spec) {
			s.Mounts = append(s.Mounts, spec.Mount{Type: "tmpfs", Destination: "/dev/shm", Data: "size=1m"})
		}, true, []string{"/proc", "/dev", "/sys"}},
		{"the host's /dev on top", func(s *spec.Spec) {
			s.Mounts = append(s.Mounts, spec.Mount{Type: "bind", Source: "/dev", Destination: "/dev"})
		}, true, []string{"/proc", "/sys"}},
		{"a mount under /dev before its own", func(s *spec.Spec) {
			s.Mounts = slices.Insert(s.Mounts, 2, spec.Mount{Type: "bind", Source: "/srv", Destination: "/dev/x"})
		}, true, []string{"/proc", "/sys"}},
		{"another /dev/shm size", func(s *spec.Spec) { s.Mounts[3].Data = "mode=1777,size=1m" }, true, []string{"/proc", "/sys"}},
		{"sysfs read-write", func(s *spec.Spec) { s.Mounts[5].ReadOnly = false }, true, []string{"/proc", "/dev"}},
		{"no /sys", func(s *spec.Spec) { s.Mounts = slices.Delete(s.Mounts, 5, 6) }, true, []string{"/proc", "/dev"}},
		{"working directory in /proc", func(s *spec.Spec) { s.Process.Cwd = "/proc/sys" }, true, []string{"/dev", "/sys"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := defaultSpec()
			tt.change(s)
			p := plan(standardTrees(tt.gid5), s)
			var got []string
			for _, u := range p.used {
				got = append(got, u.root())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("trees used %q, want %q", got, tt.want)
			}
			// Each used tree is attached at its own mount's index and
			// covers its mounts; nothing else is covered.
			for i, m := range s.Mounts {
				ct, covered := p.covered[i]
				at, attached := p.attach[i]
				switch {
				case attached && (at != ct || m.Destination != at.root()):
					t.Errorf("mount %d (%s) attaches %s", i, m.Destination, at.root())
				case covered && !ct.under(m.Destination):
					t.Errorf("mount %d (%s) covered by %s", i, m.Destination, ct.root())
				}
			}
			for _, u := range p.used {
				n := 0
				for _, ct := range p.covered {
					if ct == u {
						n++
					}
				}
				if n != len(u.mounts) {
					t.Errorf("%s covers %d mounts, want %d", u.root(), n, len(u.mounts))
				}
			}
			for _, path := range append(slices.Clone(s.MaskedPaths), s.ReadonlyPaths...) {
				byTree := slices.ContainsFunc(p.used, func(u *stagedTree) bool { return u.under(path) })
				if p.coversPath(path) != byTree {
					t.Errorf("coversPath(%s) = %v", path, !byTree)
				}
			}
		})
	}
}

// drop hands a tree's mounts and paths back to the spec.
func TestStagePlanDrop(t *testing.T) {
	s := defaultSpec()
	p := plan(standardTrees(true), s)
	proc := p.attach[0]
	p.drop(proc)
	if _, ok := p.covered[0]; ok || p.coversPath("/proc/kcore") {
		t.Fatal("a dropped /proc still covers its mount or paths")
	}
	if _, ok := p.attach[1]; !ok || !p.coversPath("/sys/firmware") {
		t.Fatal("dropping /proc dropped the others")
	}
}
