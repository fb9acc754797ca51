// Unit tests (privilege tier: none) of the step names.

package faultinject

import (
	"strings"
	"testing"
)

func TestStepsNamed(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Steps {
		if seen[s] {
			t.Errorf("step %s listed twice", s)
		}
		seen[s] = true
		if cmd, what, ok := strings.Cut(s, "."); !ok || cmd == "" || what == "" {
			t.Errorf("step %q: want COMMAND.WHAT", s)
		}
	}
	for _, s := range []string{PullBlob, PullCommit, ImportBlob, ImportCommit} {
		if !seen[s] {
			t.Errorf("progress step %s not in Steps", s)
		}
	}
}

func TestProgressStep(t *testing.T) {
	tests := []struct{ prefix, line, want string }{
		{"pull.", "Copying blob sha256:e251b41b6db6", PullBlob},
		{"import.", "Copying blob sha256:e251b41b6db6 done", ImportBlob},
		{"pull.", "Writing manifest to image destination", PullCommit},
		{"pull.", "Copying config sha256:0841", ""},
		{"pull.", "Getting image source signatures", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := progressStep(tt.prefix, tt.line); got != tt.want {
			t.Errorf("progressStep(%q, %q) = %q, want %q", tt.prefix, tt.line, got, tt.want)
		}
	}
}
