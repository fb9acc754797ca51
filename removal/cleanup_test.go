package removal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sandbox/spec"
)

// TestReadConfig (unit): the cleanup's reading decodes a configuration's
// id, name, image, labels and runtime spec mounts, the volumes' names with
// them, and leaves the rest zero.
func TestReadConfig(t *testing.T) {
	full := spec.Config{
		ID: "0123456789ab", Name: "web", Image: "busybox", ImageID: "sha256:abcd",
		Command: []string{"sh"}, Labels: map[string]string{"a": "b"}, Remove: true,
		Storage: spec.StorageRef{GraphRoot: "/g", RunRoot: "/r", Driver: "overlay"},
		Spec: spec.Spec{
			Rootfs:   "/g/overlay/x/merged",
			Process:  spec.Process{Args: []string{"sh"}, Cwd: "/"},
			Hostname: "web",
			Mounts: []spec.Mount{
				{Type: "tmpfs", Destination: "/tmp", Data: "size=64k"},
				{Type: "bind", Source: "/v/_data", Destination: "/data", Volume: "0123abcd"},
			},
			Seccomp: &spec.Seccomp{},
		},
	}
	data, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := spec.Config{ID: full.ID, Name: full.Name, Image: full.Image, Labels: full.Labels, Spec: spec.Spec{Mounts: full.Spec.Mounts}}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("decodes\n%+v\nwant\n%+v", *got, want)
	}
	if _, err := ReadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file reads without error")
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadConfig(path); err == nil {
		t.Error("half a file reads without error")
	}
}

// TestLayerID (unit): a container's layer id is derived from its id as
// every earlier version derived it (a store made by one is cleaned by the
// next: DeleteOrphanLayer finds a killed create's layer by it), and is
// not the container's id.
func TestLayerID(t *testing.T) {
	id := "85f567857be5b938785a80ad8d2e1049c8c56ac61dcec4cddc0e17eca0dc1c41"
	want := "031e7035994ce326a2144efb90fc53335364357ed6908b0c4b15803b31817da0"
	if got := LayerID(id); got != want {
		t.Fatalf("LayerID(%s) = %s, want %s", id, got, want)
	}
}
