// Package buildopt holds what the sandbox command and the build helper
// (libexec sandbox-build) share: the options of build and the launch of
// the helper. The builder itself (package build) links buildkit's
// Dockerfile packages, whose start-up cost every sandbox command would
// otherwise pay. It must not import package build, cobra or
// containers/image.
package buildopt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"os/signal"

	"sandbox/internal/helperpath"
	"sandbox/spec"
	"sandbox/storage"

	"golang.org/x/sys/unix"
)

// Options are the flags of build. Zero values are docker's defaults.
type Options struct {
	// ContextDir is the build context, a directory.
	ContextDir string
	// Dockerfile is -f ("": Containerfile or Dockerfile in the context).
	Dockerfile string
	// Tags are -t names for the image.
	Tags []string
	// BuildArgs are --build-arg values: NAME=VALUE, or NAME to take the
	// value from this process's environment.
	BuildArgs []string
	// Target is the stage to build ("": the last).
	Target string
	// NoCache builds every step (the layers made are still cache for
	// later builds).
	NoCache bool
	// Pull is missing (also ""), always or never, for FROM images.
	Pull string
	// Labels are --label NAME=VALUE, set on the image.
	Labels []string
	// Network is the network of RUN steps ("": as run's default).
	Network string
	// Progress is auto (also ""): the compact view on a terminal, plain
	// lines otherwise; plain; or tty, the compact view anyway.
	Progress string
	// Quiet prints nothing but the image id (the command does).
	Quiet bool
	// IIDFile is --iidfile: where the image id is written.
	IIDFile string
	// Out receives step lines and RUN steps' standard output; Err their
	// standard error and warnings. Nil discards.
	Out io.Writer `json:"-"`
	Err io.Writer `json:"-"`
}

// Request is one build for the helper: argv[1], as JSON.
type Request struct {
	Options Options `json:"options"`
	// Storage is the store to open, with its driver resolved.
	Storage storage.Options `json:"storage"`
	// CgroupManager and Version are the engine's (container.Runtime).
	CgroupManager string `json:"cgroupManager,omitempty"`
	Version       string `json:"version,omitempty"`
}

// Launch runs the build helper for req, its output on this process's
// stdout and stderr. The helper prints its own errors: a failed build
// is a *spec.ExitError without a message, with the helper's status (a
// failed RUN's, else 125). Interrupts and termination signals are
// passed to the helper; this process waits for it to clean up.
func Launch(ctx context.Context, req Request) error {
	helper, err := helperpath.Find("sandbox-build")
	if err != nil {
		return err
	}
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	cmd := osexec.Command(helper, string(data))
	cmd.Args[0] = "sandbox-build"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// A signal sent to this process alone is passed on: the helper
	// removes its container before it ends. (ctrl-c reaches both.)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start build helper: %w", err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case sig := <-sigs:
				if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
					fmt.Fprintf(os.Stderr, "WARN: pass %v to the build helper: %v\n", sig, err)
				}
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		if code := ee.ExitCode(); code >= 0 {
			return spec.NewExitError(code, nil)
		}
		// Killed: it could not say so itself.
		return spec.NewExitError(spec.ExitSandbox, fmt.Errorf("build helper: %w", err))
	}
	if err != nil {
		return fmt.Errorf("build helper: %w", err)
	}
	return nil
}
