package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"sandbox/container"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// createFlags binds the flags that create and run share.
func createFlags(fs *pflag.FlagSet, o *container.CreateOptions, entrypoint *string) {
	fs.SetInterspersed(false)
	fs.StringVar(&o.Name, "name", "", "assign a name to the container")
	fs.StringArrayVarP(&o.Env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy it)")
	fs.StringArrayVar(&o.EnvFiles, "env-file", nil, "read environment variables from a file")
	fs.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&o.User, "user", "u", "", "user to run as: USER[:GROUP] or UID[:GID]")
	fs.StringVar(entrypoint, "entrypoint", "", "override the image's entrypoint")
	fs.StringVarP(&o.Hostname, "hostname", "h", "", "container host name")
	fs.StringArrayVarP(&o.Volumes, "volume", "v", nil, "bind mount: /HOST:/CONTAINER[:ro]")
	fs.StringArrayVar(&o.Mounts, "mount", nil, "mount: type=bind,source=/HOST,target=/CTR[,readonly] or type=tmpfs,target=/CTR")
	fs.StringArrayVar(&o.Tmpfs, "tmpfs", nil, "mount a tmpfs: /PATH[:OPTIONS]")
	fs.BoolVar(&o.ReadOnly, "read-only", false, "mount the root filesystem read-only")
	fs.BoolVarP(&o.Interactive, "interactive", "i", false, "keep standard input open")
	fs.BoolVarP(&o.TTY, "tty", "t", false, "allocate a terminal")
	fs.BoolVar(&o.Remove, "rm", false, "remove the container when it exits")
	fs.StringVar(&o.UserNS, "userns", "", "user namespace: keep-id (your own uid and gid inside)")
	fs.StringArrayVar(&o.CapAdd, "cap-add", nil, "add a capability (or ALL)")
	fs.StringArrayVar(&o.CapDrop, "cap-drop", nil, "drop a capability (or ALL)")
	fs.BoolVar(&o.Privileged, "privileged", false, "all capabilities, nothing masked")
	fs.StringVar(&o.Network, "network", "none", "network: none or host")
	fs.StringVar(&o.Network, "net", "none", "network: none or host")
	fs.Lookup("net").Hidden = true
	fs.StringArrayVarP(&o.Labels, "label", "l", nil, "set a label KEY=VALUE")
	fs.StringVar(&o.Pull, "pull", container.PullMissing, "pull the image: missing, always or never")
	fs.BoolP("help", "", false, "help for this command")
}

func newRunCommand(g *globals) *cobra.Command {
	o := &container.CreateOptions{}
	var entrypoint string
	var detach bool
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Create and run a container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("entrypoint") {
				o.Entrypoint = &entrypoint
			}
			o.Image, o.Command = args[0], args[1:]
			return runContainer(cmd.Context(), g, o, detach)
		},
	}
	createFlags(cmd.Flags(), o, &entrypoint)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "run in the background and print the container id")
	return cmd
}

func newCreateCommand(g *globals) *cobra.Command {
	o := &container.CreateOptions{}
	var entrypoint string
	cmd := &cobra.Command{
		Use:   "create [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Create a container without starting it",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("entrypoint") {
				o.Entrypoint = &entrypoint
			}
			o.Image, o.Command = args[0], args[1:]
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			o.Progress = os.Stderr
			c, err := rt.Create(cmd.Context(), o)
			if err != nil {
				return err
			}
			if err := rt.MarkCreated(c); err != nil {
				return err
			}
			fmt.Println(c.ID)
			return nil
		},
	}
	createFlags(cmd.Flags(), o, &entrypoint)
	return cmd
}

func runContainer(ctx context.Context, g *globals, o *container.CreateOptions, detach bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	stdinTTY := term.IsTerminal(int(os.Stdin.Fd()))
	if o.TTY && o.Interactive && !stdinTTY {
		return errors.New("the input device is not a TTY: drop -t, or run from a terminal")
	}
	if o.TTY {
		for _, f := range []*os.File{os.Stdin, os.Stdout} {
			if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
				o.Rows, o.Cols = ws.Row, ws.Col
				break
			}
		}
	}
	rt, err := g.runtime()
	if err != nil {
		return err
	}
	o.Progress = os.Stderr
	// Signals that arrive before the container runs must not kill this
	// command half-way; they are forwarded once it runs.
	early := make(chan os.Signal, 1)
	signal.Notify(early, unix.SIGINT, unix.SIGTERM, unix.SIGHUP)
	c, err := rt.Create(ctx, o)
	if err != nil {
		signal.Stop(early)
		return err
	}
	started, err := rt.Start(ctx, c, !detach)
	signal.Stop(early)
	if err != nil {
		var ee *container.ExitError
		if !errors.As(err, &ee) {
			// The monitor never took the container: it is ours to remove.
			if rerr := rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true}); rerr != nil {
				err = fmt.Errorf("%w (and removing the container: %v)", err, rerr)
			}
		}
		return err
	}
	if detach {
		fmt.Println(c.ID)
		return nil
	}
	code, err := container.Attach(started.Conn, container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr},
		container.AttachOptions{Stdin: o.Interactive, TTY: o.TTY, Pid: started.Pid, PidStart: started.PidStart})
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitCodeError{code: code}
	}
	return nil
}

func newStartCommand(g *globals) *cobra.Command {
	var attach bool
	cmd := &cobra.Command{
		Use:   "start [flags] CONTAINER",
		Short: "Start a created container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return startContainer(cmd.Context(), rt, args[0], attach)
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "attach to the container's output and wait for it")
	return cmd
}

func startContainer(ctx context.Context, rt *container.Runtime, ref string, attach bool) error {
	c, err := rt.Lookup(ref)
	if err != nil {
		return err
	}
	st, err := rt.State(c)
	if err != nil {
		return err
	}
	if st.Status != "created" {
		return fmt.Errorf("container %s is %s: only a created container can be started here", ref, st.Status)
	}
	started, err := rt.Start(ctx, c, attach)
	if err != nil {
		return err
	}
	if !attach {
		fmt.Println(ref)
		return nil
	}
	p := c.Config.Spec.Process
	code, err := container.Attach(started.Conn, container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr},
		container.AttachOptions{Stdin: p.Stdin, TTY: p.Terminal, Pid: started.Pid, PidStart: started.PidStart})
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitCodeError{code: code}
	}
	return nil
}
