// Unit tests (privilege tier: none) of what the monitor reads of a
// container's config.json.

package monitor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sandbox/spec"
)

// containerConfig names spec.Config's fields with their JSON names: each
// one read back must be the value a config.json written from a Config
// holds, or the monitor would see a zero where the command set a value.
func TestContainerConfigReadsConfig(t *testing.T) {
	var c spec.Config
	c.ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	c.Name = "named"
	c.Image = "busybox:latest"
	c.Labels = map[string]string{"a": "b"}
	c.Remove = true
	c.Host.Restart = spec.RestartPolicy{Name: spec.RestartOnFailure, MaximumRetryCount: 3}
	c.Host.Log = spec.LogConfig{Driver: spec.LogK8sFile, Path: "/x/ctr.log", MaxSize: 1 << 20, MaxFile: 4}
	c.Host.Timeout = 7
	c.Spec.Process.Terminal = true
	c.Spec.Process.Args = []string{"true"}
	data, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var got containerConfig
	if err := spec.ReadConfigInto(path, &got); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", got.ID, c.ID},
		{"name", got.Name, c.Name},
		{"image", got.Image, c.Image},
		{"labels", got.Labels, c.Labels},
		{"remove", got.Remove, c.Remove},
		{"restart", got.Host.Restart, c.Host.Restart},
		{"log", got.Host.Log, c.Host.Log},
		{"timeout", got.Host.Timeout, c.Host.Timeout},
		{"terminal", got.Spec.Process.Terminal, c.Spec.Process.Terminal},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: read %v, config.json has %v", ch.name, ch.got, ch.want)
		}
	}
}
