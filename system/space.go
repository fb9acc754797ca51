package system

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/spec"
	"sandbox/storage"
	"sandbox/userns"

	cstorage "go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// Resource is a kind of thing besides containers and images that system
// df, prune and reset cover (named volumes, networks): the package that
// owns it gives one, and the command passes it in DFOptions, PruneOptions
// and ResetOptions. A nil function means the resource has no such part.
type Resource struct {
	// Type is its name in system df's table ("Local Volumes") and in
	// prune's report ("Volumes").
	Type string
	// Volumes: prune covers it only with --volumes.
	Volumes bool
	// Usage is its row of system df, and with verbose its items.
	Usage func(ctx context.Context) (Usage, error)
	// Prune removes what nothing uses (all: also what is merely unused
	// now) and returns the names removed and the bytes freed.
	Prune func(ctx context.Context, all bool) (removed []string, reclaimed int64, err error)
	// Reset removes every one of them, after the containers are gone.
	Reset func(ctx context.Context) error
}

// Usage is one row of system df.
type Usage struct {
	Type        string `json:"Type"`
	Total       int    `json:"Total"`
	Active      int    `json:"Active"`
	Size        int64  `json:"RawSize"`
	Reclaimable int64  `json:"RawReclaimable"`
	// Items are the rows of system df -v.
	Items []UsageItem `json:"-"`
}

// UsageItem is one image, container or volume in system df -v.
type UsageItem struct {
	ID         string    `json:"ID"`
	Name       string    `json:"Name"`
	Created    time.Time `json:"Created"`
	Size       int64     `json:"Size"`
	SharedSize int64     `json:"SharedSize,omitempty"`
	Containers int       `json:"Containers"`
	Status     string    `json:"Status,omitempty"`
}

// DFOptions are the inputs of system df.
type DFOptions struct {
	Runtime *container.Runtime
	// Extra are the resources of other packages (volumes, ...).
	Extra []Resource
}

// DF measures the store: images (each layer counted once), containers'
// writable layers, and the Extra resources. An image is active when a
// container uses it; reclaimable is what removing the inactive ones frees.
func DF(ctx context.Context, o DFOptions) ([]Usage, error) {
	rt := o.Runtime
	list, err := rt.List(true)
	if err != nil {
		return nil, err
	}
	users := map[string]int{}
	ctrs := Usage{Type: "Containers"}
	for _, s := range list {
		users[s.ImageID]++
		rw := int64(0)
		if c, err := rt.Lookup(s.ID); err == nil {
			if l, err := rt.Store.Layer(c.LayerID); err == nil {
				if n, err := rt.Store.DiffSize(l.Parent, l.ID); err == nil {
					rw = n
				}
			}
		}
		ctrs.Total++
		ctrs.Size += rw
		running := s.State == spec.StatusRunning || s.State == spec.StatusPaused
		if running {
			ctrs.Active++
		} else {
			ctrs.Reclaimable += rw
		}
		ctrs.Items = append(ctrs.Items, UsageItem{ID: s.ID, Name: s.Name, Created: s.Created, Size: rw, Status: s.Status})
	}
	imgs, err := rt.Store.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	images := Usage{Type: "Images"}
	// Layers shared by images count once in the total; an inactive
	// image frees only what no active image also holds.
	layerSize := map[string]int64{}
	activeLayers := map[string]bool{}
	chain := func(top string) []string {
		var ids []string
		for id := top; id != ""; {
			l, err := rt.Store.Layer(id)
			if err != nil {
				break
			}
			if l.UncompressedSize > 0 {
				layerSize[l.ID] = l.UncompressedSize
			}
			ids = append(ids, l.ID)
			id = l.Parent
		}
		return ids
	}
	chains := map[string][]string{}
	for _, img := range imgs {
		chains[img.ID] = chain(img.TopLayer)
		if users[img.ID] > 0 {
			for _, id := range chains[img.ID] {
				activeLayers[id] = true
			}
		}
	}
	// The images of build's steps are its layer cache (docker's "Build
	// Cache" row): their layers that no other image holds count there.
	cache := Usage{Type: "Build Cache"}
	inImages := map[string]bool{}
	for _, img := range imgs {
		if !buildStep(img) {
			for _, id := range chains[img.ID] {
				inImages[id] = true
			}
		}
	}
	counted := map[string]bool{}
	for _, img := range imgs {
		if buildStep(img) {
			cache.Total++
			for _, id := range chains[img.ID] {
				if !inImages[id] && !counted[id] {
					counted[id] = true
					cache.Size += layerSize[id]
					cache.Reclaimable += layerSize[id]
				}
			}
			continue
		}
		images.Total++
		var size int64
		for _, id := range chains[img.ID] {
			size += layerSize[id]
			if !counted[id] {
				counted[id] = true
				images.Size += layerSize[id]
				if !activeLayers[id] {
					images.Reclaimable += layerSize[id]
				}
			}
		}
		if users[img.ID] > 0 {
			images.Active++
		}
		name := "<none>"
		if len(img.Names) > 0 {
			name = img.Names[0]
		}
		images.Items = append(images.Items, UsageItem{ID: img.ID, Name: name, Created: img.Created, Size: size, Containers: users[img.ID]})
	}
	sort.Slice(images.Items, func(i, j int) bool { return images.Items[i].Created.After(images.Items[j].Created) })
	out := []Usage{images, ctrs}
	for _, r := range o.Extra {
		if r.Usage == nil {
			continue
		}
		u, err := r.Usage(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Type, err)
		}
		u.Type = r.Type
		out = append(out, u)
	}
	return append(out, cache), nil
}

