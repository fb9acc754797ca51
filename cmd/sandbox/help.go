package main

import (
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagImportance is the order help lists flags in: the ones a user of
// podman reaches for first, then the rest alphabetically, --help last.
// One list serves every command: each lists the flags it has in this
// order.
var flagImportance = []string{
	// what runs, and how it is attached
	"all", "force", "detach", "interactive", "tty", "name", "rm", "env", "volume", "publish", "network",
	"user", "workdir", "entrypoint", "userns", "pull", "replace", "restart", "label", "memory", "cpus",
	"attach", "detach-keys",
	// what is printed
	"quiet", "format", "filter", "latest", "last", "no-trunc", "noheading", "sort", "size", "external",
	"follow", "tail", "timestamps", "since", "until", "names", "stream", "no-stream", "type",
	// how it ends
	"time", "timeout", "signal", "ignore", "condition", "running",
	// images
	"output", "input", "change", "message", "tls-verify", "authfile",
	// global
	"root", "runroot", "storage-driver", "cgroup-manager", "log-level", "events-backend", "runtime",
	"runtime-flag", "noout",
}

// orderedFlags is fs's usage text with its flags in flagImportance's
// order.
func orderedFlags(fs *pflag.FlagSet) string {
	rank := map[string]int{}
	for i, n := range flagImportance {
		rank[n] = i
	}
	var flags []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) { flags = append(flags, f) })
	sort.SliceStable(flags, func(i, j int) bool {
		a, b := flags[i].Name, flags[j].Name
		if (a == "help") != (b == "help") {
			return b == "help"
		}
		ra, oka := rank[a]
		rb, okb := rank[b]
		switch {
		case oka && okb:
			return ra < rb
		case oka != okb:
			return oka
		}
		return a < b
	})
	out := pflag.NewFlagSet("", pflag.ContinueOnError)
	out.SortFlags = false
	for _, f := range flags {
		out.AddFlag(f)
	}
	return out.FlagUsages()
}

// usageTemplate is cobra's, with the flags in orderedFlags's order and the
// commands in the order they were added (most used first).
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Available Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{orderedFlags .LocalFlags | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{orderedFlags .InheritedFlags | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`

// setHelp makes root's help (and its commands') list flags by importance
// and commands in the order they were added.
func setHelp(root *cobra.Command) {
	cobra.EnableCommandSorting = false
	cobra.AddTemplateFunc("orderedFlags", orderedFlags)
	root.SetUsageTemplate(usageTemplate)
}
