// Unit tests (privilege tier: none) of --cap-add, --cap-drop and
// --privileged.

package container

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"sandbox/nsenter"
)

// without returns list less the names given.
func without(list []string, names ...string) []string {
	var out []string
	for _, c := range list {
		if !slices.Contains(names, c) {
			out = append(out, c)
		}
	}
	return out
}

func sorted(list ...string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}

func TestCapabilities(t *testing.T) {
	all := nsenter.AllCapabilities()
	def := sorted(DefaultCapabilities...)
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		wantErr    string
	}{
		{name: "defaults", want: def},
		{name: "privileged", privileged: true, want: all},
		{name: "privileged ignores drops", privileged: true, drop: []string{"ALL"}, want: all},
		{name: "add", add: []string{"NET_ADMIN"}, want: sorted(append(DefaultCapabilities, "CAP_NET_ADMIN")...)},
		{name: "add with prefix, lower case, blanks", add: []string{"cap_sys_admin", " net_admin "},
			want: sorted(append(DefaultCapabilities, "CAP_SYS_ADMIN", "CAP_NET_ADMIN")...)},
		{name: "add one already there", add: []string{"CHOWN"}, want: def},
		{name: "drop", drop: []string{"NET_RAW", "cap_mknod"}, want: without(def, "CAP_NET_RAW", "CAP_MKNOD")},
		{name: "drop one not there", drop: []string{"SYS_ADMIN"}, want: def},
		{name: "drop all", drop: []string{"ALL"}, want: []string{}},
		{name: "drop all, add some", drop: []string{"all"}, add: []string{"chown", "KILL"},
			want: []string{"CAP_CHOWN", "CAP_KILL"}},
		{name: "add all", add: []string{"ALL"}, want: all},
		// Docker: with ALL added, the dropped capabilities still go.
		{name: "add all, drop some", add: []string{"ALL"}, drop: []string{"SYS_ADMIN", "net_raw"},
			want: without(all, "CAP_SYS_ADMIN", "CAP_NET_RAW")},
		{name: "add all, drop all", add: []string{"ALL"}, drop: []string{"ALL"}, want: all},
		// Drops come first: a capability both dropped and added is kept.
		{name: "drop and add the same", drop: []string{"NET_RAW"}, add: []string{"NET_RAW"}, want: def},
		{name: "unknown add", add: []string{"FLY"},
			wantErr: `--cap-add: unknown capability "FLY": want a name like NET_ADMIN (see capabilities(7)) or ALL`},
		{name: "unknown drop", drop: []string{"cap_teleport"}, wantErr: `--cap-drop: unknown capability "cap_teleport"`},
		{name: "empty name", add: []string{""}, wantErr: `--cap-add: unknown capability ""`},
		{name: "bare prefix", drop: []string{"CAP_"}, wantErr: `unknown capability "CAP_"`},
		{name: "double prefix", add: []string{"CAP_CAP_CHOWN"}, wantErr: `unknown capability "CAP_CAP_CHOWN"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Capabilities(tt.add, tt.drop, tt.privileged)
			if !checkErr(t, "Capabilities", err, tt.wantErr) {
				return
			}
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("Capabilities(%q, %q, %v) = %q\nwant %q", tt.add, tt.drop, tt.privileged, got, tt.want)
			}
		})
	}
}

func TestAllCapabilities(t *testing.T) {
	all := nsenter.AllCapabilities()
	if !sort.StringsAreSorted(all) {
		t.Errorf("nsenter.AllCapabilities() is not sorted: %q", all)
	}
	for _, c := range append([]string{"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_BPF"}, DefaultCapabilities...) {
		if !slices.Contains(all, c) {
			t.Errorf("nsenter.AllCapabilities() lacks %s", c)
		}
	}
}

func FuzzCapabilities(f *testing.F) {
	f.Add("NET_ADMIN,chown", "NET_RAW", false)
	f.Add("ALL", "sys_admin", false)
	f.Add("", "ALL", false)
	f.Add("fly", "", true)
	f.Fuzz(func(t *testing.T, add, drop string, privileged bool) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		adds, drops := split(add), split(drop)
		got, err := Capabilities(adds, drops, privileged)
		if err != nil {
			return
		}
		all := nsenter.AllCapabilities()
		if privileged {
			if !reflect.DeepEqual(got, all) {
				t.Fatalf("privileged: %q", got)
			}
			return
		}
		if !sort.StringsAreSorted(got) {
			t.Fatalf("Capabilities(%q, %q) = %q, not sorted", adds, drops, got)
		}
		norm := func(s string) string {
			n := strings.ToUpper(strings.TrimSpace(s))
			if n != "ALL" && !strings.HasPrefix(n, "CAP_") {
				n = "CAP_" + n
			}
			return n
		}
		addAll := slices.ContainsFunc(adds, func(s string) bool { return norm(s) == "ALL" })
		for i, c := range got {
			if !slices.Contains(all, c) || i > 0 && got[i-1] == c {
				t.Fatalf("Capabilities(%q, %q) = %q: %q unknown or repeated", adds, drops, got, c)
			}
		}
		for _, a := range adds {
			if n := norm(a); n != "ALL" && !slices.Contains(got, n) {
				t.Fatalf("Capabilities(%q, %q) = %q lacks added %s", adds, drops, got, n)
			}
		}
		for _, d := range drops {
			n := norm(d)
			explicitlyAdded := slices.ContainsFunc(adds, func(s string) bool { return norm(s) == n })
			if n != "ALL" && !explicitlyAdded && slices.Contains(got, n) {
				t.Fatalf("Capabilities(%q, %q) = %q keeps dropped %s", adds, drops, got, n)
			}
		}
		if addAll {
			return
		}
		// Without ALL added, the result is within the defaults and the adds.
		for _, c := range got {
			if !slices.Contains(DefaultCapabilities, c) && !slices.ContainsFunc(adds, func(s string) bool { return norm(s) == c }) {
				t.Fatalf("Capabilities(%q, %q) = %q: %s came from nowhere", adds, drops, got, c)
			}
		}
	})
}
