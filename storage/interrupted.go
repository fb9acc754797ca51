package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sandbox/internal/atomicfile"

	cstorage "go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// A transfer (pull, import, load, and commit and build, which make images
// too) that is killed half-way can leave what it had stored so far:
// layers that no image refers to yet, an image whose name was not given
// yet, a build's image mounts, a layer buffer. Each transfer therefore
// writes an intent in GraphRoot/sandbox-transfers/ before it begins, with
// the images and layers there were then, and removes it when it ends.
// While it runs it holds a shared lock on that directory's lock file; the
// lock (flock) goes with the process, however it ends. An intent left
// behind once nobody holds the lock is a transfer that was killed: what it
// added and left unnamed or unreferenced is removed (RecoverTransfers), by
// the next transfer before it begins and by system check --repair. What
// is whole stays: a build step's image is valid cache, and an image of a
// commit or build is removed only while it is pending (BuildMeta), so
// that an image without a name that another command finished meanwhile
// is not taken for the killed one's.

const transfersDir = "sandbox-transfers"

// transferIntent is what a transfer records before it begins.
type transferIntent struct {
	Op     string    `json:"op"`
	Pid    int       `json:"pid"`
	Began  time.Time `json:"began"`
	Images []string  `json:"images"`
	Layers []string  `json:"layers"`
}

// Transfer is a transfer under way; End ends it.
type Transfer struct {
	lock   *os.File
	intent string
}

// BeginTransfer recovers from killed transfers if none runs, then records
// this one. The caller calls End when the transfer is over, failed or not.
func (s *Store) BeginTransfer(op string) (*Transfer, error) {
	if _, err := s.RecoverTransfers(); err != nil {
		return nil, err
	}
	dir := filepath.Join(s.GraphRoot(), transfersDir)
	lock, err := openTransferLock(dir)
	if err != nil {
		return nil, err
	}
	if err := flock(lock, unix.LOCK_SH); err != nil {
		lock.Close()
		return nil, err
	}
	in := transferIntent{Op: op, Pid: os.Getpid(), Began: time.Now().UTC()}
	imgs, err := s.Images()
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("list images: %w", err)
	}
	for _, img := range imgs {
		in.Images = append(in.Images, img.ID)
	}
	layers, err := s.Layers()
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("list layers: %w", err)
	}
	for _, l := range layers {
		in.Layers = append(in.Layers, l.ID)
	}
	data, err := json.Marshal(in)
	if err != nil {
		lock.Close()
		return nil, err
	}
	path := filepath.Join(dir, "intent-"+strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(in.Began.UnixNano(), 10)+".json")
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		lock.Close()
		return nil, fmt.Errorf("record the transfer: %w", err)
	}
	return &Transfer{lock: lock, intent: path}, nil
}

// End ends a transfer: its intent goes, then its lock.
func (t *Transfer) End() error {
	err := os.Remove(t.intent)
	if cerr := t.lock.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("end the transfer: %w", err)
	}
	return nil
}

func openTransferLock(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("transfer records: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("transfer lock: %w", err)
	}
	return f, nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			if err != nil {
				return fmt.Errorf("lock %s: %w", f.Name(), err)
			}
			return nil
		}
	}
}

// Interrupted lists the intents of transfers that were killed, if no
// transfer runs (nil, and busy, while one does).
func (s *Store) Interrupted() (intents []string, busy bool, err error) {
	dir := filepath.Join(s.GraphRoot(), transfersDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("transfer records: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "intent-") {
			intents = append(intents, filepath.Join(dir, e.Name()))
		}
	}
	if len(intents) == 0 {
		return nil, false, nil
	}
	lock, err := openTransferLock(dir)
	if err != nil {
		return nil, false, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); errors.Is(err, unix.EWOULDBLOCK) {
		return nil, true, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	return intents, false, nil
}

// RecoverTransfers removes what killed transfers left, if no transfer
// runs: images they added that have no name and no container, then layers
// they added that nothing refers to. It returns the ids removed.
func (s *Store) RecoverTransfers() ([]string, error) {
	dir := filepath.Join(s.GraphRoot(), transfersDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	lock, err := openTransferLock(dir)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); errors.Is(err, unix.EWOULDBLOCK) {
		return nil, nil // a transfer runs: its intent may be live
	} else if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	// No transfer runs: every layer buffer is a killed one's.
	if err := s.removeStaleBuffers(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("transfer records: %w", err)
	}
	var removed []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "intent-") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		ids, err := s.recoverIntent(path)
		removed = append(removed, ids...)
		if err != nil {
			return removed, err
		}
		if err := os.Remove(path); err != nil {
			return removed, fmt.Errorf("remove %s: %w", path, err)
		}
	}
	return removed, nil
}

