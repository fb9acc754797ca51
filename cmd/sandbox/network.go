package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sandbox/container"
	"sandbox/spec"

	"github.com/spf13/cobra"
)

func newPortCommand(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "port [flags] CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List a container's published ports",
		Args: func(cmd *cobra.Command, args []string) error {
			if all {
				if len(args) > 0 {
					return errors.New("no arguments are needed with --all")
				}
				return nil
			}
			return cobra.RangeArgs(1, 2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var want uint64
			wantProto := ""
			if len(args) == 2 {
				port, proto, _ := strings.Cut(args[1], "/")
				n, err := strconv.ParseUint(port, 10, 16)
				if err != nil || n == 0 || (proto != "" && proto != "tcp" && proto != "udp") {
					return fmt.Errorf("invalid port %q: want PORT[/tcp|/udp]", args[1])
				}
				want, wantProto = n, proto
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			if all {
				return printAllPorts(rt)
			}
			c, err := rt.Lookup(args[0])
			if err != nil {
				return err
			}
			if c.Config == nil {
				return fmt.Errorf("container %s has no configuration", args[0])
			}
			found := false
			for _, p := range c.Config.Host.Ports {
				if want != 0 && (uint64(p.ContainerPort) != want || (wantProto != "" && p.Protocol != wantProto)) {
					continue
				}
				found = true
				if want != 0 {
					fmt.Println(hostSide(p))
				} else {
					fmt.Printf("%d/%s -> %s\n", p.ContainerPort, p.Protocol, hostSide(p))
				}
			}
			if want != 0 && !found {
				return fmt.Errorf("no public port '%s' published for %s", args[1], args[0])
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "list the published ports of every running container, a line each: short id, then the mapping")
	return cmd
}

// printAllPorts is port --all: every running container's ports, each
// line led by the container's short id and a tab (podman's shape).
func printAllPorts(rt *container.Runtime) error {
	list, err := rt.List(false)
	if err != nil {
		return err
	}
	for i := len(list) - 1; i >= 0; i-- { // oldest first, as podman
		c, err := rt.Lookup(list[i].ID)
		if errors.Is(err, container.ErrNoSuchContainer) {
			continue // removed meanwhile
		} else if err != nil {
			return err
		}
		if c.Config == nil {
			continue
		}
		for _, p := range c.Config.Host.Ports {
			fmt.Printf("%.12s\t%d/%s -> %s\n", c.ID, p.ContainerPort, p.Protocol, hostSide(p))
		}
	}
	return nil
}

// hostSide is the host address and port of a published port.
func hostSide(p spec.Port) string {
	return strings.SplitN(p.String(), "->", 2)[0]
}
