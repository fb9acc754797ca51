package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"sandbox/container"
	"sandbox/spec"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// resourceFlags binds the limit flags that create, run and update share.
// They are strings, parsed by package container, so that a bad value is
// one line naming the flag and the value.
func resourceFlags(fs *pflag.FlagSet, o *container.ResourceOptions) {
	fs.StringVarP(&o.Memory, "memory", "m", "", "memory limit (512m, 1g): cgroup v2 memory.max")
	fs.StringVar(&o.MemorySwap, "memory-swap", "", "memory and swap together (-1: unlimited swap; default: twice --memory)")
	fs.StringVar(&o.MemoryReservation, "memory-reservation", "", "memory soft limit: cgroup v2 memory.low")
	fs.StringVar(&o.CPUs, "cpus", "", "number of CPUs (0.5, 2): cgroup v2 cpu.max")
	fs.StringVar(&o.CPUQuota, "cpu-quota", "", "CPU time per period in microseconds (-1: no limit)")
	fs.StringVar(&o.CPUPeriod, "cpu-period", "", "CPU period in microseconds (1000-1000000)")
	fs.StringVarP(&o.CPUShares, "cpu-shares", "c", "", "relative CPU weight, cgroup v1 shares (2-262144; 1024 is the default weight)")
	fs.StringVar(&o.CPUWeight, "cpu-weight", "", "relative CPU weight: cgroup v2 cpu.weight (1-10000; 100 is the default)")
	fs.StringVar(&o.CpusetCpus, "cpuset-cpus", "", "CPUs the container may use (0-2,4)")
	fs.StringVar(&o.CpusetMems, "cpuset-mems", "", "memory nodes the container may use (0-1)")
	fs.StringVar(&o.PidsLimit, "pids-limit", "", "most processes at once (-1: no limit)")
	fs.StringVar(&o.BlkioWeight, "blkio-weight", "", "relative block I/O weight (10-1000)")
	fs.StringArrayVar(&o.DeviceReadBps, "device-read-bps", nil, "read rate limit of a block device: PATH:RATE (/dev/sda:10m)")
	fs.StringArrayVar(&o.DeviceWriteBps, "device-write-bps", nil, "write rate limit of a block device: PATH:RATE (/dev/sda:10m)")
}

func newPauseCommand(g *globals) *cobra.Command {
	t := targets{states: []string{spec.StatusRunning}}
	cmd := &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Freeze every process of running containers (cgroup v2 freezer)",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return actOn(rt, args, t, rt.Pause)
		},
	}
	cmd.Flags().BoolVarP(&t.all, "all", "a", false, "pause every running container")
	return cmd
}

func newUnpauseCommand(g *globals) *cobra.Command {
	t := targets{states: []string{spec.StatusPaused}}
	cmd := &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Let the processes of paused containers run again",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return actOn(rt, args, t, rt.Unpause)
		},
	}
	cmd.Flags().BoolVarP(&t.all, "all", "a", false, "unpause every paused container")
	return cmd
}

func newUpdateCommand(g *globals) *cobra.Command {
	var o container.ResourceOptions
	cmd := &cobra.Command{
		Use:   "update [flags] CONTAINER [CONTAINER...]",
		Short: "Change the limits of containers, running or not",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return eachContainer(args, false, func(ref string) error { return rt.Update(ref, &o) })
		},
	}
	resourceFlags(cmd.Flags(), &o)
	return cmd
}

var statsColumns = []column{
	{"CONTAINER ID", "{{.ID}}"}, {"NAME", "{{.Name}}"}, {"CPU %", "{{.CPUPerc}}"}, {"MEM USAGE / LIMIT", "{{.MemUsage}}"},
	{"MEM %", "{{.MemPerc}}"}, {"BLOCK I/O", "{{.BlockIO}}"}, {"PIDS", "{{.PIDs}}"},
}

// The first figures of stats come after statsFirst (CPU % needs two
// readings); a stream refreshes every statsEvery, as docker's.
const (
	statsFirst = 500 * time.Millisecond
	statsEvery = time.Second
)

func newStatsCommand(g *globals) *cobra.Command {
	var noStream, noTrunc bool
	var format string
	cmd := &cobra.Command{
		Use:   "stats [flags] [CONTAINER...]",
		Short: "Show containers' CPU, memory, block I/O and process figures (default: every running container)",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			if _, err := rt.StatsTargets(args); err != nil {
				return err
			}
			hostMem, err := container.HostMemory()
			if err != nil {
				return err
			}
			c, stop := signal.NotifyContext(ctx(cmd), unix.SIGINT, unix.SIGTERM)
			defer stop()
			clear := !noStream && term.IsTerminal(int(os.Stdout.Fd()))
			prev := map[string]*container.StatsSample{}
			for first := true; ; first = false {
				targets, err := rt.StatsTargets(args)
				if err != nil {
					return err
				}
				var rows []any
				for _, t := range targets {
					s, err := rt.SampleStats(t)
					if err != nil {
						return err
					}
					if p, ok := prev[t.ID]; ok || !first {
						e := container.StatsRow(p, s, hostMem)
						if noTrunc {
							e.ID, e.Container = t.ID, t.ID
						}
						rows = append(rows, e)
					}
					prev[t.ID] = &s
				}
				wait := statsEvery
				if first {
					wait = statsFirst
				} else {
					if clear {
						fmt.Print("\033[2J\033[H")
					}
					if err := printFormatted(os.Stdout, format, statsColumns, rows); err != nil {
						return err
					}
					if noStream {
						return nil
					}
				}
				if !sleepUntil(c, wait) {
					return nil // interrupted
				}
			}
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noStream, "no-stream", false, "print the figures once and exit")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate ids")
	f.StringVar(&format, "format", "", "format: table, json, or a Go template")
	return cmd
}

// sleepUntil waits d, or until ctx ends (false).
func sleepUntil(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
