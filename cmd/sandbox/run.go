package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"sandbox/attach"
	"sandbox/container"
	"sandbox/internal/runflags"
	"sandbox/prerun"
	"sandbox/spec"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// createFlags binds the flags that create and run share.
func createFlags(fs *pflag.FlagSet, o *container.CreateOptions, entrypoint *string, stopTimeout *int) {
	fs.SetInterspersed(false)
	fs.StringVar(&o.Name, "name", "", "assign a name to the container")
	fs.StringArrayVarP(&o.Env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy it)")
	fs.StringArrayVar(&o.EnvFiles, "env-file", nil, "read environment variables from a file")
	fs.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&o.User, "user", "u", "", "user to run as: USER[:GROUP] or UID[:GID]")
	fs.StringVar(entrypoint, "entrypoint", "", `override the image's entrypoint: a program, or a JSON array like '["sh","-c"]'`)
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
	fs.BoolVar(&o.Privileged, "privileged", false, "all capabilities, nothing masked, no seccomp filter")
	fs.StringArrayVar(&o.SecurityOpts, "security-opt", nil, "seccomp=unconfined|PROFILE.json, no-new-privileges, mask=PATH[:PATH], unmask=ALL|PATH[:PATH], label=disable, apparmor=unconfined")
	fs.StringVar(&o.Network, "network", "", "network: slirp4netns[:OPTIONS], pasta[:OPTIONS], none, host container:NAME or a user-defined network (default: slirp4netns, else pasta)")
	fs.StringVar(&o.Pod.Name, "pod", "", "run in a pod (new:NAME creates it): share its network, IPC and UTS")
	fs.StringVar(&o.Network, "net", "", "network")
	fs.StringArrayVar(&o.Aliases, "network-alias", nil, "a name of the container on its user-defined network")
	fs.StringVar(&o.IP, "ip", "", "the container's address on its user-defined network")
	fs.Lookup("net").Hidden = true
	fs.StringArrayVarP(&o.Publish, "publish", "p", nil, "publish a port: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges allowed")
	fs.BoolVarP(&o.PublishAll, "publish-all", "P", false, "publish the image's exposed ports on free host ports")
	fs.StringArrayVar(&o.DNS, "dns", nil, "a nameserver for the container")
	fs.StringArrayVar(&o.DNSSearch, "dns-search", nil, "a DNS search domain")
	fs.StringArrayVar(&o.DNSOptions, "dns-option", nil, "a resolv.conf option, like ndots:2")
	fs.StringArrayVar(&o.AddHosts, "add-host", nil, "an /etc/hosts entry: HOST:IP (IP may be host-gateway)")
	fs.StringArrayVarP(&o.Labels, "label", "l", nil, "set a label KEY=VALUE")
	fs.StringVar(&o.Pull, "pull", container.PullMissing, "pull the image: missing, always, never or newer (as missing)")
	fs.BoolVar(&o.Replace, "replace", false, "remove a container of the same --name first, running or not")
	fs.StringVar(&o.Timezone, "tz", "", "time zone: local, or an IANA name like Europe/Paris")
	fs.UintVar(&o.Timeout, "timeout", 0, "kill the container after this many seconds (0: never)")
	fs.BoolVar(&o.Init, "init", false, "run a small init (catatonit) as pid 1 that forwards signals and reaps zombies")
	fs.StringVar(&o.StopSignal, "stop-signal", "", "signal that stop sends first (default: the image's, else SIGTERM)")
	fs.IntVar(stopTimeout, "stop-timeout", 10, "seconds stop waits before SIGKILL")
	fs.StringVar(&o.Restart, "restart", "no", "restart policy: no, on-failure[:N], always, unless-stopped")
	fs.StringArrayVar(&o.LogOpts, "log-opt", nil, "log option: max-size=SIZE, max-file=N, path=FILE")
	fs.StringVar(&o.LogDriver, "log-driver", "k8s-file", "log driver: k8s-file, json-file (as k8s-file), none, or passthrough (your own streams, no log)")
	fs.StringArrayVar(&o.Ulimits, "ulimit", nil, "a resource limit: TYPE=SOFT[:HARD] (nofile=1024:2048; -1 is unlimited)")
	resourceFlags(fs, &o.Resources)
	fs.BoolP("help", "", false, "help for this command")
}

func newRunCommand(g *globals) *cobra.Command {
	o := &container.CreateOptions{}
	var entrypoint string
	var stopTimeout int
	var detach bool
	var detachKeys string
	var attachStreams []string
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Create and run a container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			optionalFlags(cmd, o, &entrypoint, &stopTimeout)
			o.Image, o.Command = args[0], args[1:]
			if err := checkCallerFds(o.PreserveFDs); err != nil {
				return err
			}
			streams, err := runflags.ParseAttach(attachStreams)
			if err != nil {
				return err
			}
			if detach && len(attachStreams) > 0 {
				return errors.New("conflicting options: -a/--attach and -d/--detach: a detached container has no attached streams")
			}
			return runContainer(cmd.Context(), g, o, runAttach{detach: detach, keys: detachKeys, streams: streams})
		},
	}
	createFlags(cmd.Flags(), o, &entrypoint, &stopTimeout)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "run in the background and print the container id")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", attach.DefaultDetachKeys, "keys that detach from the container")
	cmd.Flags().UintVar(&o.PreserveFDs, "preserve-fds", 0, "pass this many open descriptors from 3 on into the container, as 3 on")
	cmd.Flags().StringArrayVarP(&attachStreams, "attach", "a", nil, "attach only this stream: STDIN, STDOUT or STDERR (default: all)")
	return cmd
}

