// Unit tests (privilege tier: none) of building only the subcommand
// called.

package main

import (
	"maps"
	"slices"
	"testing"

	"sandbox/prerun"
)

func TestCalledName(t *testing.T) {
	global := map[string]bool{"--root": true, "--runroot": true}
	tests := []struct {
		args, rest []string
		want       string
	}{
		{[]string{"run", "--rm", "busybox"}, []string{"--rm", "busybox"}, "run"},
		{[]string{"--root", "/r", "ps"}, []string{}, "ps"},
		{[]string{"--root=/r", "--runroot", "/x", "container", "cleanup"}, []string{"cleanup"}, "container"},
		{[]string{"--root"}, nil, ""},
		{[]string{"--root", "run"}, nil, ""},
		{[]string{"--help", "run"}, nil, ""},
		{[]string{"-h"}, nil, ""},
		{[]string{"--unknown", "run"}, nil, ""},
		{nil, nil, ""},
	}
	for _, tt := range tests {
		if got, rest := calledName(tt.args, global); got != tt.want || !slices.Equal(rest, tt.rest) {
			t.Errorf("calledName(%q) = %q, %q; want %q, %q", tt.args, got, rest, tt.want, tt.rest)
		}
	}
}

// TestSubcommandNames: the names each table gives match the commands it
// builds, so that a command called by name is the one built; and a called
// command is built alone.
func TestSubcommandNames(t *testing.T) {
	g := &globals{}
	for group, subs := range map[string][]subcommand{"sandbox": rootSubcommands(g), "container": containerSubcommands(g), "image": imageSubcommands(g)} {
		for _, s := range subs {
			c := s.build(nil)
			want := append([]string{c.Name()}, c.Aliases...)
			if !slices.Equal(s.names, want) {
				t.Errorf("%s: table names %q, the command %q", group, s.names, want)
			}
		}
	}
	root := newRootCommand(g, []string{"--root", "/r", "ps", "-a"})
	if n := len(root.Commands()); n != 1 || root.Commands()[0].Name() != "ps" {
		t.Errorf("sandbox --root /r ps -a built %d commands", n)
	}
	root = newRootCommand(g, []string{"container", "cleanup", "--rm", "x"})
	if c, _, err := root.Find([]string{"container", "cleanup"}); err != nil || c.Name() != "cleanup" || len(c.Parent().Commands()) != 1 {
		t.Errorf("sandbox container cleanup: %v, %v", c, err)
	}
	if all := newRootCommand(g, []string{"help", "run"}); len(all.Commands()) < len(rootSubcommands(g)) {
		t.Errorf("sandbox help run built %d commands, want all %d", len(all.Commands()), len(rootSubcommands(g)))
	}
}

// TestGlobalValueFlags: the pre-runtime hook, which finds the command
// before Go runs (to leave check outside the keeper), skips the values of
// the same global flags as the root command defines.
func TestGlobalValueFlags(t *testing.T) {
	root := newRootCommand(&globals{}, nil)
	want := slices.Sorted(maps.Keys(valueFlags(root.PersistentFlags())))
	got := slices.Sorted(slices.Values(prerun.GlobalValueFlags()))
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("prerun/hook.c's sandbox_global_value_flags are %q; the root command's flags that take a value are %q (the hook knows long forms only)", got, want)
	}
	if v := valueFlags(root.PersistentFlags()); !v["--cgroup-manager"] || v["--help"] {
		t.Errorf("valueFlags of the root: %v", v)
	}
}
