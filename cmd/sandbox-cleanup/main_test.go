package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBadInvocations (unit): a command line that the monitor would never
// give, or a run outside sandbox's user namespace, is refused with one
// line that says what is wrong, before anything is opened.
func TestBadInvocations(t *testing.T) {
	t.Setenv(inKeeperEnv, "")
	roots := []string{"--root", t.TempDir(), "--runroot", t.TempDir()}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no id", roots, "want one container id, got 0 arguments"},
		{"two ids", append(roots[:4:4], "a", "b"), "want one container id, got 2 arguments"},
		{"no roots", []string{"--rm", "0123"}, "--root and --runroot are required"},
		{"bad backend", append(roots[:4:4], "--events-backend", "journald", "0123"), `--events-backend "journald": want file or none`},
		{"unknown flag", append(roots[:4:4], "--force", "0123"), "flag provided but not defined: -force"},
		{"by hand", append(roots[:4:4], "--rm", "0123"), "not by hand"},
	} {
		var stderr bytes.Buffer
		err := run(tc.args, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