// buildStep reports whether img is the image of a build step (build's
// layer cache), which images does not list.
func buildStep(img cstorage.Image) bool {
	return len(img.Names) == 0 && storage.ParseBuildMeta(img.Metadata).Intermediate
}

// PruneOptions are the flags of system prune.
type PruneOptions struct {
	Runtime *container.Runtime
	// All removes every image no container uses, not only dangling ones.
	All bool
	// Volumes prunes the Extra resources marked Volumes too.
	Volumes bool
	Extra   []Resource
}

// PruneReport is what system prune removed, by type.
type PruneReport struct {
	Containers []string
	Images     []string
	// Extra maps a resource's Type to the names removed.
	Extra     map[string][]string
	Reclaimed int64
}

// Prune removes every container that does not run, then the images no
// container uses (dangling ones only, unless All: images without a name,
// or with All every image), then the Extra resources (those marked
// Volumes only with Volumes). What cannot be removed is in the error; the
// rest is still removed.
func Prune(ctx context.Context, o PruneOptions) (PruneReport, error) {
	rt := o.Runtime
	rep := PruneReport{Extra: map[string][]string{}}
	var errs []error
	cp, err := rt.Prune(ctx)
	rep.Containers, rep.Reclaimed = cp.Deleted, cp.SpaceReclaimed
	if err != nil {
		errs = append(errs, err)
	}
	// Removing an image can leave its parent image dangling: go on until
	// a round removes nothing.
	for {
		removed, freed, err := pruneImages(ctx, rt, o.All)
		rep.Images = append(rep.Images, removed...)
		rep.Reclaimed += freed
		if err != nil {
			errs = append(errs, err)
			break
		}
		if len(removed) == 0 {
			break
		}
	}
	for _, r := range o.Extra {
		if r.Prune == nil || r.Volumes && !o.Volumes {
			continue
		}
		removed, freed, err := r.Prune(ctx, o.All)
		rep.Extra[r.Type] = removed
		rep.Reclaimed += freed
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Type, err))
		}
	}
	return rep, errors.Join(errs...)
}

// pruneImages removes one round of images that no container uses.
func pruneImages(ctx context.Context, rt *container.Runtime, all bool) ([]string, int64, error) {
	imgs, err := rt.Store.Images()
	if err != nil {
		return nil, 0, fmt.Errorf("list images: %w", err)
	}
	cs, err := rt.Store.Containers()
	if err != nil {
		return nil, 0, fmt.Errorf("list containers: %w", err)
	}
	used := map[string]bool{}
	for _, c := range cs {
		used[c.ImageID] = true
	}
	var removed []string
	var freed int64
	var errs []error
	for _, img := range imgs {
		if used[img.ID] || !all && len(img.Names) > 0 {
			continue
		}
		size := rt.Store.LayersSize(img.TopLayer)
		if _, err := rt.RemoveImage(ctx, img.ID, false); err != nil {
			if !errors.Is(err, container.ErrImageInUse) && !errors.Is(err, cstorage.ErrImageUnknown) {
				errs = append(errs, fmt.Errorf("remove image %.12s: %w", img.ID, err))
			}
			continue
		}
		removed = append(removed, img.ID)
		if size > 0 {
			freed += size
		}
	}
	return removed, freed, errors.Join(errs...)
}

