package container

import (
	"context"
	"errors"
	"fmt"

	"sandbox/spec"
)

// PruneReport is what prune removed.
type PruneReport struct {
	// Deleted are the full ids of the removed containers.
	Deleted []string
	// SpaceReclaimed is the bytes their layers and directories held.
	SpaceReclaimed int64
}

// Prune removes every container that does not run: created and exited
// ones. Containers being created, restarted or removed by someone else are
// left alone. A container that cannot be removed is reported in the error
// and the others are still removed.
func (r *Runtime) Prune(ctx context.Context) (PruneReport, error) {
	var rep PruneReport
	cs, err := r.Store.Containers()
	if err != nil {
		return rep, fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for i := range cs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		c, err := r.load(&cs[i])
		if errors.Is(err, ErrNoSuchContainer) {
			continue // removed since the list was read
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, err := r.State(c)
		if errors.Is(err, ErrNoSuchContainer) {
			continue // a leftover, now removed, or being created or removed
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Status != spec.StatusCreated && st.Status != spec.StatusExited {
			continue
		}
		// The size is what the report shows; a container whose size
		// cannot be read is still removed, and counts for nothing.
		size, sizeErr := r.Store.ContainerSize(c.ID)
		if err := r.Remove(ctx, c.ID, RemoveOptions{}); err != nil {
			// Gone, or started since its state was read: not for prune.
			if !errors.Is(err, ErrNoSuchContainer) && !errors.Is(err, ErrRunning) && !errors.Is(err, ErrInfra) {
				errs = append(errs, fmt.Errorf("remove %.12s: %w", c.ID, err))
			}
			continue
		}
		rep.Deleted = append(rep.Deleted, c.ID)
		if sizeErr == nil && size > 0 {
			rep.SpaceReclaimed += size
		}
	}
	return rep, errors.Join(errs...)
}
