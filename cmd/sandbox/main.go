// Command sandbox runs OCI containers as an unprivileged user, without a
// daemon. This package is the command line only: it parses flags into
// option structs, calls the packages that do the work, and prints. No
// other package imports cobra.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sandbox/cgroupv2/systemd"
	"sandbox/container"
	_ "sandbox/internal/batchsysmon"      // the runtime's sysmon does not preempt the work
	_ "sandbox/internal/hugeheap/atstart" // huge pages for the heap
	_ "sandbox/internal/nproc"            // before the Go runtime: one line, not a dump, when the process limit is reached
	"sandbox/network/usernet"
	"sandbox/network/usernet/holder"
	"sandbox/prerun" // the pre-runtime hook: joins the keeper's namespaces
	"sandbox/spec"
	"sandbox/storage"
	"sandbox/userns"

	"go.podman.io/storage/pkg/reexec"

	"github.com/spf13/cobra"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

// globals are the flags every command shares.
type globals struct {
	root, runroot, driver string
	// cgroupManager is --cgroup-manager, checked before any command runs.
	cgroupManager string
	manager       systemd.Manager
	podman        podmanGlobals
}

func main() {
	// containers/storage runs some work (untar in a chroot) in a copy of
	// this binary: that copy stops here.
	if reexec.Init() {
		return
	}
	if len(os.Args) == 3 && os.Args[1] == usernet.HolderRole {
		os.Exit(holder.Main(os.Args[2]))
	}
	g := &globals{}
	root := newRootCommand(g, os.Args[1:])
	err := root.Execute()
	if err == nil {
		exit(0)
	}
	// A full disk is said in one line, with the store it is in.
	if storage.IsDiskFull(err) && !errors.Is(err, storage.ErrDiskFull) {
		if o, oerr := g.storageOptions(); oerr == nil {
			err = storage.DiskFullError(o.GraphRoot, err)
		}
	}
	// An exit error says its status and prints only its own error, if
	// any: a container's status needs no message.
	var ee *spec.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(os.Stderr, "Error:", ee.Err)
		}
		exit(ee.Code)
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	exit(spec.ExitSandbox)
}

// exit ends the command with code. A monitor the hook started that no
// container took ends first (prerun.EndEarlyMonitor). The kernel's
// teardown of the command's memory then follows its exit status rather
// than coming before it (prerun.HandOffTeardown).
func exit(code int) {
	prerun.EndEarlyMonitor()
	prerun.HandOffTeardown()
	os.Exit(code)
}

// newRootCommand builds the command tree for the arguments args: with the
// subcommand they call only, when that is clear (addSubcommands).
func newRootCommand(g *globals, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:           "sandbox",
		Short:         "Run OCI containers as an unprivileged user, without a daemon",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	setHelp(root) // before any command is added: they keep their order
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.root, "root", "", "storage root (default $XDG_DATA_HOME/sandbox/storage)")
	pf.StringVar(&g.runroot, "runroot", "", "runtime state root (default $XDG_RUNTIME_DIR/sandbox/storage)")
	pf.StringVar(&g.driver, "storage-driver", "", "storage driver: overlay, fuse-overlayfs or vfs (default: the first that works)")
	pf.StringVar(&g.cgroupManager, "cgroup-manager", string(systemd.Auto), "how containers' cgroups are found: auto, systemd (a transient scope from your systemd) or cgroupfs (a subtree of your own cgroup)")
	g.podman.addFlags(pf)
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		m, err := systemd.ParseManager(g.cgroupManager)
		if err != nil {
			return spec.NewExitError(spec.ExitSandbox, err)
		}
		g.manager = m
		notices, err := checkGlobals(g.podman)
		if err != nil {
			return spec.NewExitError(spec.ExitSandbox, err)
		}
		if g.podman.debug() {
			if n := turnNotice(prerun.StartSlotWait()); n != "" {
				notices = append(notices, n)
			}
		}
		for _, n := range notices {
			fmt.Fprintln(os.Stderr, "DEBU:", n)
		}
		return g.podman.apply(c.Flags().Changed("log-level"))
	}
	// The pre-runtime hook skips the same flags' values on its own
	// (prerun.GlobalValueFlags): a flag added here goes there too.
	addSubcommands(root, rootSubcommands(g), args, valueFlags(pf))
	addCompletions(root, g)
	return root
}

