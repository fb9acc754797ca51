package imagetools

import (
	"context"
	"errors"
	"fmt"

	"sandbox/container"
	"sandbox/events"
	"sandbox/storage"

	cstorage "go.podman.io/storage"
)

// PruneImages removes the dangling images (those without a name) that no
// container uses; with all, every image that no container uses. It
// returns the ids removed. A build step's image (storage.BuildMeta's
// Intermediate) is cache: without all it stays while an image that stays
// is built on its layer, and goes with the last such image, as docker's
// intermediate images do.
func PruneImages(ctx context.Context, rt *container.Runtime, all bool) ([]string, error) {
	ctrs, err := rt.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	used := map[string]bool{}
	for _, c := range ctrs {
		used[c.ImageID] = true
	}
	imgs, err := rt.Store.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	// The layers that the images that stay are made of.
	kept := map[string]bool{}
	if !all {
		for _, img := range imgs {
			if !used[img.ID] && len(img.Names) == 0 {
				continue
			}
			for id := img.TopLayer; id != "" && !kept[id]; {
				kept[id] = true
				l, err := rt.Store.Layer(id)
				if err != nil {
					return nil, fmt.Errorf("image %.12s: layer %.12s: %w", img.ID, id, err)
				}
				id = l.Parent
			}
		}
	}
	var removed []string
	var errs []error
	for _, img := range imgs {
		if used[img.ID] || (!all && len(img.Names) > 0) {
			continue
		}
		if !all && kept[img.TopLayer] && storage.ParseBuildMeta(img.Metadata).Intermediate {
			continue
		}
		if _, err := rt.Store.DeleteImage(img.ID, true); err != nil {
			// A container made meanwhile keeps its image.
			if !errors.Is(err, cstorage.ErrImageUsedByContainer) && !errors.Is(err, cstorage.ErrImageUnknown) {
				errs = append(errs, fmt.Errorf("remove image %.12s: %w", img.ID, err))
			}
			continue
		}
		for _, n := range img.Names {
			rt.RecordImage(events.Untag, img.ID, n)
		}
		rt.RecordImage(events.Remove, img.ID, img.ID)
		removed = append(removed, img.ID)
	}
	return removed, errors.Join(errs...)
}
