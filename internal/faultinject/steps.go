// Package faultinject names the steps of sandbox's commands at which the
// fault tests kill the process, and is where they do it. In a release
// build Step does nothing; only a build with the tag faultinject (the
// binaries hack/stage-tests.sh builds into bin/faultinject/ for the tests)
// kills the process with SIGKILL at the step that the environment variable
// SANDBOX_FAULT names. It imports nothing of sandbox.
package faultinject

import "strings"

// Env names the step to kill at, in a faultinject build.
const Env = "SANDBOX_FAULT"

// The steps, by command, in the order a command passes them. A step is
// named after what has just been done.
const (
	// create and run
	CreateClaimed    = "create.claimed"    // the run directory claims the new id
	CreateStored     = "create.stored"     // the container is in storage
	CreateMounted    = "create.mounted"    // its root filesystem is mounted
	CreateConfigured = "create.configured" // its configuration is written
	RunLaunched      = "run.launched"      // run: the monitor waits for its go-ahead
	// start
	StartMounted  = "start.mounted"  // the root filesystem is mounted again
	StartLaunched = "start.launched" // the monitor waits for its go-ahead
	// exec
	ExecPrepared = "exec.prepared" // the process is built, nothing entered yet
	ExecStarted  = "exec.started"  // the process that enters the container runs
	// stop
	StopRequested = "stop.requested" // the state says a stop was asked for
	StopSignalled = "stop.signalled" // the stop signal is sent
	// rm
	RmKilled    = "rm.killed"    // the container's processes are gone
	RmUnmounted = "rm.unmounted" // its root filesystem is unmounted
	RmDeleted   = "rm.deleted"   // it is deleted from storage, its run directory not yet
	// pull and import (in sandbox-image)
	PullBegun    = "pull.begun"  // the source is resolved, nothing copied
	PullBlob     = "pull.blob"   // a layer is being copied
	PullCommit   = "pull.commit" // the layers are in; the image is being written
	PullStored   = "pull.stored" // the image is stored and named
	ImportBegun  = "import.begun"
	ImportBlob   = "import.blob"
	ImportCommit = "import.commit"
	ImportStored = "import.stored"
	// commit (in sandbox)
	CommitPaused = "commit.paused" // --pause: the container is frozen
	CommitDiff   = "commit.diff"   // its changes are in the layer buffer, no layer yet
	CommitLayer  = "commit.layer"  // the new layer is stored, no image holds it
	CommitImage  = "commit.image"  // the image is written, not named yet
	CommitNamed  = "commit.named"  // the image is named; --pause: not thawed yet
	// build (in sandbox-build)
	BuildBegun     = "build.begun"     // the Dockerfile is read, the build recorded, nothing made
	BuildCopying   = "build.copying"   // a COPY's work layer (and --from's image) is mounted, files being placed
	BuildContainer = "build.container" // a RUN's container runs
	BuildRan       = "build.ran"       // the RUN's command is done, its changes not read
	BuildDiff      = "build.diff"      // a step's changes are in the layer buffer, no layer yet
	BuildLayer     = "build.layer"     // a step's layer is stored, no image holds it
	BuildStep      = "build.step"      // a step's image (cache for later builds) is written
	BuildImage     = "build.image"     // the final image is written, not named yet
	BuildNamed     = "build.named"     // the final image is named, nothing printed yet
)

// Steps lists every step.
var Steps = []string{
	CreateClaimed, CreateStored, CreateMounted, CreateConfigured, RunLaunched,
	StartMounted, StartLaunched, ExecPrepared, ExecStarted,
	StopRequested, StopSignalled, RmKilled, RmUnmounted, RmDeleted,
	PullBegun, PullBlob, PullCommit, PullStored,
	ImportBegun, ImportBlob, ImportCommit, ImportStored,
	CommitPaused, CommitDiff, CommitLayer, CommitImage, CommitNamed,
	BuildBegun, BuildCopying, BuildContainer, BuildRan, BuildDiff, BuildLayer,
	BuildStep, BuildImage, BuildNamed,
}

// progressSteps maps a line of containers/image's progress to the step
// it starts, for a transfer whose steps begin with prefix ("pull.").
func progressStep(prefix, line string) string {
	switch {
	case strings.HasPrefix(line, "Copying blob"):
		return prefix + "blob"
	case strings.HasPrefix(line, "Writing manifest"):
		return prefix + "commit"
	}
	return ""
}
