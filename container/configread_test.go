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

// TestReadConfigHead: ps's reading decodes all of a configuration but its
// runtime spec, which it leaves zero, and the buffer it is given serves
// the next file.
func TestReadConfigHead(t *testing.T) {
	path := filepath.Join("testdata", "config.json")
	full, err := readConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i := 0; i < 2; i++ {
		head, err := readConfigHead(path, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(head.Spec, full.Spec) {
			t.Fatal("the runtime spec was decoded")
		}
		want := *full
		want.Spec = spec.Spec{}
		if !reflect.DeepEqual(*head, want) {
			t.Fatalf("read %d: decodes\n%+v\nwant\n%+v", i, *head, want)
		}
		if cap(buf) == 0 {
			t.Fatal("the buffer was not kept")
		}
		// What was decoded does not share the buffer, which the next read fills.
		for j := range buf[:cap(buf)] {
			buf[:cap(buf)][j] = 'x'
		}
		if !reflect.DeepEqual(*head, want) {
			t.Fatalf("read %d: the decoded configuration changed with the buffer", i)
		}
	}
	if _, err := readConfigHead(filepath.Join(t.TempDir(), "missing.json"), &buf); err == nil {
		t.Error("a missing file reads without error")
	}
}
