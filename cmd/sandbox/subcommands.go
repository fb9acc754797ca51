package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A command's subcommands are built on demand: the one the command line
// calls, by name or alias, is built alone; otherwise all are (help,
// completion, no command, or one that is not there and needs cobra's
// "did you mean"). Defining every command's flags cost about a third of a
// millisecond at every start of sandbox, and a container's start starts
// sandbox twice (run, then its cleanup).
type subcommand struct {
	names []string // the name, then the aliases
	// build builds the command; rest are the arguments after its name
	// when it is the one called (a group builds its own subcommands so),
	// else nil.
	build func(rest []string) *cobra.Command
}

// leaf is a subcommand without subcommands of its own.
func leaf(g *globals, build func(*globals) *cobra.Command, names ...string) subcommand {
	return subcommand{names: names, build: func([]string) *cobra.Command { return build(g) }}
}

// addSubcommands adds to cmd the subcommand of subs that args (the
// arguments after cmd's own name) call, or all of subs. valueFlags are
// the flags that may come before the subcommand's name and take a value.
func addSubcommands(cmd *cobra.Command, subs []subcommand, args []string, valueFlags map[string]bool) {
	if name, rest := calledName(args, valueFlags); name != "" {
		for _, s := range subs {
			for _, n := range s.names {
				if n == name {
					cmd.AddCommand(s.build(rest))
					return
				}
			}
		}
	}
	for _, s := range subs {
		cmd.AddCommand(s.build(nil))
	}
}

// calledName is the first argument that is not a flag, and the arguments
// after it, when every flag before it is one of valueFlags (with its
// value, as --flag VALUE or --flag=VALUE); "" otherwise: another flag
// (--help, say) may change what the command line means.
func calledName(args []string, valueFlags map[string]bool) (name string, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, args[i+1:]
		}
		flag, _, hasValue := strings.Cut(a, "=")
		if !valueFlags[flag] {
			return "", nil
		}
		if !hasValue {
			i++
		}
	}
	return "", nil
}

// valueFlags are the flags of fs that take a value, as a command line
// names them: --name, and -x for a shorthand. A flag whose value may be
// left out (a bool) is not one.
func valueFlags(fs *pflag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.NoOptDefVal != "" {
			return
		}
		m["--"+f.Name] = true
		if f.Shorthand != "" {
			m["-"+f.Shorthand] = true
		}
	})
	return m
}

// newGroup is a command that only holds subcommands (container, image):
// without arguments it prints its help, as docker does; with a name that
// is none of its subcommands it fails as cobra fails for the root,
// 'unknown command "NAME" for "sandbox GROUP"' (exit 125), where cobra
// alone would print the help and succeed.
func newGroup(use, short string) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
		},
	}
}

// atLeastOne requires an argument, and says what is missing in podman's
// words when there is none.
func atLeastOne(msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return errors.New(msg)
		}
		return nil
	}
}
