// Unit tests (privilege tier: none) of the pure parts of create: the mount
// list and the name and hostname checks.

package container

import (
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sandbox/spec"
)

func destinations(ms []spec.Mount) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Destination)
	}
	return out
}

func TestContainerMounts(t *testing.T) {
	tests := []struct {
		name string
		user []spec.Mount
		want []string
	}{
		{name: "no user mounts",
			want: []string{"/proc", "/dev", "/sys", "/dev/pts", "/dev/shm", "/dev/mqueue", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv"}},
		{name: "children after parents, given in any order",
			user: []spec.Mount{
				{Type: "bind", Source: "/h/c", Destination: "/data/cache/deep"},
				{Type: "bind", Source: "/h/b", Destination: "/data/cache"},
				{Type: "bind", Source: "/h/a", Destination: "/data"},
			},
			want: []string{"/proc", "/dev", "/sys", "/data", "/dev/pts", "/dev/shm", "/dev/mqueue", "/data/cache",
				"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv", "/data/cache/deep"}},
		{name: "same depth keeps the given order",
			user: []spec.Mount{
				{Type: "bind", Source: "/h/z", Destination: "/z"},
				{Type: "bind", Source: "/h/a", Destination: "/a"},
				{Type: "tmpfs", Destination: "/m"},
			},
			want: []string{"/proc", "/dev", "/sys", "/z", "/a", "/m", "/dev/pts", "/dev/shm", "/dev/mqueue",
				"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv"}},
		{name: "user's /etc files replace ours",
			user: []spec.Mount{
				{Type: "bind", Source: "/h/resolv.conf", Destination: "/etc/resolv.conf", ReadOnly: true},
				{Type: "bind", Source: "/h/hosts", Destination: "/etc/hosts"},
			},
			want: []string{"/proc", "/dev", "/sys", "/dev/pts", "/dev/shm", "/dev/mqueue", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/run/.containerenv"}},
		{name: "root mount first",
			user: []spec.Mount{{Type: "bind", Source: "/h", Destination: "/"}},
			want: []string{"/", "/proc", "/dev", "/sys", "/dev/pts", "/dev/shm", "/dev/mqueue", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv"}},
		// A user mount over a standard one comes after it, so it wins.
		{name: "user mount over a standard one",
			user: []spec.Mount{{Type: "tmpfs", Destination: "/dev/shm", Data: "size=1073741824"}},
			want: []string{"/proc", "/dev", "/sys", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/shm", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := containerMounts(tt.user, etcMounts("/run/ctr", false), true)
			if d := destinations(got); !reflect.DeepEqual(d, tt.want) {
				t.Fatalf("containerMounts() destinations = %q\nwant %q", d, tt.want)
			}
			// The user's own mounts are passed through unchanged.
			for _, u := range tt.user {
				found := false
				for _, m := range got {
					found = found || reflect.DeepEqual(m, u)
				}
				if !found {
					t.Errorf("user mount %+v missing or changed", u)
				}
			}
			for _, m := range got {
				if strings.HasPrefix(m.Source, "/run/ctr/") && indexOfDest(tt.user, m.Destination) >= 0 {
					t.Errorf("our %s kept although the user mounted it", m.Destination)
				}
			}
		})
	}
}

func TestContainerMountsDevpts(t *testing.T) {
	for _, gid5 := range []bool{true, false} {
		ms := containerMounts(nil, nil, gid5)
		var pts *spec.Mount
		for i := range ms {
			if ms[i].Type == "devpts" {
				pts = &ms[i]
			}
		}
		if pts == nil || pts.Destination != "/dev/pts" {
			t.Fatalf("no devpts on /dev/pts in %+v", ms)
		}
		if has := strings.Contains(pts.Data, "gid=5"); has != gid5 {
			t.Errorf("gid5=%v: devpts data %q", gid5, pts.Data)
		}
		if !strings.Contains(pts.Data, "newinstance") || !strings.Contains(pts.Data, "ptmxmode=0666") {
			t.Errorf("devpts data %q lacks newinstance or ptmxmode", pts.Data)
		}
	}
}

// isParent reports whether directory a strictly contains b.
func isParent(a, b string) bool {
	if a == "/" {
		return b != "/"
	}
	return strings.HasPrefix(b, a+"/")
}

func FuzzContainerMounts(f *testing.F) {
	f.Add("/data/cache/deep\n/data/cache\n/data\n/etc/hosts\n/")
	f.Add("/z\n/a\n/dev/shm\n/dev")
	f.Fuzz(func(t *testing.T, dests string) {
		var user []spec.Mount
		for i, d := range strings.Split(dests, "\n") {
			if !path.IsAbs(d) {
				continue
			}
			// The parsers hand over clean destinations.
			// Data tells the user's mounts apart, the same destination
			// twice included.
			user = append(user, spec.Mount{Type: "tmpfs", Destination: path.Clean(d), Data: "u" + strconv.Itoa(i)})
		}
		etc := etcMounts("/run/ctr", false)
		got := containerMounts(user, etc, false)
		taken := map[string]bool{}
		for _, u := range user {
			taken[u.Destination] = true
		}
		wantLen := 6 + len(user)
		for _, e := range etc {
			if !taken[e.Destination] {
				wantLen++
			}
		}
		if len(got) != wantLen {
			t.Fatalf("containerMounts(%q) has %d mounts, want %d", destinations(user), len(got), wantLen)
		}
		for i := range got {
			for j := i + 1; j < len(got); j++ {
				if isParent(got[j].Destination, got[i].Destination) {
					t.Fatalf("containerMounts(%q) = %q: %s before its parent %s", destinations(user), destinations(got), got[i].Destination, got[j].Destination)
				}
			}
			if got[i].Type == "bind" && strings.HasPrefix(got[i].Source, "/run/ctr/") && taken[got[i].Destination] {
				t.Fatalf("containerMounts(%q): our %s kept although the user mounted it", destinations(user), got[i].Destination)
			}
		}
		// The user's mounts keep their order where depth does not decide.
		var order []spec.Mount
		for _, m := range got {
			if m.Type == "tmpfs" && strings.HasPrefix(m.Data, "u") {
				order = append(order, m)
			}
		}
		if len(order) != len(user) {
			t.Fatalf("containerMounts(%q) lost user mounts: %q", destinations(user), destinations(got))
		}
		for i := 1; i < len(order); i++ {
			a, b := order[i-1], order[i]
			if depth(a.Destination) == depth(b.Destination) && indexOf(user, a) > indexOf(user, b) {
				t.Fatalf("containerMounts(%q) reordered %s and %s", destinations(user), a.Destination, b.Destination)
			}
		}
	})
}

func indexOfDest(ms []spec.Mount, dest string) int {
	for i := range ms {
		if ms[i].Destination == dest {
			return i
		}
	}
	return -1
}

func indexOf(ms []spec.Mount, m spec.Mount) int {
	for i := range ms {
		if reflect.DeepEqual(ms[i], m) {
			return i
		}
	}
	return -1
}

var (
	nameRE     = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9.-]{0,64}$`)
)

func TestValidName(t *testing.T) {
	for _, n := range []string{"a", "web", "web_1", "Web.2-x", "0", "9lives", "a__..--"} {
		if !validName(n) {
			t.Errorf("validName(%q) = false, want true", n)
		}
	}
	for _, n := range []string{"", "_web", ".web", "-web", "/web", "we b", "we/b", "wéb", "web:1", "web\n", "a\x00"} {
		if validName(n) {
			t.Errorf("validName(%q) = true, want false", n)
		}
	}
}

func TestValidHostname(t *testing.T) {
	for _, h := range []string{"", "box", "my-box.example.com", "0123456789ab", strings.Repeat("a", 64)} {
		if !validHostname(h) {
			t.Errorf("validHostname(%q) = false, want true", h)
		}
	}
	for _, h := range []string{strings.Repeat("a", 65), "my_box", "my box", "bóx", "box\n", "a/b"} {
		if validHostname(h) {
			t.Errorf("validHostname(%q) = true, want false", h)
		}
	}
}

func FuzzValidNames(f *testing.F) {
	for _, s := range []string{"web", "_web", "a.b-c_d", "wéb", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validName(s), nameRE.MatchString(s); got != want {
			t.Fatalf("validName(%q) = %v, want %v", s, got, want)
		}
		if got, want := validHostname(s), hostnameRE.MatchString(s); got != want {
			t.Fatalf("validHostname(%q) = %v, want %v", s, got, want)
		}
	})
}
