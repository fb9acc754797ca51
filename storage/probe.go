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

// containers/storage's overlay driver probes the kernel once per run
// root (at boot): at its start (compat*, metacopy-check*,
// opaque-bug-check*), at the first mount of a volatile layer (run --rm)
// or status (info) whether overlay takes the "volatile" option
// (volatile-check*), and at the first container's create whether it
// mounts over an idmapped lower layer (compat*). Each makes a directory
// in GraphRoot/overlay, mounts on it, unmounts and removes it, then
// records its answer in RunRoot/overlay (volatile-true, ...). A command
// killed in between leaves the directory and, in the keeper's namespace,
// the mounts. Each probe runs while its command holds the graph lock
// (GraphRoot/storage.lock: containers/storage holds it to start its
// driver and for a mount, Store.Status for the status) and looks for its
// answer under it, so a probe found while that lock is held here has no
// live owner.
//
// Cleaning at every open that finds no answer is not enough: a command
// that opened (and cleaned) before another's probe was killed would then
// probe in a mount of its own, record the answer, and the dead probe would
// stay, since opens that find an answer clean nothing. So the open that
// finds the last answers missing (the volatile and idmapped probes') has
// the driver probe, in the same hold of the graph lock as the clean: once
// those are recorded no probe runs any more, and a probe killed before
// records none, so the next open cleans.

// lateProbes are the answers that the driver's later probes record, which
// the open that settles the probes records (settleProbes).
var lateProbes = []string{"volatile", "idmapped-lower-dir"}

// probeDirs are the patterns of the probes' directories in the driver's
// home, and probeMounts what each may have mounted in it.
var (
	probeDirs   = []string{"volatile-check*", "compat*", "metacopy-check*", "opaque-bug-check*"}
	probeMounts = []string{"merged", "lower-mapped"}
)

// settleProbes, at the open of a native overlay store whose later probes
// have no recorded answer, removes what killed probes left and has the
// driver probe, under the graph lock.
func (s *Store) settleProbes() error {
	runHome := filepath.Join(s.Options.RunRoot, DriverOverlay)
	if answered(runHome) {
		return nil
	}
	d, err := s.GraphDriver()
	if err != nil {
		return fmt.Errorf("the store's driver: %w", err)
	}
	lock, err := lockfile.GetLockFile(filepath.Join(s.Options.GraphRoot, "storage.lock"))
	if err != nil {
		return fmt.Errorf("open the store's graph lock: %w", err)
	}
	lock.Lock()
	defer lock.Unlock()
	if answered(runHome) {
		return nil // another command probed while this one waited
	}
	if err := removeStaleProbes(filepath.Join(s.Options.GraphRoot, DriverOverlay)); err != nil {
		return err
	}
	d.Status() // the volatile and idmapped probes, which record their answers
	// A probe whose mount failed says no and records nothing (the
	// idmapped one too outside a user namespace's root): recorded here,
	// as containers/storage concludes, no later open probes again.
	for _, feature := range lateProbes {
		if has(runHome, feature) {
			continue
		}
		f, err := os.OpenFile(filepath.Join(runHome, feature+"-false"), os.O_WRONLY|os.O_CREATE, 0o644)
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			return fmt.Errorf("record the overlay %s probe's answer: %w", feature, err)
		}
	}
	return nil
}

// cleanStaleProbes removes what killed probes left in a store that keeps
// no answer (a driver with a mount program does not probe; its store may
// hold probes of its native days), under the graph lock, which it takes
// and releases before containers/storage takes it to open the store.
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
	return removeStaleProbes(home)
}

// removeStaleProbes unmounts and removes the probes in the overlay
// driver's home; the caller holds the graph lock.
func removeStaleProbes(home string) error {
	for _, pattern := range probeDirs {
		dirs, err := filepath.Glob(filepath.Join(home, pattern))
		if err != nil {
			return fmt.Errorf("list stale overlay probes: %w", err)
		}
		for _, dir := range dirs {
			for _, m := range probeMounts {
				mp := filepath.Join(dir, m)
				if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil &&
					!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
					return fmt.Errorf("unmount stale overlay probe %s: %w", mp, err)
				}
			}
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove stale overlay probe: %w", err)
			}
		}
	}
	return nil
}

// answered tells whether the driver recorded the answers of its later
// probes in its run directory.
func answered(runHome string) bool {
	for _, feature := range lateProbes {
		if !has(runHome, feature) {
			return false
		}
	}
	return true
}

// has tells whether the driver recorded the answer of its probe of
// feature.
func has(runHome, feature string) bool {
	for _, answer := range []string{"-true", "-false"} {
		if _, err := os.Stat(filepath.Join(runHome, feature+answer)); err == nil {
			return true
		}
	}
	return false
}
