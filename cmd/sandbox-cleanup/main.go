// Command sandbox-cleanup is what a container's monitor becomes once the
// container has exited and every client has its status (monitor.Go's
// Cleanup): it unmounts the container's root filesystem, and with --rm
// removes the container (package removal).
//
//	sandbox-cleanup --root DIR --runroot DIR --storage-driver NAME
//	                [--events-backend none] [--rm] ID
//
// The monitor runs it inside the keeper's user and mount namespaces, which
// it inherits; it is not run by hand. It links containers/storage but not
// the engine, the command line or cgo: every run --rm ends with this
// process, which starts in about half the time of the sandbox command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"sandbox/events"
	_ "sandbox/internal/batchsysmon"      // the runtime's sysmon does not preempt the work
	_ "sandbox/internal/hugeheap/atstart" // huge pages for the heap
	"sandbox/network/usernet"
	"sandbox/removal"
	"sandbox/spec"
	"sandbox/storage"
)

// No heap profiling: nobody reads the profile.
func init() { runtime.MemProfileRate = 0 }

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(125)
	}
}

// inKeeperEnv is set (userns.ChildEnv) in the environment of what sandbox
// starts inside the keeper's namespaces, the monitor among them.
const inKeeperEnv = "_SANDBOX_IN_KEEPER"

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox-cleanup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o storage.Options
	fs.StringVar(&o.GraphRoot, "root", "", "the store's graph root")
	fs.StringVar(&o.RunRoot, "runroot", "", "the store's run root")
	fs.StringVar(&o.Driver, "storage-driver", "", "the store's driver")
	backend := fs.String("events-backend", "file", "file, or none to record no events")
	remove := fs.Bool("rm", false, "remove the container")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one container id, got %d arguments: %q", fs.NArg(), fs.Args())
	}
	if o.GraphRoot == "" || o.RunRoot == "" {
		return errors.New("--root and --runroot are required: sandbox-cleanup is started by a container's monitor")
	}
	if *backend != "file" && *backend != "none" {
		return fmt.Errorf("--events-backend %q: want file or none", *backend)
	}
	if os.Getenv(inKeeperEnv) != "1" {
		return errors.New("sandbox-cleanup runs in sandbox's user namespace, started by a container's monitor, not by hand")
	}
	// Options.SingleID is left false: it lets creating files ignore
	// ownership that one id cannot hold, and a cleanup creates none.
	s, err := storage.Open(o)
	if err != nil {
		return err
	}
	m := removal.Remover{
		Store:    s,
		Networks: usernet.Store{Dir: usernet.DirIn(o.GraphRoot)},
		RunDirs:  spec.RunDirsIn(s.RunRoot()),
	}
	if *backend == "file" {
		m.Events = events.Journal{Path: events.DefaultPath(o.RunRoot)}
	}
	return m.Cleanup(fs.Arg(0), *remove)
}
