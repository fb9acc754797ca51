package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// The user-defined network figures: a container's start on a user network
// against the default network, and TCP throughput between two containers
// on a user network against podman's rootless bridge network (netavark in
// podman's rootless namespace), each tool on a network of its own made
// for the figure.

const (
	// benchNet is the network each tool makes for the figures.
	benchNet = "bench-net"
	// c2cServer is the iperf3 server's container on it.
	c2cServer = "bench-iperf-c2c"
)

// userNetworkSetup makes benchNet for each tool (removing a leftover
// first) and, with server, starts the iperf3 server on it; the undo
// removes both.
func userNetworkSetup(env *environment, server bool) func(ctx context.Context) (func() error, error) {
	return func(ctx context.Context) (func() error, error) {
		tools := []*tool{env.sandbox, env.podman}
		undo := func() error {
			var errs []error
			for _, t := range tools {
				errs = append(errs, t.removeMatching("^"+c2cServer+"$"))
				if _, err := t.output(context.Background(), "network", "exists", benchNet); err == nil {
					if _, err := t.output(context.Background(), "network", "rm", "-f", benchNet); err != nil {
						errs = append(errs, err)
					}
				}
			}
			return errors.Join(errs...)
		}
		if err := undo(); err != nil {
			return nil, err
		}
		for _, t := range tools {
			if _, err := t.output(ctx, "network", "create", benchNet); err != nil {
				return nil, errors.Join(fmt.Errorf("%s network create: %w", t.name, err), undo())
			}
			if !server {
				continue
			}
			mounts, err := env.iperfMounts(ctx)
			if err != nil {
				return nil, errors.Join(err, undo())
			}
			args := append(append([]string{"run", "-d", "--name", c2cServer, "--network", benchNet}, mounts...), env.cfg.image, env.iperfPath(), "-s")
			if _, err := t.output(ctx, args...); err != nil {
				return nil, errors.Join(fmt.Errorf("%s iperf3 server: %w", t.name, err), undo())
			}
		}
		return undo, nil
	}
}

// startUserNetworkFigure: `run --rm --network NET IMAGE true` against the
// same on the default network.
func startUserNetworkFigure(env *environment) *figure {
	cfg := env.cfg
	sb, pm := env.sandbox, env.podman
	sbDefault := sb.cmd("run", "--rm", cfg.image, "true")
	sbDefault.tool = "sandbox default network"
	f := &figure{
		name:  "run --rm --network NET IMAGE true (user-defined network)",
		about: "a network each tool made for the figure (network create " + benchNet + "); beside sandbox on its default network",
		commands: []*command{
			sb.cmd("run", "--rm", "--network", benchNet, cfg.image, "true"),
			pm.cmd("run", "--rm", "--network", benchNet, cfg.image, "true"),
			sbDefault,
		},
		budgets: []budget{
			{ref: sbDefault.tool, max: 1.5, text: "≤ 1.5× the default network's"},
			{ref: "podman", text: "none in DESIGN.md"},
		},
		setup: userNetworkSetup(env, false),
	}
	env.needBackend(sbDefault, slirp4netns)
	return f
}

// containerToContainerFigure: TCP throughput from a container to another
// on the same user network, by name.
func containerToContainerFigure(env *environment) *figure {
	cfg := env.cfg
	f := &figure{
		name: "container → container TCP throughput (user-defined network)",
		about: fmt.Sprintf("iperf3 -c %s in a container on %s for %d s a sample, to iperf3 -s in a container started there before the figure; Gbit/s as the server received",
			c2cServer, benchNet, iperfSeconds),
		budgets:    []budget{{ref: "podman", min: 1, text: "≥ podman's"}},
		throughput: true,
		rounds:     iperfRounds,
		warmup:     iperfWarmup,
		setup:      userNetworkSetup(env, true),
	}
	for _, t := range []*tool{env.sandbox, env.podman} {
		c := env.iperfCmd(t, "run", "--rm", "--network", benchNet, iperfMountsPlaceholder, cfg.image, env.iperfPath(),
			"-c", c2cServer, "-p", strconv.Itoa(iperfPort), "-t", strconv.Itoa(iperfSeconds), "-J")
		c.rate = func(ctx context.Context) (float64, error) { return runIperf(ctx, c.argv) }
		f.commands = append(f.commands, c)
	}
	return f
}
