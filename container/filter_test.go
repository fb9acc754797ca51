// Unit tests (privilege tier: none) of ps --filter.

package container

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	imgA = "383bc35fc8c7f035c278995bd64e7103aa6635c66730f8b4985df9dcfc3de6b6"
	imgB = "fa4d0fb29dcf2d4fa094bae8a27ffc84cca8f1609aa0f71dbb54b1d4bcdf16bf"
)

var filterSet = []Summary{
	{ID: "aaaa1111", Name: "web", State: "running", Image: "busybox", ImageID: imgA, Labels: map[string]string{"tier": "front", "x": ""}},
	{ID: "aaaa2222", Name: "web-old", State: "exited", Image: "busybox:latest", ImageID: imgA},
	{ID: "bbbb3333", Name: "db", State: "created", Image: "registry.local/db:1", ImageID: imgB, Labels: map[string]string{"tier": "back"}},
	{ID: "cccc4444", Name: "job", State: "restarting", Image: "docker.io/library/busybox:latest", ImageID: imgA},
}

func TestFilters(t *testing.T) {
	tests := []struct {
		name    string
		filters []string
		// ids sets AncestorFilter.ImageID as the runtime would, by ref.
		ids  map[string]string
		want string // names of the matches, space-separated
	}{
		{name: "none", want: "web web-old db job"},
		{name: "status", filters: []string{"status=exited"}, want: "web-old"},
		{name: "two statuses or", filters: []string{"status=exited", "status=created"}, want: "web-old db"},
		{name: "status paused matches none", filters: []string{"status=paused"}, want: ""},
		{name: "status restarting", filters: []string{"status=restarting"}, want: "job"},
		{name: "name is a regexp", filters: []string{"name=^web"}, want: "web web-old"},
		{name: "name anywhere", filters: []string{"name=o"}, want: "web-old job"},
		{name: "name with docker's slash", filters: []string{"name=^/db$"}, want: "db"},
		{name: "name exact", filters: []string{"name=^web$"}, want: "web"},
		{name: "two names or", filters: []string{"name=^db$", "name=^job$"}, want: "db job"},
		{name: "label key", filters: []string{"label=tier"}, want: "web db"},
		{name: "label key=value", filters: []string{"label=tier=back"}, want: "db"},
		{name: "label empty value", filters: []string{"label=x="}, want: "web"},
		{name: "label wrong value", filters: []string{"label=tier=middle"}, want: ""},
		{name: "two labels and", filters: []string{"label=tier=back", "label=x"}, want: ""},
		{name: "two labels both", filters: []string{"label=tier", "label=x"}, want: "web"},
		{name: "id prefix", filters: []string{"id=aaaa"}, want: "web web-old"},
		{name: "id is a prefix, not a substring", filters: []string{"id=1111"}, want: ""},
		{name: "ancestor by resolved id", filters: []string{"ancestor=db-image"}, ids: map[string]string{"db-image": imgB}, want: "db"},
		{name: "ancestor by name", filters: []string{"ancestor=busybox"}, want: "web web-old job"},
		{name: "ancestor by other tag", filters: []string{"ancestor=busybox:1"}, want: ""},
		{name: "ancestor by full name", filters: []string{"ancestor=registry.local/db:1"}, want: "db"},
		{name: "ancestor by id prefix", filters: []string{"ancestor=fa4d0f"}, want: "db"},
		{name: "ancestor by sha256 id prefix", filters: []string{"ancestor=sha256:383bc3"}, want: "web web-old job"},
		{name: "ancestor unknown", filters: []string{"ancestor=nosuch"}, want: ""},
		{name: "different keys and", filters: []string{"status=running", "name=^web"}, want: "web"},
		{name: "and of ors", filters: []string{"status=running", "status=exited", "ancestor=busybox", "label=tier"}, want: "web"},
		{name: "key case-insensitive", filters: []string{"STATUS=created"}, want: "db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilters(tt.filters)
			if err != nil {
				t.Fatal(err)
			}
			for i := range f.Ancestor {
				f.Ancestor[i].ImageID = tt.ids[f.Ancestor[i].Ref]
			}
			var got []string
			for _, s := range filterSet {
				if f.Match(s) {
					got = append(got, s.Name)
				}
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("filters %q match %q, want %q", tt.filters, g, tt.want)
			}
		})
	}
}

func TestParseFiltersErrors(t *testing.T) {
	tests := []struct {
		filter string
		want   string
	}{
		{"bogus=1", "unknown key"},
		{"status", "KEY=VALUE"},
		{"status=", "empty value"},
		{"status=sleeping", "unknown status"},
		{"name=[", "regular expression"},
		{"label==x", "label=KEY"},
		{"exited=zero", "exited"},
	}
	for _, tt := range tests {
		_, err := ParseFilters([]string{"status=running", tt.filter})
		if err == nil {
			t.Errorf("ParseFilters(%q): no error", tt.filter)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.filter) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseFilters(%q) error %q: want one line naming the filter and %q", tt.filter, err, tt.want)
		}
	}
}

