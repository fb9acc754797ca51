package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.podman.io/storage/pkg/lockfile"
	"golang.org/x/sys/unix"
)

// The first mount of a volatile layer (run --rm) or driver status (info)
// since the run root was emptied (at boot) makes containers/storage probe
// whether overlay takes the "volatile" option: it makes
// GraphRoot/overlay/volatile-checkN, mounts an overlay on its merged/,
// unmounts it and removes the directory, then records the answer in
// RunRoot/overlay/volatile-{true,false}. A command killed in between
// leaves the directory and, in the keeper's namespace, the mount. The
// probe runs while its command holds the graph lock (GraphRoot/storage.lock:
// containers/storage holds it for a mount, Store.Status for the status),
// so a probe found while that lock is held here has no live owner.

// cleanStaleProbes removes what killed volatile probes left, as long as no
// answer is recorded (a kill leaves none). It takes and releases the graph
// lock before containers/storage takes it to open the store.
func cleanStaleProbes(graphRoot, runRoot string) error {
	if answered(filepath.Join(runRoot, DriverOverlay)) {
		return nil
	}
	home := filepath.Join(graphRoot, DriverOverlay)
	if _, err := os.Stat(home); errors.Is(err, fs.ErrNotExist) {
		return nil // a new store: nothing probed yet
	}
	lock, err := lockfile.GetLockFile(filepath.Join(graphRoot, "storage.lock"))
	if err != nil {
		return fmt.Errorf("open the store's graph lock: %w", err)
	}
	lock.Lock()
	defer lock.Unlock()
	if answered(filepath.Join(runRoot, DriverOverlay)) {
		return nil // another command probed while this one waited
	}
	probes, err := filepath.Glob(filepath.Join(home, "volatile-check*"))
	if err != nil {
		return fmt.Errorf("list stale overlay probes: %w", err)
	}
	for _, dir := range probes {
		merged := filepath.Join(dir, "merged")
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil &&
			!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount stale overlay probe %s: %w", merged, err)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove stale overlay probe: %w", err)
		}
	}
	return nil
}

// answered tells whether containers/storage recorded the volatile probe's
// answer in its driver run directory.
func answered(runHome string) bool {
	for _, name := range []string{"volatile-true", "volatile-false"} {
		if _, err := os.Stat(filepath.Join(runHome, name)); err == nil {
			return true
		}
	}
	return false
}