// rootSubcommands are the commands of sandbox.
func rootSubcommands(g *globals) []subcommand {
	return []subcommand{
		leaf(g, newRunCommand, "run"), leaf(g, newCreateCommand, "create"), leaf(g, newStartCommand, "start"),
		leaf(g, newPsCommand, "ps", "list", "ls"), leaf(g, newRmCommand, "rm"),
		leaf(g, newAttachCommand, "attach"), leaf(g, newStopCommand, "stop"), leaf(g, newRestartCommand, "restart"),
		leaf(g, newKillCommand, "kill"), leaf(g, newWaitCommand, "wait"), leaf(g, newRenameCommand, "rename"),
		leaf(g, newExecCommand, "exec"), leaf(g, newPortCommand, "port"),
		leaf(g, newLogsCommand, "logs"), leaf(g, newInspectCommand, "inspect"), leaf(g, newTopCommand, "top"),
		leaf(g, newPauseCommand, "pause"), leaf(g, newUnpauseCommand, "unpause"), leaf(g, newStatsCommand, "stats"), leaf(g, newUpdateCommand, "update"),
		{names: []string{"container"}, build: func(rest []string) *cobra.Command { return newContainerCommand(g, rest) }},
		leaf(g, newImagesCommand, "images", "ls"), leaf(g, newPullCommand, "pull"), leaf(g, newPushCommand, "push"),
		leaf(g, newRmiCommand, "rmi"), leaf(g, newTagCommand, "tag"),
		leaf(g, newImportCommand, "import"), leaf(g, newLoadCommand, "load"), leaf(g, newSaveCommand, "save"),
		leaf(g, newHistoryCommand, "history"), leaf(g, newDiffCommand, "diff"), leaf(g, newExportCommand, "export"), leaf(g, newCpCommand, "cp"),
		{names: []string{"image"}, build: func(rest []string) *cobra.Command { return newImageCommand(g, rest) }},
		{names: []string{"volume"}, build: func(rest []string) *cobra.Command { return newVolumeCommand(g, rest) }},
		leaf(g, newBuildCommand, "build"), leaf(g, newCommitCommand, "commit"),
		{names: []string{"network"}, build: func(rest []string) *cobra.Command { return newNetworkCommand(g, rest) }},
		leaf(g, newUnshareCommand, "unshare"),
		{names: []string{"pod"}, build: func(rest []string) *cobra.Command { return newPodCommand(g, rest) }},
		{names: []string{"generate"}, build: func(rest []string) *cobra.Command { return newGenerateCommand(g, rest) }},
		{names: []string{"play"}, build: func(rest []string) *cobra.Command { return newPlayCommand(g, rest) }},
		{names: []string{"system"}, build: func(rest []string) *cobra.Command { return newSystemCommand(g, rest) }},
		leaf(g, newInfoCommand, "info"), leaf(g, newCheckCommand, "check"), leaf(g, newEventsCommand, "events"),
		leaf(g, newVersionCommand, "version"),
	}
}

// storageOptions turns the global flags into storage options.
func (g *globals) storageOptions() (storage.Options, error) {
	o := storage.Options{GraphRoot: g.root, RunRoot: g.runroot, Driver: g.driver}
	if o.GraphRoot == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return o, fmt.Errorf("no home directory for storage: set HOME or use --root: %w", err)
		}
		o.GraphRoot = storage.DefaultGraphRoot(home)
	}
	if o.RunRoot == "" {
		o.RunRoot = filepath.Join(userns.RuntimeDir(), "storage")
	}
	for _, p := range []*string{&o.GraphRoot, &o.RunRoot} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return o, err
		}
		*p = abs
	}
	uids, _, err := userns.CurrentMapping()
	if err == nil && userns.Size(uids) == 1 {
		o.SingleID = true
	}
	return o, nil
}

// enter enters the keeper's namespaces and returns the storage options.
func (g *globals) enter() (storage.Options, error) {
	if err := userns.Enter(userns.Options{}); err != nil {
		return storage.Options{}, err
	}
	return g.storageOptions()
}

// store enters the keeper's namespaces and opens storage.
func (g *globals) store() (*storage.Store, error) {
	o, err := g.enter()
	if err != nil {
		return nil, err
	}
	s, err := storage.Open(o)
	if err != nil {
		return nil, err
	}
	s.Events = g.podman.journal(o.RunRoot)
	return s, nil
}

// runtime is store plus the container runtime over it, once the
// removals under way have ended (container.Runtime.AwaitRemovals): what a
// run --rm that returned leaves is gone for every command.
func (g *globals) runtime() (*container.Runtime, error) {
	rt, err := g.runtimeNow()
	if err != nil {
		return nil, err
	}
	if err := rt.AwaitRemovals(context.Background()); err != nil {
		return nil, err
	}
	return rt, nil
}

// runtimeNow is runtime without the wait: for the cleanup, which is such
// a removal.
func (g *globals) runtimeNow() (*container.Runtime, error) {
	s, err := g.store()
	if err != nil {
		return nil, err
	}
	rt, err := container.New(s)
	if err != nil {
		return nil, err
	}
	rt.CgroupManager, rt.Version = g.manager, version
	rt.Events = s.Events
	rt.Networks = usernet.Store{Dir: usernet.DirIn(s.Options.GraphRoot)}
	return rt, nil
}

// openingRuntime is runtime with a store opened when the runtime needs
// it: in the background from the start with ahead (container.NewOpening:
// for Run, which launches the container's monitor meanwhile), else only
// if it must (container.NewLazy: for exec, which finds a running
// container without it).
func (g *globals) openingRuntime(ahead bool) (*container.Runtime, error) {
	o, err := g.enter()
	if err != nil {
		return nil, err
	}
	newRuntime := container.NewLazy
	if ahead {
		newRuntime = container.NewOpening
	}
	rt, err := newRuntime(o.RunRoot, func() (*storage.Store, error) {
		s, err := storage.Open(o)
		if err == nil {
			s.Events = g.podman.journal(o.RunRoot)
		}
		return s, err
	})
	if err != nil {
		return nil, err
	}
	rt.CgroupManager, rt.Version = g.manager, version
	rt.Events = g.podman.journal(o.RunRoot)
	rt.Networks = usernet.Store{Dir: usernet.DirIn(o.GraphRoot)}
	return rt, nil
}
