package spec

// The masked and read-only paths of a container that is not privileged,
// docker's; --security-opt mask= and unmask= change them.
var (
	DefaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	DefaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// StandardMounts are the file systems every container has, parents first:
// /proc, /dev, /sys and what /dev holds. gid5 says the tty group (gid 5)
// exists in the container's user namespace, for /dev/pts's gid=5.
func StandardMounts(gid5 bool) []Mount {
	pts := "newinstance,ptmxmode=0666,mode=0620"
	if gid5 {
		pts += ",gid=5"
	}
	return []Mount{
		{Type: "proc", Destination: "/proc", Flags: []string{"nosuid", "noexec", "nodev"}},
		{Type: "tmpfs", Destination: "/dev", Data: "mode=755,size=65536k", Flags: []string{"nosuid", "strictatime"}},
		{Type: "devpts", Destination: "/dev/pts", Data: pts, Flags: []string{"nosuid", "noexec"}},
		{Type: "tmpfs", Destination: "/dev/shm", Data: "mode=1777,size=65536k", Flags: []string{"nosuid", "noexec", "nodev"}},
		{Type: "mqueue", Destination: "/dev/mqueue", Flags: []string{"nosuid", "noexec", "nodev"}},
		{Type: "sysfs", Destination: "/sys", ReadOnly: true, Flags: []string{"nosuid", "noexec", "nodev"}},
	}
}
