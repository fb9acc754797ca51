package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpOf is the help text of the command args name.
func helpOf(t *testing.T, args ...string) string {
	t.Helper()
	args = append(args, "--help")
	root := newRootCommand(&globals{}, args)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return out.String()
}

// flagNames are the long names of the flags of a help section, in order.
func flagNames(help, section string) []string {
	_, rest, _ := strings.Cut(help, section+":\n")
	rest, _, _ = strings.Cut(rest, "\n\n")
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([\w-]+)`).FindAllStringSubmatch(rest, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestHelpOrder(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		first []string
	}{
		{[]string{"run"}, []string{"detach", "interactive", "tty", "name", "rm", "env", "volume", "publish", "network"}},
		{[]string{"ps"}, []string{"all", "quiet", "format", "filter"}},
		{[]string{"rm"}, []string{"all", "force"}},
		{[]string{"logs"}, []string{"follow", "tail"}},
		{[]string{"images"}, []string{"all", "quiet", "format"}},
	} {
		got := flagNames(helpOf(t, tc.args...), "Flags")
		if len(got) < len(tc.first) || strings.Join(got[:len(tc.first)], " ") != strings.Join(tc.first, " ") {
			t.Errorf("%s --help lists %q first, want %q", tc.args, got, tc.first)
		}
		if got[len(got)-1] != "help" {
			t.Errorf("%s --help: --help is not last: %q", tc.args, got)
		}
	}
	if got := flagNames(helpOf(t, "ps"), "Global Flags"); len(got) < 2 || got[0] != "root" || got[1] != "runroot" {
		t.Errorf("global flags start %q, want root, runroot", got)
	}
	_, cmds, _ := strings.Cut(helpOf(t), "Available Commands:\n")
	if first := strings.Fields(cmds)[0]; first != "run" {
		t.Errorf("sandbox --help lists %q first, want run", first)
	}
}

// TestHelpOneLine: every flag of every command says what it is in one line.
func TestHelpOneLine(t *testing.T) {
	root := newRootCommand(&globals{}, nil)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Usage == "" || strings.Contains(f.Usage, "\n") {
				t.Errorf("%s --%s: usage %q is not one line", c.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// TestCompleteFlagValues: flags of fixed choices, and the subcommands of
// groups, complete.
func TestCompleteFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--log-driver", ""}, "k8s-file"},
		{[]string{"create", "--pull", ""}, "newer"},
		{[]string{"wait", "--condition", ""}, "running"},
		{[]string{"ps", "--sort", ""}, "runningfor"},
		{[]string{"ps", "--filter", ""}, "exited="},
		{[]string{"save", "--format", ""}, "oci-archive"},
		{[]string{"--cgroup-manager", ""}, "cgroupfs"},
		{[]string{"ps", "--log-level", ""}, "debug"},
		{[]string{"events", "--filter", ""}, "type=image"},
	} {
		args := append([]string{"__complete"}, tc.args...)
		root := newRootCommand(&globals{}, args)
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if !strings.Contains(out.String(), tc.want+"\n") {
			t.Errorf("%q completes to %q, want %q among them", tc.args, out.String(), tc.want)
		}
	}
}
