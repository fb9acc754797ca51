// Package system tells what the host offers rootless containers and what
// the engine holds: Check lists every requirement of a rootless container
// with its state and the command that fixes it (sandbox check), Info
// describes the host, the store and the containers (sandbox info).
//
// It reports and changes nothing. The only traces it leaves are those of
// its probes: a child in fresh user and mount namespaces that mounts a
// tmpfs and an overlay in a temporary directory, removed afterwards, and
// the reconciliation that listing containers always does (Info).
//
// Check must work when the keeper or the store is broken, since it is
// what a stuck user runs first: it neither opens storage nor enters the
// keeper (the pre-runtime hook in package prerun leaves `sandbox check`
// outside every namespace), and each failure of a probe becomes the
// state of its item, not an error.
package system
