// Package cgroupv2 owns delegated cgroup v2: which cgroup hierarchy the
// host has (v1, hybrid or v2), the cgroup the calling process is in, the
// subtree of it that the user may write, which controllers (cpu, cpuset,
// io, memory, pids) are delegated there, and each container's own cgroup
// in that subtree: its limits, freezing, killing, figures and removal.
//
// Detection (detect_linux.go) reads /proc/self/mountinfo,
// /proc/self/cgroup and the cgroup files and writes nothing; sandbox check,
// sandbox info, the limit flags and the monitor all use it, so they agree
// on what is delegated. Whether a cgroup is writable is asked with
// access(2), never by comparing owners: a sandbox process usually runs as
// uid 0 of the keeper's user namespace, where the user's cgroup files show
// as owned by 0 and root's as nobody, and the kernel's own answer is right
// on both sides of the namespace.
//
// A container's cgroup (leaf_linux.go) is DELEGATE-ROOT/sandbox/ID, with
// every delegated controller enabled down to it; processes found in the
// delegated root itself are moved to DELEGATE-ROOT/init first, since a
// cgroup with processes cannot enable controllers for its children (the
// no-internal-processes rule). Limits (limits.go) are computed from the
// flags on the command's side and written by the monitor before the
// container's init is cloned into the cgroup.
//
// Only the cgroupfs path is implemented: a writable subtree of the
// caller's own cgroup, as systemd's Delegate= or root hands one over. The
// systemd path of the design (a transient scope with Delegate=yes made
// over the user's D-Bus with go-systemd) is not: neither this project's
// host (hybrid cgroups, no user systemd) nor its test VM (no systemd) has
// a user systemd to test it against, and untested code is not merged.
// Where a user systemd runs, its user@UID.service with Delegate= gives the
// subtree the cgroupfs path uses.
//
// Reading is kept apart from parsing: parse.go, limits.go and stats.go
// hold pure functions (table tests and fuzz targets). This package must
// stay lean, for the monitor imports it: the standard library and
// x/sys/unix only; never storage or container.
package cgroupv2