// recoverIntent removes what the killed transfer of one intent left.
func (s *Store) recoverIntent(path string) ([]string, error) {
	var in transferIntent
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var removed []string
	if err := json.Unmarshal(data, &in); err != nil {
		// Cut short by the kill while it was written: nothing to know
		// what the transfer added; unreferenced layers then wait for
		// system check's age limit.
		return nil, nil
	}
	before := map[string]bool{}
	for _, id := range append(in.Images, in.Layers...) {
		before[id] = true
	}
	if in.Op == "build" {
		// A COPY --from mounts an image while it copies.
		if err := s.unmountImages(); err != nil {
			return nil, err
		}
	}
	// What a commit or build writes is pending until named; pull, import
	// and load do not mark theirs.
	makesPending := in.Op == "commit" || in.Op == "build"
	cs, err := s.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	used := map[string]bool{}
	for _, c := range cs {
		used[c.ImageID] = true
		used[c.LayerID] = true
	}
	imgs, err := s.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	for _, img := range imgs {
		if m := ParseBuildMeta(img.Metadata); m.Pending && len(img.Names) > 0 {
			// Killed once it was named: it is whole.
			m.Pending = false
			if err := s.SetMetadata(img.ID, m.String()); err != nil {
				return removed, fmt.Errorf("image %.12s: %w", img.ID, err)
			}
			continue
		}
		if before[img.ID] || len(img.Names) > 0 || used[img.ID] {
			continue
		}
		if m := ParseBuildMeta(img.Metadata); m.Intermediate || (makesPending && !m.Pending) {
			continue // build cache, or finished by another command
		}
		if _, err := s.DeleteImage(img.ID, true); err != nil && !errors.Is(err, cstorage.ErrImageUnknown) {
			return removed, fmt.Errorf("remove the half-made image %.12s: %w", img.ID, err)
		}
		removed = append(removed, img.ID)
	}
	// Layers referenced by an image (its layer chain) or a container
	// stay; the rest that the transfer added go, children first.
	if imgs, err = s.Images(); err != nil {
		return removed, fmt.Errorf("list images: %w", err)
	}
	layers, err := s.Layers()
	if err != nil {
		return removed, fmt.Errorf("list layers: %w", err)
	}
	parent := map[string]string{}
	for _, l := range layers {
		parent[l.ID] = l.Parent
	}
	keep := map[string]bool{}
	mark := func(id string) {
		for ; id != "" && !keep[id]; id = parent[id] {
			keep[id] = true
		}
	}
	for _, img := range imgs {
		mark(img.TopLayer)
		for _, id := range img.MappedTopLayers {
			mark(id)
		}
	}
	for _, c := range cs {
		mark(c.LayerID)
	}
	for deleted := true; deleted; {
		deleted = false
		for _, l := range layers {
			if keep[l.ID] || before[l.ID] || isParent(parent, l.ID) {
				continue
			}
			if err := s.DeleteLayer(l.ID); err != nil && !errors.Is(err, cstorage.ErrLayerUnknown) {
				return removed, fmt.Errorf("remove the layer %.12s a killed transfer left: %w", l.ID, err)
			}
			removed = append(removed, l.ID)
			delete(parent, l.ID)
			keep[l.ID] = true // done with it
			deleted = true
		}
	}
	return removed, nil
}

// isParent reports whether a layer still has a child in parent.
func isParent(parent map[string]string, id string) bool {
	for _, p := range parent {
		if p == id {
			return true
		}
	}
	return false
}

// scratchDir holds transfers' scratch directories (ScratchDir).
const scratchDir = "sandbox-scratch"

// ScratchDir makes a directory for a transfer's own files (a build's
// context read from standard input), under the graph root. The caller
// holds a transfer record (BeginTransfer) until it has removed the
// directory: one left once no transfer runs is a killed command's, and
// recovery removes it.
func (s *Store) ScratchDir(prefix string) (string, error) {
	parent := filepath.Join(s.GraphRoot(), scratchDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	return dir, nil
}

// removeStaleBuffers removes the layer buffers (FreezeLayer) and scratch
// directories that killed commands left. The caller holds the transfer
// lock exclusively.
func (s *Store) removeStaleBuffers() error {
	stale, err := filepath.Glob(filepath.Join(s.RunRoot(), layerBufferPattern))
	if err != nil {
		return fmt.Errorf("layer buffers: %w", err)
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the layer buffer a killed command left: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(s.GraphRoot(), scratchDir)); err != nil {
		return fmt.Errorf("remove the scratch directories killed commands left: %w", err)
	}
	return nil
}

// unmountImages unmounts the images a killed build left mounted: only a
// build mounts images, and the caller holds the transfer lock
// exclusively, so no build runs.
func (s *Store) unmountImages() error {
	imgs, err := s.Images()
	if err != nil {
		return fmt.Errorf("list images: %w", err)
	}
	for _, img := range imgs {
		if img.TopLayer == "" {
			continue
		}
		l, err := s.Layer(img.TopLayer)
		if err != nil {
			return fmt.Errorf("layer %.12s: %w", img.TopLayer, err)
		}
		if l.MountCount == 0 {
			continue
		}
		if _, err := s.UnmountImage(img.ID, true); err != nil {
			return fmt.Errorf("unmount image %.12s a killed build left mounted: %w", img.ID, err)
		}
	}
	return nil
}
