package container

import (
	"context"
	"errors"
	"fmt"
	"os"

	"sandbox/internal/proc"
	"sandbox/spec"
)

// Build containers: a build runs each RUN step in a container of its own
// (CreateOptions.Build) and removes it when the step is done. Its
// configuration names the build's process; a build container whose build
// is gone was left by a killed build. The next build removes those
// (RemoveOrphanBuildContainers), and system check reports them and
// --repair removes them. ps lists build containers only with --external,
// as podman lists buildah's.

// buildOwner is this process, for Config.BuildPid and BuildStart.
func buildOwner() (int, uint64, error) {
	pid := os.Getpid()
	start, err := proc.StartTime(pid)
	if err != nil {
		return 0, 0, fmt.Errorf("the build's process: %w", err)
	}
	return pid, start, nil
}

// IsBuildContainer reports whether cfg is a build's RUN container.
func IsBuildContainer(cfg *spec.Config) bool {
	return cfg != nil && cfg.BuildPid != 0
}

// OrphanBuildContainer reports whether cfg is a build container whose
// build is gone.
func OrphanBuildContainer(cfg *spec.Config) bool {
	return IsBuildContainer(cfg) && !proc.Alive(cfg.BuildPid, cfg.BuildStart)
}

// RemoveOrphanBuildContainers removes the build containers whose builds
// were killed, and returns their ids.
func (r *Runtime) RemoveOrphanBuildContainers(ctx context.Context) ([]string, error) {
	cs, err := r.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var removed []string
	for i := range cs {
		c, err := r.Lookup(cs[i].ID)
		if errors.Is(err, ErrNoSuchContainer) {
			continue
		}
		if err != nil {
			return removed, err
		}
		if !OrphanBuildContainer(c.Config) {
			continue
		}
		if err := r.Remove(ctx, c.ID, RemoveOptions{Force: true}); err != nil && !errors.Is(err, ErrNoSuchContainer) {
			return removed, fmt.Errorf("remove the container a killed build left: %w", err)
		}
		removed = append(removed, c.ID)
	}
	return removed, nil
}
