// Package cgroupv2 owns delegated cgroup v2: which cgroup hierarchy the
// host has (v1, hybrid or v2), the cgroup the calling process is in, the
// subtree of it that the user may write, and which controllers (cpu,
// cpuset, io, memory, pids) are delegated there. Later parts create a leaf
// per container, apply limits, freeze and kill through that subtree.
//
// This first part only detects: it reads /proc/self/mountinfo,
// /proc/self/cgroup and the cgroup files, and writes nothing. Reading is
// kept apart from parsing (parse.go holds the pure parsers). Whether a
// cgroup is writable is asked with access(2), never by comparing owners:
// a sandbox process usually runs as uid 0 of the keeper's user namespace,
// where the user's cgroup files show as owned by 0 and root's as nobody,
// and the kernel's own answer is right on both sides of the namespace.
// This package must not import storage or container.
package cgroupv2
