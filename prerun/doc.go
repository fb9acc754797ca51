// Package prerun is the C that runs in every sandbox process before the Go
// runtime starts (hook.c, a constructor): it becomes the per-user keeper,
// or joins the keeper's user and mount namespaces, and marks inherited
// descriptors close-on-exec; for `sandbox run` it first waits for a turn
// to start a container (startslot.c: one start under way per CPU; the
// command gives the turn back, ReleaseStartSlot) and then starts the
// container's monitor (early.c), which the engine adopts
// (TakeEarlyMonitor) or ends (EndEarlyMonitor); in the sandbox binary it
// last maps the binary's code and constant data in one call
// (prefault.c). Its Go face
// (prerun_linux.go) reports what the hook did and which global flags it
// skips to find the command. At the
// other end of a command's life, teardown.c hands the kernel's teardown of
// the command's memory to a small process that outlives it by a moment
// (HandOffTeardown). It imports nothing of sandbox and must stay that way:
// it is linked into the command binaries by their imports of it, and
// package userns reads it.
package prerun
