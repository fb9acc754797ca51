// Package removal takes a container apart once its process has exited:
// the unmount of its root filesystem, the deletion of its layer and
// records, its run directory, its anonymous volumes, and the cleanup that
// a container's monitor becomes when the container has exited. The engine
// (package container) removes containers through it, and the
// sandbox-cleanup binary (cmd/sandbox-cleanup) is this package behind a
// command line: the process that ends every container's life starts
// without the engine, the command line and their libraries, in about half
// the time of the sandbox command.
//
// It must not import the engine (container), a command, or a package with
// cgo: sandbox-cleanup is pure Go and static (make lint holds the line).
package removal