// ResetOptions are the inputs of system reset.
type ResetOptions struct {
	Runtime *container.Runtime
	// Extra resources are reset after the containers, before the store.
	Extra []Resource
}

// ResetReport says what reset left.
type ResetReport struct {
	// KeeperKept: the keeper still serves other processes (the
	// containers of another store, --root), so it was left running.
	KeeperKept int
}

// Reset removes everything of this user's sandbox: every container
// (killed first), every image, the Extra resources, the store's
// directories (graph root and run root) and the keeper, whose namespaces
// end with it (the next command starts a fresh one), unless processes of
// another store still live in them.
func Reset(ctx context.Context, o ResetOptions) (ResetReport, error) {
	var rep ResetReport
	rt := o.Runtime
	cs, err := rt.Store.Containers()
	if err != nil {
		return rep, fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range cs {
		if err := rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !errors.Is(err, container.ErrNoSuchContainer) {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", c.ID, err))
		}
	}
	for _, r := range o.Extra {
		if r.Reset != nil {
			if err := r.Reset(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.Type, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rep, err // the store stays for a second try
	}
	graphRoot, runRoot := rt.Store.GraphRoot(), rt.Store.RunRoot()
	// Images go with the directories; containers/storage first takes
	// down its own mounts (the driver's home bound onto itself).
	if _, err := rt.Store.Shutdown(true); err != nil {
		return rep, fmt.Errorf("shut the store down: %w", err)
	}
	for _, dir := range []string{graphRoot, runRoot} {
		if err := unmountUnder(dir); err != nil {
			return rep, err
		}
		if err := os.RemoveAll(dir); err != nil {
			return rep, fmt.Errorf("remove %s: %w", dir, err)
		}
	}
	rep.KeeperKept, err = stopKeeper()
	return rep, err
}

// unmountUnder takes off every mount at or under dir, deepest first.
func unmountUnder(dir string) error {
	points, err := mountPoints("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, mp := range points {
		if mp != dir && !strings.HasPrefix(mp, dir+"/") {
			continue
		}
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", mp, err)
		}
	}
	return nil
}

// stopKeeper ends the keeper recorded in the runtime directory and
// removes its record, unless other processes (of another store) are in
// its mount namespace: it then returns how many, and leaves it. This
// process stays in the keeper's namespaces until it exits.
func stopKeeper() (int, error) {
	pidFile := filepath.Join(userns.RuntimeDir(), "keeper.pid")
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	pid, start, err := userns.ParsePidFile(data)
	if err != nil {
		return 0, err
	}
	if others, err := keeperUsers(pid); err != nil || others > 0 {
		return others, err
	}
	if err := os.Remove(pidFile); err != nil {
		return 0, fmt.Errorf("remove %s: %w", pidFile, err)
	}
	if !aliveProcess(pid, start) {
		return 0, nil
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return 0, fmt.Errorf("stop the keeper (pid %s): %w", strconv.Itoa(pid), err)
	}
	return 0, nil
}

// keeperUsers counts what else uses the keeper: the processes besides
// this one and the keeper in this process's mount namespace (the
// keeper's), and the mounts of other stores in it (a created container's
// root, a store's driver home bound onto itself).
func keeperUsers(keeper int) (int, error) {
	n, err := storeMounts("/proc/self/mountinfo")
	if err != nil {
		return 0, err
	}
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || pid == keeper {
			continue
		}
		// Another user's process, or one that ended: not readable.
		if ns, err := os.Readlink("/proc/" + e.Name() + "/ns/mnt"); err == nil && ns == self {
			n++
		}
	}
	return n, nil
}

// storeMounts counts the mounts of a mountinfo file that belong to a
// store: overlay and fuse-overlayfs mounts, and containers/storage's
// binds of its driver's home (DIR/overlay) onto itself.
func storeMounts(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		mp, ok := ParseMountPoint(line)
		if !ok {
			continue
		}
		_, after, _ := strings.Cut(line, " - ")
		fstype, _, _ := strings.Cut(after, " ")
		if fstype == "overlay" || fstype == "fuse.fuse-overlayfs" || strings.HasSuffix(mp, "/overlay") {
			n++
		}
	}
	return n, nil
}
