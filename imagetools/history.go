package imagetools

import (
	"context"
	"time"

	"sandbox/container"
)

// HistoryEntry is one step of an image's history, newest first, as
// podman's history shows it.
type HistoryEntry struct {
	// ID is the image's id for the newest step, "<missing>" for the
	// others (their intermediate images are not in the store), as docker
	// and podman show them.
	ID        string
	Created   time.Time
	CreatedBy string
	// Size is the unpacked size of the step's layer, 0 for a step that
	// made none.
	Size    int64
	Comment string
	// Tags are the image's names, on the newest step.
	Tags []string
}

// History lists the steps that made an image, from its configuration's
// history matched with its layers; an image without history gets one
// step per layer.
func History(ctx context.Context, rt *container.Runtime, ref string) ([]HistoryEntry, error) {
	img, err := rt.Store.ResolveImage(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := rt.Store.ImageConfig(ctx, img.ID)
	if err != nil {
		return nil, err
	}
	// The layers, bottom first.
	var sizes []int64
	for id := img.TopLayer; id != ""; {
		l, err := rt.Store.Layer(id)
		if err != nil {
			break
		}
		sizes = append([]int64{l.UncompressedSize}, sizes...)
		id = l.Parent
	}
	var out []HistoryEntry
	if len(cfg.History) == 0 {
		for _, s := range sizes {
			out = append(out, HistoryEntry{Created: img.Created, Size: s})
		}
	}
	layer := 0
	for _, h := range cfg.History {
		e := HistoryEntry{CreatedBy: h.CreatedBy, Comment: h.Comment}
		if h.Created != nil {
			e.Created = *h.Created
		}
		if !h.EmptyLayer && layer < len(sizes) {
			e.Size = sizes[layer]
			layer++
		}
		out = append(out, e)
	}
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	for i := range out {
		out[i].ID = "<missing>"
	}
	if len(out) > 0 {
		out[0].ID, out[0].Tags = img.ID, img.Names
	}
	return out, nil
}
