package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/events"
	"sandbox/network/usernet"
	"sandbox/spec"

	"github.com/spf13/cobra"
)

// networks is the store of user-defined networks, inside the keeper.
func (g *globals) networks() (usernet.Store, error) {
	o, err := g.enter()
	if err != nil {
		return usernet.Store{}, err
	}
	return usernet.Store{Dir: usernet.DirIn(o.GraphRoot)}, nil
}

// networkEvent records a network's create or remove in the events
// journal; a journal that cannot be written is a warning.
func (g *globals) networkEvent(s events.Status, id, name string) {
	o, err := g.storageOptions()
	if err == nil {
		err = g.podman.journal(o.RunRoot).Write(events.Event{Type: events.Network, Status: s, ID: id, Name: name})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
	}
}

// newNetworkCommand is the network group; args are the arguments after
// its name.
func newNetworkCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("network", "Manage user-defined networks")
	addSubcommands(cmd, []subcommand{
		leaf(g, newNetworkCreateCommand, "create"), leaf(g, newNetworkLsCommand, "ls", "list"),
		leaf(g, newNetworkInspectCommand, "inspect"), leaf(g, newNetworkRmCommand, "rm", "remove"),
		leaf(g, newNetworkPruneCommand, "prune"), leaf(g, newNetworkExistsCommand, "exists"),
		leaf(g, newNetworkConnectCommand, "connect"), leaf(g, newNetworkDisconnectCommand, "disconnect"),
	}, args, nil)
	return cmd
}

func newNetworkCreateCommand(g *globals) *cobra.Command {
	var o usernet.CreateOptions
	var labels []string
	cmd := &cobra.Command{
		Use:   "create [flags] NAME",
		Short: "Create a user-defined network",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.networks()
			if err != nil {
				return err
			}
			o.Name = args[0]
			if o.Labels, err = parseLabels(labels); err != nil {
				return err
			}
			if o.HostRoutes, err = usernet.HostRoutes(); err != nil {
				return err
			}
			rec, err := s.Create(o)
			if err != nil {
				return err
			}
			g.networkEvent(events.Create, rec.ID, rec.Name)
			fmt.Fprintln(cmd.OutOrStdout(), rec.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Subnet, "subnet", "", "the network's IPv4 subnet, like 10.90.0.0/24 (default: the first free 10.89.N.0/24)")
	f.StringVar(&o.Gateway, "gateway", "", "the gateway's address in the subnet (default: its first)")
	f.BoolVar(&o.Internal, "internal", false, "no way out of the network")
	f.StringArrayVar(&labels, "label", nil, "a label KEY=VALUE")
	f.StringVarP(&o.Driver, "driver", "d", "bridge", "the driver: bridge")
	return cmd
}

// parseLabels reads KEY[=VALUE] labels.
func parseLabels(vs []string) (map[string]string, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range vs {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid label %q: want KEY=VALUE", v)
		}
		m[k] = val
	}
	return m, nil
}

// networkRow is a network as ls and inspect show it, in podman's shape.
type networkRow struct {
	Name             string            `json:"name"`
	ID               string            `json:"id"`
	Driver           string            `json:"driver"`
	NetworkInterface string            `json:"network_interface"`
	Created          time.Time         `json:"created"`
	Subnets          []networkSubnet   `json:"subnets"`
	IPv6Enabled      bool              `json:"ipv6_enabled"`
	Internal         bool              `json:"internal"`
	DNSEnabled       bool              `json:"dns_enabled"`
	Labels           map[string]string `json:"labels,omitempty"`
	Containers       map[string]any    `json:"containers,omitempty"`
}

type networkSubnet struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
}

func toRow(r *usernet.Record, members bool) networkRow {
	row := networkRow{Name: r.Name, ID: r.ID, Driver: r.Driver, NetworkInterface: "sbr" + r.ID[:11], Created: r.Created,
		Subnets: []networkSubnet{{r.Subnet, r.Gateway}}, Internal: r.Internal, DNSEnabled: true, Labels: r.Labels}
	if members && len(r.Members) > 0 {
		row.Containers = map[string]any{}
		for id, m := range r.Members {
			row.Containers[id] = map[string]any{"name": m.Name, "ip": m.IP, "aliases": m.Aliases}
		}
	}
	return row
}

