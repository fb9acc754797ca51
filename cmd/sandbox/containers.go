package main

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"sandbox/container"
	"sandbox/spec"
	"sandbox/userns"

	"github.com/spf13/cobra"
)

func newPsCommand(g *globals) *cobra.Command {
	var quiet, noTrunc, latest bool
	var format string
	var filters []string
	o := container.ListOptions{}
	cmd := &cobra.Command{
		Use:     "ps [flags]",
		Aliases: []string{"list", "ls"},
		Short:   "List containers",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.Filters, err = container.ParseFilters(filters); err != nil {
				return err
			}
			if latest && o.Last == -1 { // as docker: -n wins
				o.Last = 1
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			list, err := rt.ListWith(o)
			if err != nil {
				return err
			}
			if quiet {
				for _, c := range list {
					fmt.Println(shortID(c.ID, noTrunc))
				}
				return nil
			}
			rows := make([]any, len(list))
			for i, c := range list {
				rows[i] = psRow{s: c, noTrunc: noTrunc}
			}
			return printFormatted(os.Stdout, format, psColumns, rows)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.All, "all", "a", false, "show all containers (default shows just running)")
	f.BoolVarP(&latest, "latest", "l", false, "show the latest created container, in any state")
	f.IntVarP(&o.Last, "last", "n", -1, "show the n last created containers, in any state")
	f.StringArrayVarP(&filters, "filter", "f", nil, "filter: status=STATE, name=REGEXP, label=KEY[=VALUE], ancestor=IMAGE, id=PREFIX (repeatable)")
	f.BoolVarP(&quiet, "quiet", "q", false, "only display container ids")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	f.StringVar(&format, "format", "", "format: table, json, or a Go template")
	return cmd
}

// psRow is one container for --format: the fields docker's templates use.
type psRow struct {
	s       container.Summary
	noTrunc bool
}

func (r psRow) ID() string        { return shortID(r.s.ID, r.noTrunc) }
func (r psRow) Names() string     { return r.s.Name }
func (r psRow) Image() string     { return r.s.Image }
func (r psRow) State() string     { return r.s.State }
func (r psRow) Status() string    { return r.s.Status }
func (r psRow) Ports() string     { return r.s.Ports }
func (r psRow) CreatedAt() string { return r.s.Created.Local().Format("2006-01-02 15:04:05 -0700 MST") }

// Size, Mounts, Networks and LocalVolumes are docker's fields of what
// sandbox does not have yet: the writable layer's size is not measured,
// and there are no named volumes or networks.
func (r psRow) Size() string         { return "0B" }
func (r psRow) Mounts() string       { return "" }
func (r psRow) Networks() string     { return "" }
func (r psRow) LocalVolumes() string { return "0" }

// Label is the value of one label, as {{.Label "key"}}.
func (r psRow) Label(name string) string { return r.s.Labels[name] }

func (r psRow) RunningFor() string {
	return container.HumanDuration(time.Since(r.s.Created)) + " ago"
}
func (r psRow) Command() string {
	c := r.s.Command
	if !r.noTrunc && len([]rune(c)) > 20 {
		c = string([]rune(c)[:19]) + "…"
	}
	return fmt.Sprintf("%q", c)
}
func (r psRow) Labels() string {
	var kv []string
	for k, v := range r.s.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
func (r psRow) json() any {
	return map[string]any{
		"Id": r.s.ID, "Names": []string{r.s.Name}, "Image": r.s.Image, "ImageID": r.s.ImageID, "Command": r.s.Command,
		"Created": r.s.Created.Unix(), "State": r.s.State, "Status": r.s.Status,
		"ExitCode": r.s.ExitCode, "Labels": r.s.Labels, "Pid": r.s.Pid,
	}
}

var psColumns = []column{
	{"CONTAINER ID", "{{.ID}}"}, {"IMAGE", "{{.Image}}"}, {"COMMAND", "{{.Command}}"},
	{"CREATED", "{{.RunningFor}}"}, {"STATUS", "{{.Status}}"}, {"PORTS", "{{.Ports}}"}, {"NAMES", "{{.Names}}"},
}

func shortID(id string, noTrunc bool) string {
	if noTrunc || len(id) <= 12 {
		return id
	}
	return id[:12]
}

func newRmCommand(g *globals) *cobra.Command {
	var o container.RemoveOptions
	var t targets
	var timeout int
	cmd := &cobra.Command{
		Use:   "rm [flags] CONTAINER [CONTAINER...]",
		Short: "Remove containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("time") {
				if timeout < 0 {
					return fmt.Errorf("invalid --time %d: want seconds, 0 or more", timeout)
				}
				o.Timeout = &timeout
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			// As docker and podman: rm -f of a container that is not there
			// is not an error.
			t.ignore = t.ignore || o.Force
			return actOn(rt, args, t, func(ref string) error { return rt.Remove(cmd.Context(), ref, o) })
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&t.all, "all", "a", false, "remove every container (running ones too with -f)")
	f.BoolVarP(&o.Force, "force", "f", false, "kill and remove a running container")
	f.BoolVarP(&t.ignore, "ignore", "i", false, "a name that names no container is not an error")
	f.IntVarP(&timeout, "time", "t", 0, "with -f, stop a running container first: its stop signal, then SIGKILL after this many seconds (default: SIGKILL at once)")
	f.BoolP("volumes", "v", false, "remove anonymous volumes (there are none: accepted for compatibility)")
	return cmd
}

// newContainerCommand is the container group; args are the arguments
// after its name (addSubcommands).
func newContainerCommand(g *globals, args []string) *cobra.Command {
	cmd := &cobra.Command{Use: "container", Short: "Manage containers"}
	addSubcommands(cmd, containerSubcommands(g), args, nil)
	return cmd
}

func containerSubcommands(g *globals) []subcommand {
	return []subcommand{
		leaf(g, newRunCommand, "run"), leaf(g, newCreateCommand, "create"), leaf(g, newStartCommand, "start"),
		leaf(g, newPsCommand, "ps", "list", "ls"), leaf(g, newRmCommand, "rm"), leaf(g, newCleanupCommand, "cleanup"),
		leaf(g, newAttachCommand, "attach"), leaf(g, newStopCommand, "stop"), leaf(g, newRestartCommand, "restart"),
		leaf(g, newKillCommand, "kill"), leaf(g, newWaitCommand, "wait"), leaf(g, newRenameCommand, "rename"),
		leaf(g, newLogsCommand, "logs"),
		{names: []string{"inspect"}, build: func([]string) *cobra.Command { return newTypedInspectCommand(g, inspectContainer) }},
		leaf(g, newTopCommand, "top"), leaf(g, newContainerPruneCommand, "prune"),
		leaf(g, newPauseCommand, "pause"), leaf(g, newUnpauseCommand, "unpause"), leaf(g, newStatsCommand, "stats"), leaf(g, newUpdateCommand, "update"),
	}
}

// newCleanupCommand is what a container's monitor becomes once the
// container has exited: unmount, and remove with --rm.
func newCleanupCommand(g *globals) *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:    "cleanup [--rm] ID",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return rt.Cleanup(context.Background(), args[0], remove)
		},
	}
	cmd.Flags().BoolVar(&remove, "rm", false, "remove the container")
	return cmd
}

// newUnshareCommand runs a command in the keeper's user and mount
// namespaces, where files of subordinate ids and storage mounts are seen
// as containers see them (podman unshare).
func newUnshareCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unshare [COMMAND [ARG...]]",
		Short: "Run a command in sandbox's user and mount namespaces",
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.store(); err != nil {
				return err
			}
			if len(args) == 0 {
				shell := os.Getenv("SHELL")
				if shell == "" {
					shell = "/bin/sh"
				}
				args = []string{shell}
			}
			path, err := osexec.LookPath(args[0])
			if err != nil {
				return spec.NewExitError(spec.ExitNotFound, err)
			}
			// A sandbox run from this shell knows it is inside already.
			return syscall.Exec(path, args, append(os.Environ(), userns.ChildEnv()...))
		},
		Args: cobra.ArbitraryArgs,
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}
