package container

import (
	"context"
	"errors"
	"fmt"

	"sandbox/events"
	"sandbox/storage"

	cstorage "go.podman.io/storage"
)

// ErrImageInUse is an image that containers use, which rmi without force
// leaves.
var ErrImageInUse = errors.New("image is in use by a container")

// RemoveImageReport is what rmi did: names removed and images deleted.
type RemoveImageReport struct {
	Untagged []string
	Deleted  []string
}

// RemoveImage removes an image, as docker rmi does: a name of an image
// that has more names only loses that name; otherwise the image is deleted,
// which fails while containers use it unless force, which removes those
// containers first.
func (r *Runtime) RemoveImage(ctx context.Context, ref string, force bool) (RemoveImageReport, error) {
	var rep RemoveImageReport
	img, err := r.Store.ResolveImage(ref)
	if err != nil {
		return rep, err
	}
	if named, err := storage.NormalizeName(ref); err == nil && len(img.Names) > 1 {
		for _, n := range img.Names {
			if n == named.String() {
				if err := r.Store.RemoveNames(img.ID, []string{n}); err != nil {
					return rep, fmt.Errorf("untag %s: %w", ref, err)
				}
				rep.Untagged = append(rep.Untagged, n)
				r.RecordImage(events.Untag, img.ID, n)
				return rep, nil
			}
		}
	}
	users, err := r.containersOf(ctx, img.ID)
	if err != nil {
		return rep, err
	}
	if len(users) > 0 && !force {
		// podman's words.
		return rep, fmt.Errorf("image used by %s: %w: consider listing external containers and force-removing image", users[0], ErrImageInUse)
	}
	for _, id := range users {
		if err := r.Remove(ctx, id, RemoveOptions{Force: true}); err != nil && !errors.Is(err, ErrNoSuchContainer) {
			return rep, err
		}
	}
	if err := r.Store.FreeingSpace(func() error {
		_, err := r.Store.DeleteImage(img.ID, true)
		if errors.Is(err, cstorage.ErrImageUnknown) || errors.Is(err, cstorage.ErrNotAnImage) {
			return nil // gone: by a first try that the full disk cut short
		}
		return err
	}); err != nil {
		if errors.Is(err, cstorage.ErrImageUsedByContainer) {
			return rep, fmt.Errorf("%s: %w: remove it first, or use rmi -f", ref, ErrImageInUse)
		}
		return rep, fmt.Errorf("remove image %s: %w", ref, err)
	}
	rep.Untagged = append(rep.Untagged, img.Names...)
	rep.Deleted = append(rep.Deleted, img.ID)
	for _, n := range img.Names {
		r.RecordImage(events.Untag, img.ID, n)
	}
	r.RecordImage(events.Remove, img.ID, ref)
	return rep, nil
}

// containersOf lists the containers made from an image, after waiting
// for those being removed.
func (r *Runtime) containersOf(ctx context.Context, imageID string) ([]string, error) {
	all, err := r.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var ids []string
	for _, c := range all {
		if c.ImageID == imageID && !r.awaitRemoval(ctx, c.ID) {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}
