package container

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sandbox/spec"
	"sandbox/volume"
)

// Volumes is the store of volumes, GRAPHROOT/volumes.
func (r *Runtime) Volumes() (*volume.Store, error) {
	if err := r.openStore(); err != nil {
		return nil, err
	}
	return volume.OpenIn(r.Store.Options.GraphRoot)
}

// VolumeUsers maps each volume that containers use (running or not) to
// their ids.
func (r *Runtime) VolumeUsers(ctx context.Context) (map[string][]string, error) {
	all, err := r.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	users := map[string][]string{}
	for i := range all {
		c, err := r.load(&all[i])
		if err != nil || c.Config == nil || r.awaitRemoval(ctx, c.ID) {
			continue
		}
		seen := map[string]bool{}
		for _, m := range c.Config.Spec.Mounts {
			if m.Volume != "" && !seen[m.Volume] {
				seen[m.Volume] = true
				users[m.Volume] = append(users[m.Volume], c.ID)
			}
		}
	}
	return users, nil
}

// RemoveVolume removes a volume. One that containers use is refused
// (volume.ErrInUse) unless force, which removes those containers first,
// as docker and podman do.
func (r *Runtime) RemoveVolume(ctx context.Context, name string, force bool) error {
	vs, err := r.Volumes()
	if err != nil {
		return err
	}
	if _, err := vs.Get(name); err != nil {
		return err
	}
	l, err := vs.Lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	users, err := r.VolumeUsers(ctx)
	if err != nil {
		return err
	}
	if ids := users[name]; len(ids) > 0 {
		if !force {
			return fmt.Errorf("volume %s is being used by the following container(s): %s: %w", name, strings.Join(ids, ", "), volume.ErrInUse)
		}
		for _, id := range ids {
			if err := r.Remove(ctx, id, RemoveOptions{Force: true}); err != nil && !errors.Is(err, ErrNoSuchContainer) {
				return fmt.Errorf("remove volume %s: %w", name, err)
			}
		}
	}
	return vs.RemoveLocked(name)
}

// PruneVolumes removes the volumes that no container uses and that keep
// (nil: none) does not keep, and returns their names.
func (r *Runtime) PruneVolumes(ctx context.Context, keep func(*volume.Volume) bool) ([]string, error) {
	vs, err := r.Volumes()
	if err != nil {
		return nil, err
	}
	var users map[string][]string
	return vs.Prune(func(v *volume.Volume) (bool, error) {
		if users == nil {
			// Under the store's lock: no volume is taken meanwhile.
			var err error
			if users, err = r.VolumeUsers(ctx); err != nil {
				return true, err
			}
		}
		return len(users[v.Name]) > 0 || (keep != nil && keep(v)), nil
	})
}

// removeAnonymousVolumes removes the anonymous volumes of a container
// that is gone (rm -v, run --rm): removal.Remover.RemoveAnonymousVolumes.
func (r *Runtime) removeAnonymousVolumes(cfg *spec.Config) error {
	if err := r.openStore(); err != nil {
		return err
	}
	return r.remover().RemoveAnonymousVolumes(cfg)
}

// removeVolumes removes the volumes names (made by a create that failed).
func (r *Runtime) removeVolumes(names []string) error {
	if len(names) == 0 {
		return nil
	}
	vs, err := r.Volumes()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := vs.Remove(n); err != nil && !errors.Is(err, volume.ErrNoSuchVolume) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
