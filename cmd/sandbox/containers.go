package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"slices"
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
	var quiet, noTrunc, latest, noHeading, pods bool
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
			if o.Sort != "" && !slices.Contains(container.SortKeys, o.Sort) {
				return fmt.Errorf("invalid --sort %q: want one of %s", o.Sort, strings.Join(container.SortKeys, ", "))
			}
			// As docker: a template that shows the size measures it.
			o.Size = o.Size || (!quiet && strings.Contains(format, ".Size"))
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
			cols := psColumns
			if o.Size {
				cols = append(cols[:len(cols):len(cols)], column{"SIZE", "{{.Size}}"})
			}
			if pods {
				cols = append(cols[:len(cols):len(cols)], column{"POD ID", "{{.Pod}}"}, column{"PODNAME", "{{.PodName}}"})
			}
			return printFormattedWith(os.Stdout, format, formatOptions{cols: cols, noHeading: noHeading, missingZero: true}, rows)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.All, "all", "a", false, "show all containers (default shows just running)")
	f.BoolVarP(&latest, "latest", "l", false, "show the latest created container, in any state")
	f.IntVarP(&o.Last, "last", "n", -1, "show the n last created containers, in any state")
	f.StringArrayVarP(&filters, "filter", "f", nil, "filter: status=STATE, name=REGEXP, label=KEY[=VALUE], ancestor=IMAGE, id=PREFIX, "+
		"exited=CODE, before=CONTAINER, since=CONTAINER, volume=PATH (a bind mount's source or destination: there are no named volumes), "+
		"network=MODE (the --network mode: there are no named networks), pod=POD (name or id prefix), health=none (there are no health checks: other states match nothing) (repeatable)")
	f.BoolVarP(&quiet, "quiet", "q", false, "only display container ids")
	f.BoolVarP(&pods, "pod", "p", false, "show the pod of each container (POD ID and PODNAME)")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	f.BoolVar(&noHeading, "noheading", false, "do not print the header row")
	f.BoolVarP(&o.Size, "size", "s", false, "show the size of each container's writable layer, and with its image's (virtual)")
	f.StringVar(&o.Sort, "sort", "", "sort by "+strings.Join(container.SortKeys, ", ")+" (default: the newest first)")
	f.BoolVar(&o.External, "external", false, "also list the containers that builds run their RUN steps in")
	f.StringVar(&format, "format", "", "format: table, json, a Go template, or table TEMPLATE")
	return cmd
}

// psRow is one container for --format: docker's template fields, and
// podman's where docker has none (Id, ImageID, Created, ExitCode, Exited,
// Pid). Where the two differ (State, Command, CreatedAt, Mounts), the
// field is docker's; Labels prints as docker's and indexes as podman's.
type psRow struct {
	s       container.Summary
	noTrunc bool
}

func (r psRow) ID() string           { return shortID(r.s.ID, r.noTrunc) }
func (r psRow) Id() string           { return r.s.ID }
func (r psRow) Names() string        { return r.s.Name }
func (r psRow) Image() string        { return r.s.Image }
func (r psRow) ImageID() string      { return shortID(r.s.ImageID, r.noTrunc) }
func (r psRow) State() string        { return r.s.State }
func (r psRow) Status() string       { return r.s.Status }
func (r psRow) Ports() string        { return r.s.Ports }
func (r psRow) CreatedAt() string    { return r.s.Created.Local().Format("2006-01-02 15:04:05 -0700 MST") }
func (r psRow) Created() time.Time   { return r.s.Created }
func (r psRow) ExitCode() int        { return r.s.ExitCode }
func (r psRow) Exited() bool         { return r.s.State == "exited" }
func (r psRow) Pid() int             { return r.s.Pid }
func (r psRow) Networks() string     { return r.s.NetworkMode }
func (r psRow) LocalVolumes() string { return "0" }
func (r psRow) PodName() string      { return r.s.PodName }
func (r psRow) IsInfra() bool        { return r.s.IsInfra }

