package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"sandbox/cgroupv2"
	"sandbox/internal/atomicfile"
	"sandbox/spec"
)

// Update changes a container's limits: the flags given are checked over
// the limits it has, written to its cgroup when it runs, and kept in its
// configuration for its next start (as docker's update does).
func (r *Runtime) Update(ref string, o *ResourceOptions) error {
	if !o.Given() {
		return errors.New("update needs at least one limit flag (--memory, --cpus, --pids-limit, ...)")
	}
	c, st, err := r.lookupState(ref)
	if err != nil {
		return err
	}
	if c.Config == nil {
		return fmt.Errorf("%w: %s has no configuration", ErrNoSuchContainer, ref)
	}
	res, err := resourcesFor(o, c.Config.Host.Resources, r.inScope(st))
	if err != nil {
		return err
	}
	// Under the state's lock: the container neither starts nor stops
	// between the check that it runs and the write to its cgroup.
	return spec.UpdateState(c.RunDir, func(s *spec.State) error {
		var l *cgroupv2.Leaf
		switch {
		case up(s) && alive(s.Pid, s.PidStart):
			if l, err = leafFor("update", ref, s); err != nil {
				return err
			}
		case s.Status == spec.StatusRestarting:
			// Between two runs the monitor keeps the cgroup, and the next
			// run has what it holds.
			l = leafOf(s)
		}
		if l != nil {
			if err := l.Apply(&res); err != nil && !(s.Status == spec.StatusRestarting && errors.Is(err, fs.ErrNotExist)) {
				return fmt.Errorf("update %s: %w", ref, err)
			}
		}
		cfg := *c.Config
		cfg.Host.Resources = res
		data, err := json.MarshalIndent(&cfg, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(c.Dir, "config.json"), data, 0o600); err != nil {
			return fmt.Errorf("update %s: %w", ref, err)
		}
		return nil
	})
}
