// Package exec enters namespaces before the Go runtime starts: the join of
// the per-user keeper's user and mount namespaces that every sandbox process
// makes, and the keeper's own holding role. It owns the only cgo of sandbox
// (hook_linux.go) and is linked into the command-line binary, so it must stay
// free of heavy imports.
package exec
