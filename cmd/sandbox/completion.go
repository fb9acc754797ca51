package main

import (
	"fmt"
	"sort"
	"strings"

	"sandbox/container"
	"sandbox/storage"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Which arguments name containers or images, by command name: all of
// them, or the first only. Cobra's own `completion bash|zsh|fish` command
// writes the scripts; these functions give it the names.
var (
	containerArgs = map[string]bool{
		"rm": true, "start": true, "stop": true, "restart": true, "kill": true, "wait": true,
		"attach": false, "exec": false, "rename": false, "logs": true, "port": false,
		"pause": true, "unpause": true, "stats": true, "update": true,
	}
	imageArgs = map[string]bool{
		"run": false, "create": false, "rmi": true, "tag": false, "push": false, "save": false,
	}
)

// flagValues are the values that flags of fixed choices complete to, by
// flag name; "COMMAND/FLAG" for a flag whose values depend on its command.
var flagValues = map[string][]string{
	"log-driver":     {"k8s-file", "json-file", "none", "passthrough"},
	"pull":           {"missing", "always", "never", "newer"},
	"userns":         {"keep-id"},
	"network":        {"bridge", "slirp4netns", "pasta", "none", "host", "container:"},
	"restart":        {"no", "on-failure", "always", "unless-stopped"},
	"tz":             {"local"},
	"condition":      container.WaitConditions,
	"sort":           container.SortKeys,
	"cgroup-manager": {"auto", "systemd", "cgroupfs"},
	"log-level":      logLevels,
	"events-backend": {"file", "journald", "none"},
	"save/format":    {"docker-archive", "oci-archive"},
	"build/progress": {"auto", "plain", "tty"},
	"ps/format":      {"json", "table"},
	"images/format":  {"json", "table"},
	"events/format":  {"json"},
	"info/format":    {"json"},
	"version/format": {"json"},
	"inspect/type":   {"container", "image"},
	"ps/filter": {"status=", "name=", "label=", "ancestor=", "id=", "exited=", "before=", "since=",
		"volume=", "network=", "health="},
	"events/filter": {"container=", "image=", "event=", "status=", "type=container", "type=image", "label="},
}

// groupArgs complete the names of the subcommands of groups: container
// exists and inspect name containers, image exists and inspect images.
var groupArgs = map[string]bool{"container exists": true, "container inspect": true, "image exists": false, "image inspect": false}

// completeFlagValues registers flagValues' completions on cmd's flags.
func completeFlagValues(cmd *cobra.Command) {
	register := func(f *pflag.Flag) {
		values, ok := flagValues[cmd.Name()+"/"+f.Name]
		if !ok {
			values, ok = flagValues[f.Name]
		}
		if !ok {
			return
		}
		if _, exists := cmd.GetFlagCompletionFunc(f.Name); exists {
			return
		}
		vals := values
		if err := cmd.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		}); err != nil {
			panic(fmt.Sprintf("completion of --%s: %v", f.Name, err)) // a programming error, found by the unit test
		}
	}
	cmd.Flags().VisitAll(register)
	if !cmd.HasParent() {
		cmd.PersistentFlags().VisitAll(register)
	}
}

// addCompletions gives every command in the tree its name completion.
func addCompletions(cmd *cobra.Command, g *globals) {
	completeFlagValues(cmd)
	if cmd.HasParent() {
		if containers, ok := groupArgs[cmd.Parent().Name()+" "+cmd.Name()]; ok && cmd.ValidArgsFunction == nil {
			if containers {
				cmd.ValidArgsFunction = completeNames(true, func(prefix string) []string { return containerNames(g, prefix) })
			} else {
				cmd.ValidArgsFunction = completeNames(true, func(prefix string) []string { return imageNames(g, prefix) })
			}
		}
	}
	if cmd.Name() == "top" && cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return containerNames(g, prefix), cobra.ShellCompDirectiveNoFileComp
			}
			var ds []string
			for d := range topDescriptors {
				ds = append(ds, d)
			}
			sort.Strings(ds)
			return ds, cobra.ShellCompDirectiveNoFileComp
		}
	}
	if all, ok := containerArgs[cmd.Name()]; ok && cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = completeNames(all, func(prefix string) []string { return containerNames(g, prefix) })
	}
	if all, ok := imageArgs[cmd.Name()]; ok && cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = completeNames(all, func(prefix string) []string { return imageNames(g, prefix) })
	}
	if cmd.Name() == "inspect" && cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = completeNames(true, func(prefix string) []string {
			return append(containerNames(g, prefix), imageNames(g, prefix)...)
		})
	}
	for _, c := range cmd.Commands() {
		addCompletions(c, g)
	}
}

func completeNames(all bool, names func(prefix string) []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if !all && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return names(prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// containerNames are the names and short ids of containers starting with
// prefix; errors give no names (a completion has nowhere to report them).
func containerNames(g *globals, prefix string) []string {
	rt, err := g.runtime()
	if err != nil {
		return nil
	}
	list, err := rt.List(true)
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range list {
		for _, n := range []string{c.Name, c.ID[:12]} {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
	}
	return out
}

func imageNames(g *globals, prefix string) []string {
	s, err := g.store()
	if err != nil {
		return nil
	}
	list, err := s.ListImages(false)
	if err != nil {
		return nil
	}
	var out []string
	for _, img := range list {
		name := img.Repository + ":" + img.Tag
		if img.Repository == "<none>" {
			name = img.ID[:12]
		}
		if strings.HasPrefix(name, prefix) || strings.HasPrefix(storage.FamiliarName(name), prefix) {
			out = append(out, name)
		}
	}
	return out
}
