// Package nproc stops a sandbox command before the Go runtime starts when
// the user's process limit (RLIMIT_NPROC) leaves no room for the runtime's
// threads, as when a container runs a fork bomb: the command then says so
// in one line and exits 125, where the runtime would die with a dump of
// every goroutine. A C constructor does it (nproc_linux.c); a command links
// it with a blank import. It imports nothing of sandbox and must stay so.
package nproc
