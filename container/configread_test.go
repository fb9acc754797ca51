package container

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sandbox/spec"
)

// TestReadConfigAsStandardLibrary: readConfig (json-iterator) decodes a
// container's configuration exactly as spec.ReadConfig (encoding/json)
// does: a real one (testdata/config.json: ports, volumes, tmpfs, labels,
// capabilities, a restart policy, the user namespace, the seccomp filter)
// and the same with its keys in other cases, which encoding/json matches
// to the fields case-insensitively.
func TestReadConfigAsStandardLibrary(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	upper := strings.NewReplacer(`"id":`, `"ID":`, `"remove":`, `"REMOVE":`, `"filter":`, `"Filter":`).Replace(string(data))
	dir := t.TempDir()
	for name, text := range map[string]string{"as written": string(data), "keys in other cases": upper, "broken": string(data[:len(data)/2])} {
		path := filepath.Join(dir, "config.json")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		want, werr := spec.ReadConfig(path)
		got, gerr := readConfig(path)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: errors differ: encoding/json %v, json-iterator %v", name, werr, gerr)
		}
		if werr != nil {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: json-iterator decodes\n%+v\nencoding/json\n%+v", name, got, want)
		}
		if name == "as written" && (want.Spec.Seccomp == nil || len(want.Spec.Seccomp.Filter) == 0 || len(want.Host.Ports) == 0) {
			t.Errorf("testdata/config.json lacks the seccomp filter or the ports it is there for")
		}
	}
	if _, err := readConfig(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file reads without error")
	}
}
