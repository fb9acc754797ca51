// Tests (privilege tier: none; they run go list) of the tool on the real
// tree: it passes, and a deliberate bad import, added through go list's
// overlay, is reported alone.

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tags are the Makefile's TAGS.
const tags = "exclude_graphdriver_btrfs exclude_graphdriver_devicemapper exclude_graphdriver_zfs containers_image_openpgp"

func TestTree(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if n, err := run(options{dir: root, tags: tags}, &out); err != nil || n != 0 {
		t.Fatalf("the tree breaks %d lines (%v):\n%s", n, err, out.String())
	}
	tests := []struct {
		name, file, content string
		want                []string
	}{
		{"spec imports a driver", "spec/zz_bad.go", "package spec\n\nimport _ \"sandbox/userns\"\n", []string{
			"sandbox/spec imports sandbox/userns: spec links nothing of sandbox but sandbox/internal: no driver, no engine",
			// and through spec, the cleanup binary would link the keeper's
			// package, and the monitor the cgo hook.
			"sandbox/spec imports sandbox/userns (linked by sandbox/cmd/sandbox-cleanup): the cleanup binary links no engine, command line, containers/image, D-Bus, HTTP or cgo of sandbox's own",
			"sandbox/userns imports sandbox/prerun (linked by sandbox/cmd/sandbox-monitor): the monitor and init binary links no containers/image, D-Bus, HTTP, cobra or cgo",
			"sandbox/spec imports sandbox/userns (linked by sandbox/cmd/sandbox-exec): the short exec command links no engine, store, containers/image, cobra, D-Bus, HTTP or cgo",
		}},
		{"a loop between folders", "cgroupv2/systemd/zz_bad.go", "package systemd\n\nimport _ \"sandbox/monitor\"\n", []string{
			"sandbox/cgroupv2/systemd imports sandbox/monitor: no loop among top-level packages (cgroupv2, monitor)",
			"sandbox/monitor imports sandbox/cgroupv2: no loop among top-level packages (cgroupv2, monitor)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "bad.go")
			if err := os.WriteFile(src, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(root, tt.file): src}})
			if err != nil {
				t.Fatal(err)
			}
			overlayFile := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			n, err := run(options{dir: root, tags: tags, overlay: overlayFile}, &out)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("with %s:\n%s", tt.file, out.String())
			if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); n != len(tt.want) || strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %d violations:\n%s\nwant:\n%s", n, out.String(), strings.Join(tt.want, "\n"))
			}
		})
	}
}
