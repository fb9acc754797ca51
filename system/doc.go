// Package system tells what the host offers rootless containers and what
// the engine holds: Check lists every requirement of a rootless container
// with its state and the command that fixes it (sandbox check), Info
// describes the host, the store and the containers (sandbox info).
// CheckStore checks the store for damage and leftovers and repairs them
// (system check), DF measures it (system df), Prune and Reset clean it up
// (system prune, system reset); resources owned by other packages (named
// volumes, networks) take part through a Resource each.
//
// Check and Info report and change nothing. The only traces they leave
// are those of the probes: a child in fresh user and mount namespaces that
// mounts a tmpfs and an overlay in a temporary directory, removed
// afterwards, and the reconciliation that listing containers always does
// (Info). CheckStore changes the store only with Repair; it must not
// remove a container or an image unless Force.
//
// Check must work when the keeper or the store is broken, since it is
// what a stuck user runs first: it neither opens storage nor enters the
// keeper (the pre-runtime hook in package prerun leaves `sandbox check`
// outside every namespace), and each failure of a probe becomes the
// state of its item, not an error.
package system
