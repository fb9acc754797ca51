package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"sandbox/attach"
	"sandbox/container"
	"sandbox/spec"

	"github.com/spf13/cobra"
)

// eachContainer runs do for every argument, printing the argument after
// each success as docker does, and joins the errors.
func eachContainer(args []string, quiet bool, do func(ref string) error) error {
	var errs []error
	for _, ref := range args {
		if err := do(ref); err != nil {
			errs = append(errs, err)
			continue
		}
		if !quiet {
			fmt.Println(ref)
		}
	}
	return errors.Join(errs...)
}

func newStartCommand(g *globals) *cobra.Command {
	var attachOut, interactive bool
	var detachKeys string
	t := targets{states: []string{spec.StatusCreated, spec.StatusExited}}
	cmd := &cobra.Command{
		Use:   "start [flags] CONTAINER [CONTAINER...]",
		Short: "Start created or stopped containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			if attachOut || interactive {
				if t.all || len(t.filters) > 0 {
					return errors.New("you cannot start and attach all containers at once")
				}
				if len(args) != 1 {
					return errors.New("start -a/-i takes one container")
				}
				c, started, err := rt.StartContainer(cmd.Context(), args[0], true)
				if err != nil {
					return err
				}
				p := c.Config.Spec.Process
				return attachStreams(rt, started.Conn, container.AttachOptions{Stdin: interactive && p.Stdin, TTY: p.Terminal, Pid: started.Pid, PidStart: started.PidStart}, detachKeys)
			}
			return actOn(rt, args, t, func(ref string) error {
				_, _, err := rt.StartContainer(cmd.Context(), ref, false)
				if errors.Is(err, container.ErrAlreadyRunning) {
					return nil // as docker and podman: nothing to do
				}
				return err
			})
		},
	}
	// -a is --attach, as in docker and podman: --all has no short form here.
	cmd.Flags().BoolVar(&t.all, "all", false, "start every created or exited container")
	cmd.Flags().StringArrayVarP(&t.filters, "filter", "f", nil, "start the containers that pass a filter, as ps --filter (repeatable)")
	cmd.Flags().BoolVarP(&attachOut, "attach", "a", false, "attach to the container's output and wait for it")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "attach standard input")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", attach.DefaultDetachKeys, "keys that detach from the container")
	return cmd
}

func newAttachCommand(g *globals) *cobra.Command {
	var noStdin bool
	var detachKeys string
	cmd := &cobra.Command{
		Use:   "attach [flags] CONTAINER",
		Short: "Attach to a running container's streams",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			c, st, conn, err := rt.AttachTo(args[0])
			if err != nil {
				return err
			}
			p := c.Config.Spec.Process
			return attachStreams(rt, conn, container.AttachOptions{Stdin: p.Stdin && !noStdin, TTY: p.Terminal, Pid: st.Pid, PidStart: st.PidStart}, detachKeys)
		},
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "do not attach standard input")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", attach.DefaultDetachKeys, "keys that detach from the container")
	return cmd
}

func newStopCommand(g *globals) *cobra.Command {
	var timeout int
	t := targets{states: []string{spec.StatusRunning, spec.StatusPaused, spec.StatusRestarting}}
	cmd := &cobra.Command{
		Use:   "stop [flags] CONTAINER [CONTAINER...]",
		Short: "Stop running containers: the stop signal, then SIGKILL after a timeout",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			var o container.StopOptions
			if cmd.Flags().Changed("time") {
				if timeout < 0 {
					return fmt.Errorf("invalid --time %d: want seconds, 0 or more", timeout)
				}
				o.Timeout = &timeout
			}
			return actOn(rt, args, t, func(ref string) error { return rt.Stop(ctx(cmd), ref, o) })
		},
	}
	cmd.Flags().BoolVarP(&t.all, "all", "a", false, "stop every running container")
	cmd.Flags().BoolVarP(&t.ignore, "ignore", "i", false, "a name that names no container is not an error")
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait before SIGKILL (default: the container's --stop-timeout)")
	return cmd
}

func newRestartCommand(g *globals) *cobra.Command {
	var timeout int
	var onlyRunning bool
	var t targets
	cmd := &cobra.Command{
		Use:   "restart [flags] CONTAINER [CONTAINER...]",
		Short: "Stop and start containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if onlyRunning {
				t.all, t.states = true, []string{spec.StatusRunning}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			var o container.StopOptions
			if cmd.Flags().Changed("time") {
				o.Timeout = &timeout
			}
			return actOn(rt, args, t, func(ref string) error { return rt.Restart(ctx(cmd), ref, o) })
		},
	}
	cmd.Flags().BoolVarP(&t.all, "all", "a", false, "restart every container, running or not")
	cmd.Flags().BoolVar(&onlyRunning, "running", false, "restart every running container")
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait before SIGKILL")
	return cmd
}

func newKillCommand(g *globals) *cobra.Command {
	var signal string
	t := targets{states: []string{spec.StatusRunning, spec.StatusPaused}}
	cmd := &cobra.Command{
		Use:   "kill [flags] CONTAINER [CONTAINER...]",
		Short: "Send a signal to running containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := container.ParseSignal(signal)
			if err != nil {
				return err
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return actOn(rt, args, t, func(ref string) error { return rt.Kill(ctx(cmd), ref, sig) })
		},
	}
	cmd.Flags().BoolVarP(&t.all, "all", "a", false, "signal every running container")
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "signal to send")
	return cmd
}

func newWaitCommand(g *globals) *cobra.Command {
	var conditions []string
	cmd := &cobra.Command{
		Use:   "wait [flags] CONTAINER [CONTAINER...]",
		Short: "Wait for containers to stop and print their exit codes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, c := range conditions {
				if !slices.Contains(container.WaitConditions, c) {
					return fmt.Errorf("invalid --condition %q: want %s", c, strings.Join(container.WaitConditions, ", "))
				}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return eachContainer(args, true, func(ref string) error {
				code, err := rt.WaitFor(ctx(cmd), ref, conditions)
				if err == nil {
					fmt.Println(code)
				}
				return err
			})
		},
	}
	cmd.Flags().StringSliceVar(&conditions, "condition", nil, "the states to wait for: "+strings.Join(container.WaitConditions, ", ")+" (default stopped); a state other than exited or stopped prints -1")
	return cmd
}

func newRenameCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return rt.Rename(args[0], args[1])
		},
	}
}

// ctx is the command's context, or a background one.
func ctx(cmd *cobra.Command) context.Context {
	if c := cmd.Context(); c != nil {
		return c
	}
	return context.Background()
}
