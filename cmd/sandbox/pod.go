package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/pod"
	"sandbox/spec"

	"github.com/spf13/cobra"
)

func newPodCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("pod", "Manage pods: containers that share a network, IPC and UTS")
	addSubcommands(cmd, podSubcommands(g), args, nil)
	return cmd
}

func podSubcommands(g *globals) []subcommand {
	return []subcommand{
		leaf(g, newPodCreateCommand, "create"), leaf(g, newPodListCommand, "ps", "ls", "list"),
		leaf(g, newPodInspectCommand, "inspect"), leaf(g, newPodExistsCommand, "exists"),
		leaf(g, newPodStartCommand, "start"), leaf(g, newPodStopCommand, "stop"),
		leaf(g, newPodRestartCommand, "restart"), leaf(g, newPodKillCommand, "kill"), leaf(g, newPodRmCommand, "rm"),
		leaf(g, newPodLogsCommand, "logs"),
	}
}

// pods opens the store and its pods.
func (g *globals) pods() (*pod.Manager, error) {
	rt, err := g.runtime()
	if err != nil {
		return nil, err
	}
	return pod.New(rt), nil
}

// joinPod resolves run's and create's --pod into o (pod.Join).
func joinPod(ctx context.Context, g *globals, o *container.CreateOptions) error {
	if o.Pod.Name == "" {
		return nil
	}
	m, err := g.pods()
	if err != nil {
		return err
	}
	return m.Join(ctx, o)
}

