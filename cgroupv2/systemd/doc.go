// Package systemd finds a delegated cgroup through the user's systemd: it
// asks the user manager, over the user's D-Bus, for a transient scope with
// Delegate=yes holding a container's monitor, so that the monitor's own
// cgroup becomes a subtree the user may write (package cgroupv2 then makes
// the container's cgroup in it). It also holds the --cgroup-manager choice
// and the pure parsing behind it: the flag's value, the scope's unit name
// and the bus address.
//
// Only the command line's side imports this package. The monitor and the
// init must not: D-Bus is not on their path, and sandbox-monitor stays
// free of it (go list -deps ./cmd/sandbox-monitor names no dbus package).
//
// The command runs as uid 0 of the per-user keeper's user namespace, while
// the bus sees the peer's uid outside every namespace: the EXTERNAL
// authentication therefore sends the host uid (prerun.HostIDs), which the
// caller passes in, never os.Getuid.
package systemd
