package removal

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sandbox/events"
	"sandbox/internal/faultinject"
	"sandbox/internal/proc"
	"sandbox/monitor"
	"sandbox/network/usernet"
	"sandbox/spec"
	"sandbox/storage"

	cstorage "go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// Remover removes the containers of one open store.
type Remover struct {
	// Store is the open store the containers are in.
	Store *storage.Store
	// Networks are the user-defined networks, whose addresses a
	// container releases as it goes.
	Networks usernet.Store
	// RunDirs is the directory of the containers' run directories
	// (spec.RunDirsIn).
	RunDirs string
	// Events is the journal a cleanup records in; the zero Journal
	// records nothing.
	Events events.Journal
}

// RunDir is container id's run directory.
func (m Remover) RunDir(id string) string { return filepath.Join(m.RunDirs, id) }

// Delete unmounts and deletes a container's layer and directories, its run
// directory last (it holds the claim of whoever is deleting).
func (m Remover) Delete(id string, force bool) error {
	// On a full disk the store's reserve makes room for the records.
	err := m.Store.FreeingSpace(func() error {
		if err := m.Unmount(id, force); err != nil {
			return fmt.Errorf("unmount: %w", err)
		}
		faultinject.Step(faultinject.RmUnmounted)
		// Gone already: removed by another command meanwhile (the id may
		// then name nothing, or briefly only the layer being removed).
		err := m.Store.DeleteContainer(id)
		if errors.Is(err, cstorage.ErrContainerUnknown) || errors.Is(err, cstorage.ErrNotAContainer) {
			// No record: a create killed after making the layer (named
			// by the container's id) may have left that.
			return m.DeleteOrphanLayer(id)
		}
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	faultinject.Step(faultinject.RmDeleted)
	if err := KillRecordedInit(m.RunDir(id)); err != nil {
		return err
	}
	if err := m.Networks.Release(id); err != nil {
		return err
	}
	if err := RemoveRunDir(m.RunDir(id)); err != nil {
		return fmt.Errorf("remove run directory: %w", err)
	}
	return nil
}

// Unmount unmounts a container's root filesystem. A mount point that
// still holds something after the unmount ("replacing mount point ...:
// directory not empty", left by an earlier fault: mounts stacked on it,
// or what an init put in the bare directory when it ran on an unmounted
// root) has every mount on it taken off and the bare directory emptied
// (it is only a mount point: the layer's files are elsewhere), and the
// unmount is tried again, so that such a container can still be used or
// removed.
func (m Remover) Unmount(id string, force bool) error {
	_, err := m.Store.Unmount(id, force)
	if err == nil || errors.Is(err, cstorage.ErrContainerUnknown) || errors.Is(err, cstorage.ErrLayerUnknown) {
		return nil
	}
	if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
		return err
	}
	c, cerr := m.Store.Container(id)
	if cerr != nil {
		return fmt.Errorf("%w (and finding its layer: %v)", err, cerr)
	}
	merged := filepath.Join(m.Store.GraphRoot(), m.Store.GraphDriverName(), c.LayerID, "merged")
	if cerr := clearMountPoint(merged); cerr != nil {
		return fmt.Errorf("%w (and clearing it: %v)", err, cerr)
	}
	if _, err := m.Store.Unmount(id, true); err != nil && !errors.Is(err, cstorage.ErrLayerUnknown) {
		return err
	}
	return nil
}

// clearMountPoint takes every mount off dir and empties the bare
// directory left.
func clearMountPoint(dir string) error {
	for i := 0; ; i++ {
		err := unix.Unmount(dir, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) {
			break // not a mount point (any more)
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
		if i == 64 {
			return fmt.Errorf("unmount %s: still mounted after 64 unmounts", dir)
		}
	}
	if IsOverlayMount(dir) {
		return fmt.Errorf("%s is still mounted", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// IsOverlayMount reports whether path is the root of an overlay or FUSE
// mount (a container's root filesystem, mounted).
func IsOverlayMount(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.OVERLAYFS_SUPER_MAGIC || st.Type == unix.FUSE_SUPER_MAGIC
}

// LayerID is the id of container id's layer: derived from it, and not
// the same (containers/storage looks up some ids among layers first, so
// that a layer of the container's id would take its renames).
func LayerID(id string) string {
	sum := sha256.Sum256([]byte("sandbox container layer " + id))
	return hex.EncodeToString(sum[:])
}

// DeleteOrphanLayer deletes the layer of container id (LayerID) that a
// create killed before it recorded the container left, if there is one
// and no container was recorded meanwhile.
func (m Remover) DeleteOrphanLayer(containerID string) error {
	id := LayerID(containerID)
	if _, err := m.Store.Layer(id); err != nil {
		return nil // none (or not ours to judge)
	}
	if _, err := m.Store.Container(containerID); err == nil {
		return nil // recorded meanwhile
	}
	if _, err := m.Store.Unmount(id, true); err != nil && !errors.Is(err, cstorage.ErrLayerUnknown) {
		return fmt.Errorf("unmount the layer a killed create left: %w", err)
	}
	// Unknown, or not a layer: another command removed it meanwhile.
	if err := m.Store.DeleteLayer(id); err != nil && !errors.Is(err, cstorage.ErrLayerUnknown) && !errors.Is(err, cstorage.ErrNotALayer) {
		return fmt.Errorf("delete the layer a killed create left: %w", err)
	}
	return nil
}

// RemoveRunDir removes a run directory, again while another command
// racing for the same container (a start or rm taking its lock, a
// monitor writing its log) adds a file to it meanwhile; the run root's
// link of the container's name goes first (spec.UnlinkContainer).
func RemoveRunDir(dir string) error {
	if err := spec.UnlinkContainer(dir); err != nil {
		return err
	}
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return err
}

// KillRecordedInit kills the init that a run directory's monitor recorded
// (monitor.InitPidFile), if it still runs, and waits until it has ended:
// a monitor killed before it wrote the init into the state leaves an init
// that nothing else names. The init is pid 1 of its pid namespace: its
// end ends every process in it.
func KillRecordedInit(runDir string) error {
	data, err := os.ReadFile(filepath.Join(runDir, monitor.InitPidFile))
	if err != nil {
		return nil // none recorded: no init was cloned
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil || !proc.Alive(pid, start) {
		return nil
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill the container's init %d: %w", pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); proc.Alive(pid, start); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the container's init %d still runs 10s after SIGKILL", pid)
		}
	}
	return nil
}