// Pod is the pod's id, short unless --no-trunc ("" for none).
func (r psRow) Pod() string {
	if r.s.Pod == "" {
		return ""
	}
	return shortID(r.s.Pod, r.noTrunc)
}

// Size is docker's "12B (virtual 1.99MB)": the writable layer, and with
// its image's layers.
func (r psRow) Size() string {
	s := humanSize(r.s.SizeRw)
	if r.s.SizeRw < 0 {
		s = "0B"
	}
	if r.s.SizeRootFs > 0 {
		s += " (virtual " + humanSize(r.s.SizeRootFs) + ")"
	}
	return s
}

// Mounts are docker's: each mount's source (a tmpfs's destination),
// truncated to 15 characters unless --no-trunc.
func (r psRow) Mounts() string {
	var ms []string
	for _, m := range r.s.Mounts {
		name := m.Source
		if m.Name != "" {
			name = m.Name
		} else if name == "" {
			name = m.Destination
		}
		if !r.noTrunc && len([]rune(name)) > 15 {
			name = string([]rune(name)[:14]) + "…"
		}
		ms = append(ms, name)
	}
	return strings.Join(ms, ",")
}

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

// Labels prints as docker's "k=v,k2=v2" and indexes as podman's
// {{.Labels.KEY}}.
func (r psRow) Labels() labelMap { return labelMap(r.s.Labels) }

// labelMap is labels that print sorted as k=v, comma-separated.
type labelMap map[string]string

func (l labelMap) String() string {
	var kv []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// MarshalJSON is {{json .}}: docker's object of the template fields.
func (r psRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"ID": r.ID(), "Image": r.Image(), "Command": r.Command(), "CreatedAt": r.CreatedAt(), "RunningFor": r.RunningFor(),
		"Ports": r.Ports(), "State": r.State(), "Status": r.Status(), "Size": r.Size(), "Names": r.Names(),
		"Labels": r.Labels().String(), "Mounts": r.Mounts(), "Networks": r.Networks(), "LocalVolumes": r.LocalVolumes(),
	})
}

func (r psRow) json() any {
	var size any
	if r.s.SizeRw >= 0 {
		size = map[string]int64{"rwSize": r.s.SizeRw, "rootFsSize": r.s.SizeRootFs}
	}
	// Ports in podman's shape; null without any, as podman.
	var ports []map[string]any
	for _, p := range r.s.PortList {
		ports = append(ports, map[string]any{"host_ip": p.HostIP, "container_port": p.ContainerPort,
			"host_port": p.HostPort, "range": 1, "protocol": p.Protocol})
	}
	return map[string]any{
		"Id": r.s.ID, "Names": []string{r.s.Name}, "Image": r.s.Image, "ImageID": r.s.ImageID, "Command": r.s.Command,
		"Created": r.s.Created.Unix(), "State": r.s.State, "Status": r.s.Status,
		"ExitCode": r.s.ExitCode, "Labels": r.s.Labels, "Pid": r.s.Pid, "Size": size,
		"Ports": ports, "IsInfra": false,
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
	f.BoolVarP(&o.Volumes, "volumes", "v", false, "remove the container's anonymous volumes too")
	return cmd
}

// newContainerCommand is the container group; args are the arguments
// after its name (addSubcommands).
func newContainerCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("container", "Manage containers")
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
		leaf(g, newTopCommand, "top"), leaf(g, newContainerPruneCommand, "prune"), leaf(g, newContainerExistsCommand, "exists"), leaf(g, newPortCommand, "port"),
		leaf(g, newPauseCommand, "pause"), leaf(g, newUnpauseCommand, "unpause"), leaf(g, newStatsCommand, "stats"), leaf(g, newUpdateCommand, "update"),
		leaf(g, newDiffCommand, "diff"), leaf(g, newExportCommand, "export"), leaf(g, newCpCommand, "cp"),
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
			rt, err := g.runtimeNow()
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
