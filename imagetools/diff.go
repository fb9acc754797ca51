package imagetools

import (
	"context"
	"errors"
	"fmt"

	"sandbox/container"
	"sandbox/storage"

	"go.podman.io/storage/pkg/archive"
)

// Change is one line of diff: Kind is "A" (added), "C" (changed) or "D"
// (deleted).
type Change struct {
	Kind string
	Path string
}

// initPaths are what the engine itself puts in a container's root (mount
// points of its own files and file systems): diff leaves them out, as
// podman's does.
var initPaths = map[string]bool{
	"/dev": true, "/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true, "/etc/mtab": true,
	"/proc": true, "/run": true, "/run/.containerenv": true, "/run/secrets": true, "/sys": true,
}

// ErrNoSuchObject is a name that is neither a container nor an image.
var ErrNoSuchObject = errors.New("no such container or image")

// Diff lists the changes of a container's root filesystem against its
// image, or of an image's top layer against its parent.
func Diff(ctx context.Context, rt *container.Runtime, ref string) ([]Change, error) {
	var layer string
	skip := map[string]bool{}
	c, err := rt.Lookup(ref)
	switch {
	case err == nil:
		layer = c.LayerID
		for p := range initPaths {
			skip[p] = true
		}
		if c.Config != nil {
			for _, m := range c.Config.Spec.Mounts {
				skip[m.Destination] = true
			}
		}
	case errors.Is(err, container.ErrNoSuchContainer):
		img, ierr := rt.Store.ResolveImage(ref)
		if errors.Is(ierr, storage.ErrNoSuchImage) {
			return nil, fmt.Errorf("%s: %w", ref, ErrNoSuchObject)
		}
		if ierr != nil {
			return nil, ierr
		}
		layer = img.TopLayer
	default:
		return nil, err
	}
	changes, err := rt.Store.Changes("", layer)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", ref, err)
	}
	out := []Change{}
	for _, ch := range changes {
		if skip[ch.Path] {
			continue
		}
		kind := "C"
		switch ch.Kind {
		case archive.ChangeAdd:
			kind = "A"
		case archive.ChangeDelete:
			kind = "D"
		}
		out = append(out, Change{Kind: kind, Path: ch.Path})
	}
	return out, nil
}
