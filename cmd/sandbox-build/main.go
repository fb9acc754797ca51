// Command sandbox-build is the build helper: sandbox runs it, inside the
// keeper's namespaces, for `sandbox build`. It is a binary of its own
// because the Dockerfile parser's packages (buildkit's, with protobuf)
// would add to the start of every sandbox command.
//
//	argv[1]         the request, buildopt.Request as JSON
//	stdout, stderr  the build's output; the image id last on stdout
//	exit status     0, a failed RUN's status, or 125
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"sandbox/build"
	"sandbox/build/buildopt"
	"sandbox/cgroupv2/systemd"
	"sandbox/container"
	"sandbox/internal/atomicfile"
	_ "sandbox/internal/nproc" // before the Go runtime: one line, not a dump, when the process limit is reached
	"sandbox/spec"
	"sandbox/storage"
	"sandbox/userns"

	"go.podman.io/storage/pkg/reexec"
	"golang.org/x/sys/unix"
)

func main() {
	// containers/storage runs some work (untar in a chroot) in a copy of
	// this binary: that copy stops here.
	if reexec.Init() {
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "sandbox-build is started by sandbox, not by hand")
		os.Exit(spec.ExitSandbox)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(spec.ExitSandbox)
	}
}

func run(arg string) (retErr error) {
	var req buildopt.Request
	if err := json.Unmarshal([]byte(arg), &req); err != nil {
		return fmt.Errorf("build helper request: %w", err)
	}
	// A full disk is said in one line, with the store it is in, as
	// sandbox says it.
	defer func() {
		if storage.IsDiskFull(retErr) && !errors.Is(retErr, storage.ErrDiskFull) {
			retErr = storage.DiskFullError(req.Storage.GraphRoot, retErr)
		}
	}()
	if err := storage.LibraryLogFromEnv(); err != nil {
		return err
	}
	// ctrl-c reaches this process with the terminal's group: the build
	// removes its container, then ends.
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGINT, unix.SIGTERM, unix.SIGHUP)
	defer stop()
	// Started by sandbox inside the keeper's namespaces: this only sets
	// what containers/storage reads to know it.
	if err := userns.Enter(userns.Options{}); err != nil {
		return err
	}
	s, err := storage.Open(req.Storage)
	if err != nil {
		return err
	}
	rt, err := container.New(s)
	if err != nil {
		return err
	}
	rt.CgroupManager, rt.Version, rt.Events = systemd.Manager(req.CgroupManager), req.Version, s.Events
	o := req.Options
	o.Out, o.Err = os.Stdout, os.Stderr
	tr, err := build.Begin(ctx, rt)
	if err != nil {
		return err
	}
	defer func() {
		if err := tr.End(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	if o.ContextDir == "-" {
		dir, remove, err := build.ContextFromStream(s, os.Stdin)
		if err != nil {
			return err
		}
		defer func() {
			if err := remove(); err != nil {
				fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
			}
		}()
		o.ContextDir = dir
	}
	res, err := build.Build(ctx, rt, o)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build interrupted: %w", err)
		}
		return err
	}
	if o.IIDFile != "" {
		if err := atomicfile.Write(o.IIDFile, []byte("sha256:"+res.ID), 0o644); err != nil {
			return fmt.Errorf("--iidfile: %w", err)
		}
	}
	fmt.Println(res.ID)
	return nil
}
