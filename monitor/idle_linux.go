package monitor

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// shedAfter is how long after a start the monitor drops the pages that
// only its start-up used (shedStartup): by then the container's first
// output is being copied and the monitor waits, as it will for most of
// its life.
const shedAfter = 200 * time.Millisecond

// shedStartup drops this process's mappings of its own binary's pages:
// the code and read-only data its start-up ran through (reading the
// options and the configuration, cloning the init, the network), which an
// idle monitor never touches again. The kernel maps the binary's pages
// in windows of 64 KiB around every page touched, so that by the
// container's start nearly all of the 3 MiB binary is mapped, and counted
// in every monitor's RSS, while waiting for the container touches a few
// pages. The pages stay in the page cache, shared with every other
// monitor; what the monitor touches again (at the container's exit, when
// a client attaches) is mapped again from there. Only private read-only
// file mappings with no page of their own are dropped (mapping.sheddable):
// nothing is lost, whatever the binary's layout.
func shedStartup() error {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return fmt.Errorf("shed start-up pages: %w", err)
	}
	defer f.Close()
	var shed []mapping
	if err := parseSmaps(f, func(m mapping) {
		if m.sheddable() {
			shed = append(shed, m)
		}
	}); err != nil {
		return fmt.Errorf("shed start-up pages: %w", err)
	}
	// Dropped once all is read: smaps is read while the mappings hold.
	for _, m := range shed {
		// unix.Madvise wants a slice; the raw call takes the range as it is.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("shed start-up pages %#x-%#x: %w", m.start, m.end, errno)
		}
	}
	return nil
}
