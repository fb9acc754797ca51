// Unit tests (privilege tier: none) of the monitor's reading of a
// container's configuration.

package monitor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"sandbox/spec"
)

// TestReadConfig: the monitor reads all of a configuration but its runtime
// spec, of which it keeps whether the process has a terminal.
func TestReadConfig(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		full := spec.Config{ID: "0123456789abcdef0123", Name: "c", Image: "busybox", Created: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
			Labels: map[string]string{"a": "b"}, Remove: true}
		full.Host.Timeout = 7
		full.Host.Restart = spec.RestartPolicy{Name: spec.RestartOnFailure, MaximumRetryCount: 3}
		full.Host.Log = spec.LogConfig{MaxSize: 1 << 20, MaxFile: 2}
		full.Spec.Process.Terminal = terminal
		full.Spec.Process.Args = []string{"sleep", "1"}
		full.Spec.Hostname = "h"
		data, err := json.Marshal(&full)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		want := full
		want.Spec = spec.Spec{}
		want.Spec.Process.Terminal = terminal
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("terminal %v: read\n%+v\nwant\n%+v", terminal, *got, want)
		}
	}
	if _, err := readConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file reads without error")
	}
}