func TestFiltersNil(t *testing.T) {
	var f *Filters
	if !f.Match(filterSet[0]) || f.HasStatus() {
		t.Error("nil filters must pass everything and imply no status")
	}
	f, err := ParseFilters([]string{"status=exited"})
	if err != nil || !f.HasStatus() {
		t.Errorf("status filter: HasStatus false (%v)", err)
	}
}

func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{"status=running", "name=^w.b$", "label=a=b", "label=a", "ancestor=busybox", "id=abc", "x", "name=(",
		"exited=3", "before=web", "since=db", "volume=/data", "network=none", "health=none", "health=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		fs, err := ParseFilters([]string{filter})
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(filter)) {
				t.Fatalf("ParseFilters(%q) error %q does not name it", filter, err)
			}
			return
		}
		n := len(fs.Status) + len(fs.Name) + len(fs.Label) + len(fs.Ancestor) + len(fs.ID) +
			len(fs.Exited) + len(fs.Before) + len(fs.Since) + len(fs.Volume) + len(fs.Network) + len(fs.Health)
		if n != 1 {
			t.Fatalf("ParseFilters(%q) gave %d values, want 1", filter, n)
		}
		for _, s := range filterSet {
			fs.Match(s) // must not panic
		}
		// Filters of different keys and: together they pass only what
		// each passes alone.
		other := "id=aaaa1111"
		if len(fs.ID) > 0 {
			other = "status=running"
		}
		second, err := ParseFilters([]string{other})
		if err != nil {
			t.Fatal(err)
		}
		both, err := ParseFilters([]string{filter, other})
		if err != nil {
			t.Fatalf("ParseFilters(%q, %q): %v", filter, other, err)
		}
		for _, s := range filterSet {
			if both.Match(s) != (fs.Match(s) && second.Match(s)) {
				t.Fatalf("%q with %q: match of %s is not the and of both", filter, other, s.Name)
			}
		}
	})
}

func TestFiltersMore(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := []Summary{
		{ID: "a1", Name: "old", State: "exited", ExitCode: 3, Created: t0, NetworkMode: "none",
			Mounts: []InspectMount{{Type: "bind", Source: "/tmp", Destination: "/data"}}},
		{ID: "b2", Name: "mid", State: "exited", ExitCode: 0, Created: t0.Add(time.Second), NetworkMode: "slirp4netns",
			Mounts: []InspectMount{{Type: "tmpfs", Destination: "/tmp"}}},
		{ID: "c3", Name: "new", State: "created", Created: t0.Add(2 * time.Second), NetworkMode: "host"},
	}
	mid := RefFilter{Ref: "mid", ID: "b2", Created: t0.Add(time.Second)}
	tests := []struct {
		filters []string
		refs    []RefFilter // filled in for before= and since=, in order
		want    string
	}{
		{filters: []string{"exited=3"}, want: "old"},
		{filters: []string{"exited=0"}, want: "mid"},
		{filters: []string{"exited=0", "exited=3"}, want: "old mid"},
		{filters: []string{"before=mid"}, refs: []RefFilter{mid}, want: "old"},
		{filters: []string{"since=mid"}, refs: []RefFilter{mid}, want: "new"},
		{filters: []string{"volume=/data"}, want: "old"},
		{filters: []string{"volume=/tmp/"}, want: "old"}, // a source; a tmpfs is no bind mount
		{filters: []string{"volume=/nope"}, want: ""},
		{filters: []string{"network=none"}, want: "old"},
		{filters: []string{"network=host", "network=slirp4netns"}, want: "mid new"},
		{filters: []string{"health=none"}, want: "old mid new"},
		{filters: []string{"health=healthy"}, want: ""},
		{filters: []string{"health=none", "exited=3"}, want: "old"},
	}
	for _, tt := range tests {
		f, err := ParseFilters(tt.filters)
		if err != nil {
			t.Fatal(err)
		}
		refs := tt.refs
		for i := range f.Before {
			f.Before[i], refs = refs[0], refs[1:]
		}
		for i := range f.Since {
			f.Since[i], refs = refs[0], refs[1:]
		}
		var got []string
		for _, s := range set {
			if f.Match(s) {
				got = append(got, s.Name)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("filters %q match %q, want %q", tt.filters, g, tt.want)
		}
	}
	for _, bad := range []string{"exited=x", "exited=-1", "exited=256", "health=bogus", "before=", "nope=1"} {
		if _, err := ParseFilters([]string{bad}); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("ParseFilters(%q): %v, want an error naming it", bad, err)
		}
	}
}

func TestFilterEveryNetwork(t *testing.T) {
	s := Summary{ID: "d4", NetworkMode: "front", Networks: []string{"front", "back"}, NetworkIDs: []string{"f1d", "b4c"}}
	for value, want := range map[string]bool{"front": true, "back": true, "b4c": true, "other": false, "slirp4netns": false} {
		f, err := ParseFilters([]string{"network=" + value})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(s); got != want {
			t.Errorf("network=%s on a container on front and back: %v, want %v", value, got, want)
		}
	}
}
