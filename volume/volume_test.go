// Unit tests (privilege tier: none): the store of volumes in a temporary
// directory, names and filters.
package volume

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"testing"
)

func TestCheckName(t *testing.T) {
	for name, valid := range map[string]bool{
		"a": true, "db-data": true, "A.b_c-1": true, "0": true,
		"": false, "-x": false, ".x": false, "a/b": false, "a b": false, "..": false, "_x": false,
	} {
		if err := CheckName(name); (err == nil) != valid {
			t.Errorf("CheckName(%q) = %v, want valid %v", name, err, valid)
		}
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a", "a/b", "..", "x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckName(name) == nil && (filepath.Base(name) != name || name == "." || name == "..") {
			t.Errorf("%q is accepted but is not one path element", name)
		}
	})
}

func TestStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Create(CreateOptions{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Mountpoint != filepath.Join(s.Dir(), "data", "_data") || !v.NeedsCopyUp || v.Driver != DriverLocal || v.Scope != "local" {
		t.Errorf("created %+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Errorf("mount point: %v", err)
	}
	if _, err := s.Create(CreateOptions{Name: "data"}); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v", err)
	}
	for _, o := range []CreateOptions{{Name: "a/b"}, {Name: "x", Driver: "nfs"}, {Name: "y", Options: map[string]string{"colour": "red"}}} {
		if _, err := s.Create(o); err == nil {
			t.Errorf("create %+v succeeded", o)
		}
	}
	anon, err := s.Create(CreateOptions{Anonymous: true})
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon.Name) || !anon.Anonymous {
		t.Fatalf("anonymous: %+v %v", anon, err)
	}
	got, made, err := s.GetOrCreate("data")
	if err != nil || made || got.Labels["a"] != "b" {
		t.Errorf("GetOrCreate of an existing volume: %+v %v %v", got, made, err)
	}
	if _, made, err := s.GetOrCreate("new"); err != nil || !made {
		t.Errorf("GetOrCreate of a new volume: %v %v", made, err)
	}
	if err := s.Used("data"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("data"); err != nil || got.NeedsCopyUp {
		t.Errorf("after Used: %+v %v", got, err)
	}
	// A directory without a record is no volume.
	if err := os.Mkdir(filepath.Join(s.Dir(), "stray"), 0o700); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	want := []string{anon.Name, "data", "new"}
	sort.Strings(want) // the anonymous name is random hex: it may sort anywhere
	var names []string
	for _, v := range list {
		names = append(names, v.Name)
	}
	if err != nil || !slices.Equal(names, want) {
		t.Errorf("List = %v %v, want %v", names, err, want)
	}
	removed, err := s.Prune(func(v *Volume) (bool, error) { return v.Name == "data", nil })
	if err != nil || len(removed) != 2 {
		t.Errorf("Prune removed %v, %v", removed, err)
	}
	if err := s.Remove("data"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("data"); !errors.Is(err, ErrNoSuchVolume) {
		t.Errorf("Get after Remove: %v", err)
	}
	if err := s.Remove("data"); !errors.Is(err, ErrNoSuchVolume) {
		t.Errorf("second Remove: %v", err)
	}
}

func TestFilters(t *testing.T) {
	v := &Volume{Name: "web-data", Driver: DriverLocal, Labels: map[string]string{"app": "web", "tier": ""}}
	tests := []struct {
		args  []string
		inUse bool
		want  bool
	}{
		{nil, false, true},
		{[]string{"name=web"}, false, true},
		{[]string{"name=^data"}, false, false},
		{[]string{"name=^db", "name=^web"}, false, true},
		{[]string{"label=app"}, false, true},
		{[]string{"label=app=web", "driver=local"}, false, true},
		{[]string{"label=app=db"}, false, false},
		{[]string{"label!=app"}, false, false},
		{[]string{"label!=other"}, false, true},
		{[]string{"dangling=true"}, false, true},
		{[]string{"dangling=true"}, true, false},
		{[]string{"dangling=false"}, true, true},
	}
	for _, tt := range tests {
		f, err := ParseFilters(tt.args)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got := f.Match(v, tt.inUse); got != tt.want {
			t.Errorf("%v (in use %v) = %v, want %v", tt.args, tt.inUse, got, tt.want)
		}
	}
	for _, bad := range []string{"name", "colour=red", "dangling=maybe", "name=("} {
		if _, err := ParseFilters([]string{bad}); err == nil {
			t.Errorf("ParseFilters(%q) succeeded", bad)
		}
	}
}
