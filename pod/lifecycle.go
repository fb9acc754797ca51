package pod

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"sandbox/container"

	"golang.org/x/sys/unix"
)

// members are the pod's containers, the infra last.
func (m *Manager) members(p *Pod) (members []container.Summary, infra *container.Summary, err error) {
	list, err := m.rt.ListWith(container.ListOptions{All: true, Filters: &container.Filters{Pod: []string{p.ID}}})
	if err != nil {
		return nil, nil, err
	}
	for i := range list {
		if list[i].Pod != p.ID {
			continue
		}
		if list[i].IsInfra {
			infra = &list[i]
			continue
		}
		members = append(members, list[i])
	}
	return members, infra, nil
}

func up(s container.Summary) bool { return s.State == "running" || s.State == "paused" }

// startInfra starts the infra container unless it runs.
func (m *Manager) startInfra(ctx context.Context, p *Pod) error {
	_, infra, err := m.members(p)
	if err != nil {
		return err
	}
	if infra == nil {
		return fmt.Errorf("pod %s has lost its infra container %.12s: remove the pod (pod rm -f) and create it again", p.Name, p.Infra)
	}
	if up(*infra) {
		return nil
	}
	if _, _, err := m.rt.StartContainer(ctx, p.Infra, false); err != nil {
		return fmt.Errorf("start the infra container of pod %s: %w", p.Name, err)
	}
	return nil
}

// Start starts the pod: its infra, then every member that does not run.
func (m *Manager) Start(ctx context.Context, ref string) (*Pod, error) {
	p, err := m.Lookup(ref)
	if err != nil {
		return nil, err
	}
	if err := m.startInfra(ctx, p); err != nil {
		return nil, err
	}
	members, _, err := m.members(p)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, c := range members {
		if up(c) {
			continue
		}
		if _, _, err := m.rt.StartContainer(ctx, c.ID, false); err != nil {
			errs = append(errs, fmt.Errorf("start %s: %w", c.Name, err))
		}
	}
	return p, errors.Join(errs...)
}

// Stop stops the pod: its members at once (each by its stop signal, then
// SIGKILL after timeout, nil for each one's own), then the infra.
func (m *Manager) Stop(ctx context.Context, ref string, timeout *int) (*Pod, error) {
	p, err := m.Lookup(ref)
	if err != nil {
		return nil, err
	}
	members, infra, err := m.members(p)
	if err != nil {
		return nil, err
	}
	if err := m.each(members, func(c container.Summary) error {
		if !up(c) {
			return nil
		}
		return m.rt.Stop(ctx, c.ID, container.StopOptions{Timeout: timeout})
	}); err != nil {
		return p, err
	}
	if infra != nil && up(*infra) {
		if err := m.rt.Stop(ctx, infra.ID, container.StopOptions{Timeout: timeout}); err != nil {
			return p, fmt.Errorf("stop the infra container: %w", err)
		}
	}
	return p, nil
}

// Kill sends sig to every running container of the pod, the infra last.
func (m *Manager) Kill(ctx context.Context, ref string, sig unix.Signal) (*Pod, error) {
	p, err := m.Lookup(ref)
	if err != nil {
		return nil, err
	}
	members, infra, err := m.members(p)
	if err != nil {
		return nil, err
	}
	if infra != nil {
		members = append(members, *infra)
	}
	var errs []error
	n := 0
	for _, c := range members {
		if !up(c) {
			continue
		}
		n++
		if err := m.rt.Kill(ctx, c.ID, sig); err != nil {
			errs = append(errs, fmt.Errorf("kill %s: %w", c.Name, err))
		}
	}
	if n == 0 {
		return p, fmt.Errorf("pod %s has no running containers to signal", p.Name)
	}
	return p, errors.Join(errs...)
}

// Restart stops the pod, then starts it.
func (m *Manager) Restart(ctx context.Context, ref string, timeout *int) (*Pod, error) {
	if _, err := m.Stop(ctx, ref, timeout); err != nil {
		return nil, err
	}
	return m.Start(ctx, ref)
}

// RemoveOptions are the flags of pod rm.
type RemoveOptions struct {
	// Force stops and removes running members; otherwise a pod with a
	// running member is refused.
	Force bool
	// Ignore: a pod that is not there is no error (pod rm --ignore).
	Ignore bool
	// Timeout, with Force, stops members first (nil: SIGKILL at once).
	Timeout *int
}

// Remove removes the pod: its members, its infra, its record. It returns
// the pod removed, nil when Ignore and none.
func (m *Manager) Remove(ctx context.Context, ref string, o RemoveOptions) (*Pod, error) {
	p, err := m.Lookup(ref)
	if errors.Is(err, ErrNoSuchPod) && o.Ignore {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	members, infra, err := m.members(p)
	if err != nil {
		return nil, err
	}
	if !o.Force {
		for _, c := range members {
			if up(c) {
				return nil, fmt.Errorf("pod %s has running containers (%s): stop the pod first (pod stop), or use pod rm -f", p.Name, c.Name)
			}
		}
	}
	if err := m.each(members, func(c container.Summary) error {
		err := m.rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true, Timeout: o.Timeout})
		if errors.Is(err, container.ErrNoSuchContainer) {
			return nil
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("remove the containers of pod %s: %w", p.Name, err)
	}
	if infra != nil {
		err := m.rt.Remove(ctx, infra.ID, container.RemoveOptions{Force: true, Infra: true})
		if err != nil && !errors.Is(err, container.ErrNoSuchContainer) {
			return nil, fmt.Errorf("remove the infra container of pod %s: %w", p.Name, err)
		}
	}
	if err := os.RemoveAll(m.Dir(p)); err != nil {
		return nil, fmt.Errorf("remove the directory of pod %s: %w", p.Name, err)
	}
	if err := m.forget(p.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// each runs f on every container at once and joins the errors.
func (m *Manager) each(list []container.Summary, f func(container.Summary) error) error {
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(c); err != nil {
				errs[i] = fmt.Errorf("%s: %w", c.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// MemberIDs are the ids of the pod's members (not its infra), oldest
// first, for pod logs.
func (m *Manager) MemberIDs(ref string) ([]string, error) {
	p, err := m.Lookup(ref)
	if err != nil {
		return nil, err
	}
	members, _, err := m.members(p)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(members))
	for i := len(members) - 1; i >= 0; i-- {
		ids = append(ids, members[i].ID)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("pod %s has no containers besides its infra", p.Name)
	}
	return ids, nil
}
