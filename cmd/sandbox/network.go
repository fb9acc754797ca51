package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newPortCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List a container's published ports",
		Args:  cobra.RangeArgs(1, 2),
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
				host := strings.SplitN(p.String(), "->", 2)[0]
				if want != 0 {
					fmt.Println(host)
				} else {
					fmt.Printf("%d/%s -> %s\n", p.ContainerPort, p.Protocol, host)
				}
			}
			if want != 0 && !found {
				return fmt.Errorf("no public port '%s' published for %s", args[1], args[0])
			}
			return nil
		},
	}
}
