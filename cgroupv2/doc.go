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
// no-internal-processes rule). Its limits are the model's spec.Resources,
// as the command parsed the flags: limits.go turns them into cgroup files,
// which the monitor writes before the container's init is cloned into the
// cgroup.
//
// The delegated subtree is found one of two ways (--cgroup-manager):
//
//   - cgroupfs: a writable subtree of the caller's own cgroup, as
//     systemd's Delegate= or root hands one over; Detect takes the highest
//     writable ancestor as the delegate root.
//   - systemd: the command has the user's systemd put the monitor in a
//     transient scope with Delegate=yes (package cgroupv2/systemd, which
//     talks D-Bus and which only the command's side imports), then the
//     monitor's DetectScope takes its own cgroup, the scope, as the
//     delegate root: the slices above it are writable too, but they are
//     the user manager's. The leaf code is the same either way.
//
// Reading is kept apart from parsing: parse.go, limits.go and stats.go
// hold pure functions (table tests and fuzz targets). This package must
// stay lean, for the monitor imports it: the standard library, x/sys/unix
// and the model (sandbox/spec) only; never storage or container.
package cgroupv2
