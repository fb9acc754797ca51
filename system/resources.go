package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"sandbox/container"
	"sandbox/network/usernet"
)

// Resources are the named volumes and the user-defined networks of rt's
// store, for system df, prune (volumes only with --volumes; networks
// always, as podman does) and reset.
func Resources(rt *container.Runtime) []Resource {
	return []Resource{volumesResource(rt), networksResource(rt)}
}

func volumesResource(rt *container.Runtime) Resource {
	return Resource{
		Type:    "Local Volumes",
		Volumes: true,
		Usage: func(ctx context.Context) (Usage, error) {
			u := Usage{Type: "Local Volumes"}
			vs, err := rt.Volumes()
			if err != nil {
				return u, err
			}
			list, err := vs.List()
			if err != nil {
				return u, err
			}
			users, err := rt.VolumeUsers(ctx)
			if err != nil {
				return u, err
			}
			for _, v := range list {
				size, err := treeSize(v.Mountpoint)
				if err != nil {
					return u, fmt.Errorf("volume %s: %w", v.Name, err)
				}
				u.Total++
				u.Size += size
				if n := len(users[v.Name]); n > 0 {
					u.Active++
				} else {
					u.Reclaimable += size
				}
				u.Items = append(u.Items, UsageItem{ID: v.Name, Name: v.Name, Created: v.CreatedAt, Size: size, Containers: len(users[v.Name])})
			}
			return u, nil
		},
		Prune: func(ctx context.Context, all bool) ([]string, int64, error) {
			vs, err := rt.Volumes()
			if err != nil {
				return nil, 0, err
			}
			list, err := vs.List()
			if err != nil {
				return nil, 0, err
			}
			sizes := map[string]int64{}
			for _, v := range list {
				// A size that cannot be read counts as nothing freed.
				if size, err := treeSize(v.Mountpoint); err == nil {
					sizes[v.Name] = size
				}
			}
			gone, err := rt.PruneVolumes(ctx, nil)
			var freed int64
			for _, n := range gone {
				freed += sizes[n]
			}
			return gone, freed, err
		},
		Reset: func(ctx context.Context) error {
			vs, err := rt.Volumes()
			if err != nil {
				return err
			}
			list, err := vs.List()
			if err != nil {
				return err
			}
			var errs []error
			for _, v := range list {
				if err := rt.RemoveVolume(ctx, v.Name, true); err != nil {
					errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				}
			}
			return errors.Join(errs...)
		},
	}
}

func networksResource(rt *container.Runtime) Resource {
	return Resource{
		Type: "Networks",
		// No row in system df: networks take no space (docker and podman
		// show none either).
		Prune: func(ctx context.Context, all bool) ([]string, int64, error) {
			if rt.Networks.Dir == "" {
				return nil, 0, nil
			}
			gone, err := rt.Networks.Prune(nil)
			names := make([]string, len(gone))
			for i, r := range gone {
				names[i] = r.Name
			}
			return names, 0, err
		},
		Reset: func(ctx context.Context) error {
			if rt.Networks.Dir == "" {
				return nil
			}
			recs, err := rt.Networks.List()
			if err != nil {
				return err
			}
			var errs []error
			for _, r := range recs {
				// The containers are gone by now: a member left is a
				// record only.
				if _, err := rt.Networks.Remove(r.Name, func(string) error { return nil }); err != nil && !errors.Is(err, usernet.ErrNotFound) {
					errs = append(errs, fmt.Errorf("remove network %s: %w", r.Name, err))
				}
			}
			return errors.Join(errs...)
		},
	}
}

// treeSize is the bytes of the regular files under dir.
func treeSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			size += info.Size()
		}
		return nil
	})
	return size, err
}
