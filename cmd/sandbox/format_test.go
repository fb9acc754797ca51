// Unit tests (privilege tier: none) of --format's table headers.

package main

import (
	"strings"
	"testing"
)

func TestHeaderFor(t *testing.T) {
	tests := []struct{ format, want string }{
		{`{{.ID}}\t{{.Image}}`, "CONTAINER ID\tIMAGE"},
		{"{{.RunningFor}} {{.Names}}", "CREATED NAMES"},
		{"{{.ExitCode}} {{.ImageID}} {{.Pid}}", "EXIT CODE IMAGE ID PID"},
		{"{{.Labels.tier}}", "LABELS"},
		{"{{json .Labels}}", "LABELS"},
		{`{{ .LocalVolumes }}`, "LOCAL VOLUMES"},
		{`{{.Label "tier"}}`, "LABEL"},
		{"name: {{.Names}}", "name: NAMES"},
		{`{{upper "x"}}`, `UPPER "X"`},
	}
	for _, tt := range tests {
		if got := headerFor(tt.format, psColumns); got != tt.want {
			t.Errorf("headerFor(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
}

func FuzzHeaderFor(f *testing.F) {
	for _, s := range []string{"{{.ID}}", "{{.ExitCode}} x", "{{", "}}{{.}}", "{{-.A-}}", "{{.ÉtéÀ}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, format string) {
		h := headerFor(format, psColumns)
		if !strings.Contains(format, "{{") && h != strings.ReplaceAll(format, `\t`, "\t") {
			t.Fatalf("headerFor(%q) = %q changed text with no field", format, h)
		}
	})
}