func newNetworkLsCommand(g *globals) *cobra.Command {
	var quiet, noTrunc bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:   "ls [flags]",
		Short: "List user-defined networks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.networks()
			if err != nil {
				return err
			}
			recs, err := s.List()
			if err != nil {
				return err
			}
			var rows []any
			for _, r := range recs {
				ok, err := usernet.Match(r, filters)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				row := toRow(r, false)
				if !noTrunc && format == "" {
					row.ID = row.ID[:12]
				}
				if quiet {
					fmt.Fprintln(cmd.OutOrStdout(), r.Name)
					continue
				}
				rows = append(rows, row)
			}
			if quiet {
				return nil
			}
			return printFormatted(cmd.OutOrStdout(), format, []column{
				{"NETWORK ID", "{{.ID}}"}, {"NAME", "{{.Name}}"}, {"DRIVER", "{{.Driver}}"}}, rows)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "only the names")
	f.BoolVar(&noTrunc, "no-trunc", false, "whole ids")
	f.StringVar(&format, "format", "", "json, or a Go template ({{.Name}}, {{.ID}}, {{.Driver}}, {{.Labels}})")
	f.StringArrayVarP(&filters, "filter", "f", nil, "name=, id=, driver=, label=KEY[=VALUE]")
	return cmd
}

func newNetworkInspectCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [flags] NETWORK...",
		Short: "Show user-defined networks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.networks()
			if err != nil {
				return err
			}
			var rows []any
			for _, a := range args {
				r, err := s.Get(a)
				if err != nil {
					return err
				}
				rows = append(rows, toRow(r, true))
			}
			if format == "" {
				format = "json"
			}
			return printFormatted(cmd.OutOrStdout(), format, nil, rows)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "a Go template")
	return cmd
}

func newNetworkRmCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [flags] NETWORK...",
		Short: "Remove user-defined networks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var s usernet.Store
			var removeMember func(string) error
			if force {
				rt, err := g.runtime()
				if err != nil {
					return err
				}
				s = rt.Networks
				removeMember = func(id string) error {
					return rt.Remove(cmd.Context(), id, container.RemoveOptions{Force: true})
				}
			} else {
				var err error
				if s, err = g.networks(); err != nil {
					return err
				}
			}
			// podman's codes: 1 when a network named is not there, 2 when
			// one is in use.
			code := 0
			for _, a := range args {
				rec, err := s.Remove(a, removeMember)
				switch {
				case err == nil:
					g.networkEvent(events.Remove, rec.ID, rec.Name)
					fmt.Fprintln(cmd.OutOrStdout(), rec.Name)
					continue
				case errors.Is(err, usernet.ErrNotFound) && code == 0:
					code = 1
				case errors.Is(err, usernet.ErrInUse) && code < 2:
					code = 2
				default:
					code = spec.ExitSandbox
				}
				fmt.Fprintln(os.Stderr, "Error:", err)
			}
			if code != 0 {
				return spec.NewExitError(code, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove the networks' containers too")
	return cmd
}

func newNetworkPruneCommand(g *globals) *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove every user-defined network without containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.networks()
			if err != nil {
				return err
			}
			if !force {
				ok, err := confirm(os.Stdin, os.Stdout, "WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ")
				if err != nil || !ok {
					return err
				}
			}
			var ferr error
			gone, err := s.Prune(func(r *usernet.Record) bool {
				ok, err := usernet.Match(r, filters)
				if err != nil {
					ferr = err
				}
				return !ok
			})
			if ferr != nil {
				return ferr
			}
			for _, n := range gone {
				g.networkEvent(events.Remove, n.ID, n.Name)
				fmt.Fprintln(cmd.OutOrStdout(), n.Name)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "only networks that pass ls's filters: name=, id=, driver=, label=KEY[=VALUE]")
	return cmd
}

func newNetworkExistsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "exists NETWORK",
		Short: "Exit 0 if a network exists, 1 if not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.networks()
			if err != nil {
				return err
			}
			if _, err := s.Get(args[0]); errors.Is(err, usernet.ErrNotFound) {
				return notFound
			} else if err != nil {
				return err
			}
			return nil
		},
	}
}

func newNetworkConnectCommand(g *globals) *cobra.Command {
	var o container.ConnectOptions
	cmd := &cobra.Command{
		Use:   "connect [flags] NETWORK CONTAINER",
		Short: "Put a container on a user-defined network (a running one at once)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			o.Network, o.Container = args[0], args[1]
			return rt.Connect(o)
		},
	}
	cmd.Flags().StringArrayVar(&o.Aliases, "alias", nil, "a name of the container on the network")
	cmd.Flags().StringVar(&o.IP, "ip", "", "the container's address on the network")
	return cmd
}

func newNetworkDisconnectCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "disconnect [flags] NETWORK CONTAINER",
		Short: "Take a container off a user-defined network (a running one at once)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return rt.Disconnect(args[0], args[1])
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "accepted for podman's scripts")
	return cmd
}