// runAttach is how run attaches: not at all (detach), or to the streams
// -a named, with the detach keys.
type runAttach struct {
	detach  bool
	keys    string
	streams runflags.Streams
}

func newCreateCommand(g *globals) *cobra.Command {
	o := &container.CreateOptions{}
	var entrypoint string
	var stopTimeout int
	cmd := &cobra.Command{
		Use:   "create [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Create a container without starting it",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			optionalFlags(cmd, o, &entrypoint, &stopTimeout)
			o.Image, o.Command = args[0], args[1:]
			if err := joinPod(cmd.Context(), g, o); err != nil {
				return err
			}
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
	createFlags(cmd.Flags(), o, &entrypoint, &stopTimeout)
	return cmd
}

// optionalFlags sets the options whose zero value differs from "not given".
func optionalFlags(cmd *cobra.Command, o *container.CreateOptions, entrypoint *string, stopTimeout *int) {
	if cmd.Flags().Changed("entrypoint") {
		o.Entrypoint = entrypoint
	}
	if cmd.Flags().Changed("stop-timeout") {
		o.StopTimeout = stopTimeout
	}
}

func runContainer(ctx context.Context, g *globals, o *container.CreateOptions, a runAttach) error {
	if ctx == nil {
		ctx = context.Background()
	}
	caught := catchSignals(!a.detach, o.TTY)
	stdinTTY := term.IsTerminal(int(os.Stdin.Fd()))
	if o.TTY && o.Interactive && !stdinTTY {
		return errors.New("the input device is not a TTY: drop -t, or run from a terminal")
	}
	if o.TTY {
		o.Rows, o.Cols = attach.TerminalSize()
	}
	if err := joinPod(ctx, g, o); err != nil {
		return err
	}
	rt, err := g.openingRuntime(true)
	if err != nil {
		return err
	}
	o.Progress = os.Stderr
	// A foreground run --rm removes its container itself (below).
	rt.RemovesOnReturn = !a.detach
	rt.BeforeChanges = func() { <-caught }
	// The turn to start a container that the pre-runtime hook took
	// (prerun/startslot.c) is given back before a pull and once the
	// container runs: it covers the start, not the container's life.
	rt.BeforePull = prerun.ReleaseStartSlot
	c, started, err := rt.Run(ctx, o, !a.detach)
	prerun.ReleaseStartSlot()
	if err != nil {
		var ee *spec.ExitError
		if c != nil && !errors.As(err, &ee) {
			// The monitor never took the container: it is ours to remove.
			if rerr := rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true, Volumes: true}); rerr != nil {
				err = fmt.Errorf("%w (and removing the container: %v)", err, rerr)
			}
		}
		return err
	}
	if a.detach {
		fmt.Println(c.ID)
		return nil
	}
	// A stream -a leaves out is read from the container and dropped, so
	// that the container never blocks on it.
	stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if !a.streams.Stdout {
		stdio.Out = io.Discard
	}
	if !a.streams.Stderr {
		stdio.Err = io.Discard
	}
	// The status is read before a --rm removal, which frees what the
	// container wrote: a full disk is told while it is full.
	err = attachStdio(rt, started.Conn, stdio, container.AttachOptions{Stdin: o.Interactive && a.streams.Stdin && o.LogDriver != spec.LogPassthrough, TTY: o.TTY, Pid: started.Pid, PidStart: started.PidStart}, a.keys)
	if o.Remove {
		// The container's status stands; a removal that fails leaves a
		// container that the next command to meet it removes.
		if rerr := rt.RemoveHandedOff(c, spec.ExitStatus(err)); rerr != nil {
			fmt.Fprintf(os.Stderr, "WARN: %v\n", rerr)
		}
	}
	return err
}

// catchSignals catches, from a goroutine of its own, the signals that
// must not kill a run half-way (SIGINT, SIGTERM, SIGHUP) and, when it
// attaches, every signal the attach forwards to the container (with tty,
// the terminal's size changes too); the channel it returns closes once
// they are caught. Asking the Go runtime for a signal costs a round trip
// with its signal thread (for three, about 0.8 ms here, which was on the
// way to the container's start): the start goes on meanwhile and waits
// only before it changes anything (container.Runtime.BeforeChanges). The
// signals stay caught, unread, until the command ends: the forwarder's
// own Notify and Stop then cost no round trip (the runtime enables a
// signal on its first channel and disables it with its last).
func catchSignals(attaches, tty bool) <-chan struct{} {
	sigs := []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP}
	if attaches {
		sigs = attach.ForwardedSignals(tty)
	}
	done := make(chan struct{})
	go func() {
		signal.Notify(make(chan os.Signal, 1), sigs...)
		close(done)
	}()
	return done
}

// attachStreams attaches this command's terminal or streams and ends with
// the container's status (or 0 when detached), as rt.ExitStatus tells it.
func attachStreams(rt *container.Runtime, conn *os.File, o container.AttachOptions, detachKeys string) error {
	return attachStdio(rt, conn, container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, o, detachKeys)
}

// attachStdio is attachStreams with the container's streams going to stdio.
func attachStdio(rt *container.Runtime, conn *os.File, stdio container.Stdio, o container.AttachOptions, detachKeys string) error {
	keys, err := attach.ParseDetachKeys(detachKeys)
	if err != nil {
		return err
	}
	o.DetachKeys = keys
	code, err := container.Attach(conn, stdio, o)
	if errors.Is(err, container.ErrDetached) {
		return nil
	}
	if err != nil {
		return err
	}
	return rt.ExitStatus(code)
}
