package main

import (
	"strings"

	"sandbox/storage"

	"github.com/spf13/cobra"
)

// Which arguments name containers or images, by command name: all of
// them, or the first only. Cobra's own `completion bash|zsh|fish` command
// writes the scripts; these functions give it the names.
var (
	containerArgs = map[string]bool{
		"rm": true, "start": true, "stop": true, "restart": true, "kill": true, "wait": true,
		"attach": false, "exec": false, "rename": false, "logs": false, "top": false, "port": false,
		"pause": true, "unpause": true, "stats": true, "update": true,
	}
	imageArgs = map[string]bool{
		"run": false, "create": false, "rmi": true, "tag": false, "push": false, "save": false,
	}
)

// addCompletions gives every command in the tree its name completion.
func addCompletions(cmd *cobra.Command, g *globals) {
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
	list, err := s.ListImages()
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