func newPodCreateCommand(g *globals) *cobra.Command {
	o := pod.CreateOptions{}
	infra := true
	cmd := &cobra.Command{
		Use:   "create [flags]",
		Short: "Create a pod and its infra container",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.NoInfra = !infra
			m, err := g.pods()
			if err != nil {
				return err
			}
			p, err := m.Create(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Println(p.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Name, "name", "n", "", "the pod's name (default: its short id)")
	f.StringVar(&o.Hostname, "hostname", "", "the members' host name (default: the pod's name)")
	f.StringArrayVarP(&o.Labels, "label", "l", nil, "set a label KEY=VALUE")
	f.StringArrayVarP(&o.Publish, "publish", "p", nil, "publish a port of the pod: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]")
	f.StringVar(&o.Network, "network", "", "the pod's network: a network of network create, slirp4netns[:OPTIONS], pasta[:OPTIONS], none or host")
	f.StringArrayVar(&o.Aliases, "network-alias", nil, "a further name of the pod on its user-defined network")
	f.StringVar(&o.Share, "share", "", "namespaces the members share: a comma list of net, ipc, uts (default: all three)")
	f.BoolVar(&infra, "infra", true, "create an infra container to hold the shared namespaces (false is not supported)")
	f.BoolVar(&o.Replace, "replace", false, "remove a pod of the same name first")
	return cmd
}

// podRow is one pod for --format: podman's template fields.
type podRow struct {
	s       pod.Summary
	noTrunc bool
}

func (r podRow) ID() string              { return shortID(r.s.ID, r.noTrunc) }
func (r podRow) Id() string              { return r.s.ID }
func (r podRow) Name() string            { return r.s.Name }
func (r podRow) Status() string          { return r.s.Status }
func (r podRow) InfraID() string         { return shortID(r.s.Infra, r.noTrunc) }
func (r podRow) NumberOfContainers() int { return len(r.s.Members) }
func (r podRow) Labels() labelMap        { return labelMap(r.s.Labels) }
func (r podRow) Created() string         { return container.HumanDuration(time.Since(r.s.Created)) + " ago" }
func (r podRow) ContainerNames() string {
	var names []string
	for _, c := range r.s.Members {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

// json is podman's pod ps --format json shape.
func (r podRow) json() any {
	type ctr struct {
		ID     string `json:"Id"`
		Names  string `json:"Names"`
		Status string `json:"Status"`
	}
	cs := []ctr{}
	for _, c := range r.s.Members {
		cs = append(cs, ctr{c.ID, c.Name, c.Status})
	}
	labels := r.s.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return struct {
		Containers []ctr             `json:"Containers"`
		Created    any               `json:"Created"`
		ID         string            `json:"Id"`
		InfraID    string            `json:"InfraId"`
		Name       string            `json:"Name"`
		Networks   []string          `json:"Networks"`
		Status     string            `json:"Status"`
		Labels     map[string]string `json:"Labels"`
	}{cs, r.s.Created, r.s.ID, r.s.Infra, r.s.Name, []string{}, r.s.Status, labels}
}

var podColumns = []column{
	{"POD ID", "{{.ID}}"}, {"NAME", "{{.Name}}"}, {"STATUS", "{{.Status}}"}, {"CREATED", "{{.Created}}"},
	{"INFRA ID", "{{.InfraID}}"}, {"# OF CONTAINERS", "{{.NumberOfContainers}}"},
}

func newPodListCommand(g *globals) *cobra.Command {
	var quiet, noTrunc, noHeading bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:     "ps [flags]",
		Aliases: []string{"ls", "list"},
		Short:   "List pods",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := pod.ParseFilters(filters)
			if err != nil {
				return err
			}
			m, err := g.pods()
			if err != nil {
				return err
			}
			list, err := m.List(pod.ListOptions{Filters: f})
			if err != nil {
				return err
			}
			if quiet {
				for _, p := range list {
					fmt.Println(shortID(p.ID, noTrunc))
				}
				return nil
			}
			rows := make([]any, len(list))
			for i, p := range list {
				rows[i] = podRow{s: p, noTrunc: noTrunc}
			}
			return printFormattedWith(os.Stdout, format, formatOptions{cols: podColumns, noHeading: noHeading, missingZero: true}, rows)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&quiet, "quiet", "q", false, "only display pod ids")
	fl.BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	fl.BoolVar(&noHeading, "noheading", false, "do not print the header row")
	fl.StringVar(&format, "format", "", "format: table, json, a Go template, or table TEMPLATE")
	fl.StringArrayVarP(&filters, "filter", "f", nil, "filter: id=PREFIX, name=REGEXP, label=KEY[=VALUE], status=STATE (repeatable)")
	return cmd
}

func newPodInspectCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect POD...",
		Short: "Show a pod's configuration and state",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := g.pods()
			if err != nil {
				return err
			}
			var out []any
			var errs []error
			for _, ref := range args {
				in, err := m.Inspect(ref)
				if err != nil {
					fmt.Fprintln(os.Stderr, "Error:", err)
					errs = append(errs, err)
					continue
				}
				out = append(out, in)
			}
			if format != "" && format != "json" {
				if err := printFormattedWith(os.Stdout, format, formatOptions{}, out); err != nil {
					return err
				}
			} else if len(args) == 1 && len(out) == 1 {
				if err := printJSON(os.Stdout, out[0]); err != nil {
					return err
				}
			} else if len(out) > 0 {
				if err := printJSON(os.Stdout, out); err != nil {
					return err
				}
			}
			if len(errs) > 0 {
				return spec.NewExitError(spec.ExitSandbox, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format: json or a Go template")
	return cmd
}

func newPodExistsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "exists POD",
		Short: "Exit 0 if a pod exists, 1 if not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := g.pods()
			if err != nil {
				return err
			}
			ok, err := m.Exists(args[0])
			if err != nil {
				return err
			}
			if !ok {
				return notFound
			}
			return nil
		},
	}
}

// actOnPods runs do for each pod named and prints each one's id, as
// podman's pod start/stop/kill/restart/rm do; it exits 125 on error, or
// notFound when every error was a pod that is not there (pod rm's 1).
func actOnPods(g *globals, args []string, notFound int, do func(m *pod.Manager, ref string) (*pod.Pod, error)) error {
	if len(args) == 0 {
		return errors.New("you must provide at least one pod name or id")
	}
	m, err := g.pods()
	if err != nil {
		return err
	}
	code := 0
	for _, ref := range args {
		p, err := do(m, ref)
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			if errors.Is(err, pod.ErrNoSuchPod) && code != spec.ExitSandbox {
				code = notFound
			} else {
				code = spec.ExitSandbox
			}
			continue
		}
		if p != nil {
			fmt.Println(p.ID)
		}
	}
	if code != 0 {
		return spec.NewExitError(code, nil)
	}
	return nil
}

func newPodStartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start POD...",
		Short: "Start a pod: its infra container, then its members",
		RunE: func(cmd *cobra.Command, args []string) error {
			return actOnPods(g, args, spec.ExitSandbox, func(m *pod.Manager, ref string) (*pod.Pod, error) { return m.Start(cmd.Context(), ref) })
		},
	}
}

func newPodStopCommand(g *globals) *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "stop [flags] POD...",
		Short: "Stop a pod: its members, then its infra container",
		RunE: func(cmd *cobra.Command, args []string) error {
			var t *int
			if cmd.Flags().Changed("time") {
				t = &timeout
			}
			return actOnPods(g, args, spec.ExitSandbox, func(m *pod.Manager, ref string) (*pod.Pod, error) { return m.Stop(cmd.Context(), ref, t) })
		},
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait for each container before SIGKILL (default: each one's stop timeout)")
	return cmd
}

func newPodRestartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "restart POD...",
		Short: "Stop a pod, then start it",
		RunE: func(cmd *cobra.Command, args []string) error {
			return actOnPods(g, args, spec.ExitSandbox, func(m *pod.Manager, ref string) (*pod.Pod, error) { return m.Restart(cmd.Context(), ref, nil) })
		},
	}
}

func newPodKillCommand(g *globals) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [flags] POD...",
		Short: "Send a signal to every running container of a pod",
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := container.ParseSignal(signal)
			if err != nil {
				return err
			}
			return actOnPods(g, args, spec.ExitSandbox, func(m *pod.Manager, ref string) (*pod.Pod, error) { return m.Kill(cmd.Context(), ref, sig) })
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "the signal to send")
	return cmd
}

func newPodRmCommand(g *globals) *cobra.Command {
	o := pod.RemoveOptions{}
	var timeout int
	cmd := &cobra.Command{
		Use:   "rm [flags] POD...",
		Short: "Remove a pod, its members and its infra container",
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("time") {
				o.Timeout = &timeout
			}
			return actOnPods(g, args, 1, func(m *pod.Manager, ref string) (*pod.Pod, error) { return m.Remove(cmd.Context(), ref, o) })
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Force, "force", "f", false, "stop and remove running members")
	f.BoolVarP(&o.Ignore, "ignore", "i", false, "a pod that is not there is no error")
	f.IntVarP(&timeout, "time", "t", 10, "with -f, seconds to wait for each member's stop before SIGKILL (default: SIGKILL at once)")
	return cmd
}

func newPodLogsCommand(g *globals) *cobra.Command {
	var o container.LogsOfOptions
	var tail, since, until, only string
	cmd := &cobra.Command{
		Use:   "logs [flags] POD",
		Short: "Show the output of a pod's containers",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := logsWindow(&o, tail, since, until); err != nil {
				return err
			}
			m, err := g.pods()
			if err != nil {
				return err
			}
			ids, err := m.MemberIDs(args[0])
			if err != nil {
				return err
			}
			if only != "" {
				c, err := m.Runtime().Lookup(only)
				if err != nil {
					return err
				}
				if !slices.Contains(ids, c.ID) {
					return fmt.Errorf("container %s is not a member of pod %s", only, args[0])
				}
				ids = []string{c.ID}
			}
			o.Stdout, o.Stderr = os.Stdout, os.Stderr
			return m.Runtime().LogsOf(ctx(cmd), ids, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&only, "container", "c", "", "only this member's output")
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new output until the containers exit")
	f.StringVarP(&tail, "tail", "n", "all", "number of lines to show from the end of each log")
	f.StringVar(&since, "since", "", "show lines since a time (2006-01-02T15:04:05Z, a Unix timestamp) or for a duration back (10m)")
	f.StringVar(&until, "until", "", "show lines before a time or a duration back")
	f.BoolVarP(&o.Timestamps, "timestamps", "t", false, "show each line's time")
	f.BoolVar(&o.Names, "names", false, "put the container's name, not its ID, before each line")
	return cmd
}
