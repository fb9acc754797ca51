package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// What the figures do with containers and images besides timing them:
// start them, list them, remove them. Every figure names its containers
// with a prefix of its own ("bench-exec", "bench-many-NN"), so that it
// removes its own and nothing else, leftovers of an interrupted run
// included.

// detachedArgs starts a container that idles: run -d, no network (sandbox's
// default, and no per-container network helper for podman), sleeping.
func detachedArgs(image, name string) []string {
	return []string{"run", "-d", "--network", "none", "--name", name, image, "sleep", "3600"}
}

// nameOf is the name of the i-th container of a figure's set.
func nameOf(prefix string, i int) string { return fmt.Sprintf("%s%02d", prefix, i) }

// startMany starts n idle containers named prefix00, prefix01, ...
// concurrently, and returns the wall time from the first launch until the
// last has returned. Every failure is returned, with the tool's message.
func (t *tool) startMany(ctx context.Context, image, prefix string, n int) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not tied to ctx: an interrupt reaches the tools from the
			// terminal; a kill from here would leave half-made containers
			// for nothing. The figure's clean-up removes what they made.
			a := t.argv(detachedArgs(image, nameOf(prefix, i))...)
			if out, err := exec.Command(a[0], a[1:]...).CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("%s: %w: %s", nameOf(prefix, i), err, strings.TrimSpace(string(out)))
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	switch {
	case len(failed) == 0:
		return d, nil
	case len(failed) == 1:
		return d, failed[0]
	default:
		return d, fmt.Errorf("%d of %d failed; the first: %w", len(failed), n, failed[0])
	}
}

// ids lists the containers, running or not, whose name matches nameRE.
func (t *tool) ids(ctx context.Context, nameRE string, all bool) ([]string, error) {
	args := []string{"ps", "-q", "--no-trunc", "--filter", "name=" + nameRE}
	if all {
		args = append(args, "-a")
	}
	out, err := t.output(ctx, args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// removeMatching removes every container, running or not, whose name
// matches nameRE. It runs from clean-ups, so it does not take the run's
// context: an interrupt must not stop the removal it causes. It tries
// three times: a container whose run was interrupted may be being torn
// down by its tool at the same time (podman: "device or resource busy").
func (t *tool) removeMatching(nameRE string) error {
	ctx, cancel := cleanupContext()
	defer cancel()
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			time.Sleep(time.Second)
		}
		var ids []string
		ids, err = t.ids(ctx, nameRE, true)
		if err != nil {
			err = fmt.Errorf("%s: list containers to remove: %w", t.name, err)
			continue
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err = t.output(ctx, append(t.rmForce, ids...)...); err == nil {
			return nil
		}
		err = fmt.Errorf("%s: remove %d containers matching %s: %w", t.name, len(ids), nameRE, err)
	}
	return err
}

// startBatches starts n idle containers named prefix0... with run -d,
// width at a time, and fails at the first that does not start.
func (t *tool) startBatches(ctx context.Context, image, prefix string, n, width int) error {
	next := make(chan int)
	errs := make(chan error, width)
	var wg sync.WaitGroup
	for range width {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a := t.argv(detachedArgs(image, nameOf(prefix, i))...)
				if out, err := exec.Command(a[0], a[1:]...).CombinedOutput(); err != nil {
					errs <- fmt.Errorf("%s: %w: %s", nameOf(prefix, i), err, strings.TrimSpace(string(out)))
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// checkRunning checks that ps lists n running containers matching nameRE.
func (t *tool) checkRunning(ctx context.Context, nameRE string, n int) error {
	ids, err := t.ids(ctx, nameRE, false)
	if err != nil {
		return err
	}
	if len(ids) != n {
		return fmt.Errorf("%s ps lists %d running containers of the %d started", t.name, len(ids), n)
	}
	return nil
}

// cleanupContext bounds a clean-up in time, independently of the run's
// context, which an interrupt has cancelled by then.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 3*time.Minute)
}

// images lists the tool's images as REPOSITORY:TAG.
func (t *tool) images(ctx context.Context) ([]string, error) {
	out, err := t.output(ctx, "images", "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return strings.Fields(out), nil
}

// rmiIfPresent removes the image ref (REPOSITORY:TAG) when the tool has it.
func (t *tool) rmiIfPresent(ctx context.Context, ref string) error {
	names, err := t.images(ctx)
	if err != nil {
		return err
	}
	if !hasImage(names, ref) {
		return nil
	}
	if _, err := t.output(ctx, "rmi", ref); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	return nil
}

// sandboxContainers: ps gives each container's pid 1; its parent is the
// container's sandbox-monitor.
func (e *environment) sandboxContainers(ctx context.Context, nameRE string) ([]containerPids, error) {
	out, err := e.sandbox.output(ctx, "ps", "--format", "json", "--filter", "name="+nameRE)
	if err != nil {
		return nil, err
	}
	var list []struct {
		Names []string
		Pid   int
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("sandbox ps --format json: %w", err)
	}
	var cs []containerPids
	for _, c := range list {
		if c.Pid <= 0 {
			return nil, fmt.Errorf("sandbox ps: container %v is running with no pid", c.Names)
		}
		st, err := readStatus(c.Pid)
		if err != nil {
			return nil, fmt.Errorf("container %v: %w", c.Names, err)
		}
		cs = append(cs, containerPids{name: strings.Join(c.Names, ","), pid: c.Pid, helper: st.ppid})
	}
	return cs, nil
}

// podmanContainers: podman inspect gives each container's pid 1 and its
// conmon.
func (e *environment) podmanContainers(ctx context.Context, nameRE string) ([]containerPids, error) {
	ids, err := e.podman.ids(ctx, nameRE, false)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	out, err := e.podman.output(ctx, append([]string{"inspect", "--format", "{{.Name}} {{.State.Pid}} {{.State.ConmonPid}}"}, ids...)...)
	if err != nil {
		return nil, err
	}
	var cs []containerPids
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("podman inspect: unexpected line %q", line)
		}
		pid, err1 := strconv.Atoi(f[1])
		helper, err2 := strconv.Atoi(f[2])
		if err := errors.Join(err1, err2); err != nil || pid <= 0 || helper <= 0 {
			return nil, fmt.Errorf("podman inspect: unexpected line %q", line)
		}
		cs = append(cs, containerPids{name: f[0], pid: pid, helper: helper})
	}
	return cs, nil
}

// memory is one probe of the helpers of a set of containers.
type memory struct {
	containers int   // containers probed
	processes  int   // helper processes counted (one per container unless a helper forks)
	rss, pss   int64 // bytes, summed over the helper processes
}

// helperMemory sums the memory of the tool's per-container helper
// processes (and any processes they started) for the running containers
// matching nameRE, leaving out each container's own processes. It checks
// that there are want containers and that each helper is the process the
// tool is known to keep, so that it measures nothing else by mistake.
func (t *tool) helperMemory(ctx context.Context, nameRE string, want int) (memory, error) {
	cs, err := t.containers(ctx, nameRE)
	if err != nil {
		return memory{}, err
	}
	if len(cs) != want {
		return memory{}, fmt.Errorf("%d running containers match %s, want %d", len(cs), nameRE, want)
	}
	tree, err := processTree()
	if err != nil {
		return memory{}, fmt.Errorf("read /proc: %w", err)
	}
	m := memory{containers: len(cs)}
	for _, c := range cs {
		name, err := procName(c.helper)
		if err != nil {
			return memory{}, fmt.Errorf("helper of %s: %w", c.name, err)
		}
		if name != t.helper {
			return memory{}, fmt.Errorf("helper of %s: process %d is %q, not %s", c.name, c.helper, name, t.helper)
		}
		for _, pid := range helperProcesses(tree, c.helper, c.pid) {
			st, err := readStatus(pid)
			if err != nil {
				return memory{}, fmt.Errorf("helper of %s: %w", c.name, err)
			}
			pss, err := readPss(pid)
			if err != nil {
				return memory{}, fmt.Errorf("helper of %s: %w", c.name, err)
			}
			m.processes++
			m.rss += st.rss
			m.pss += pss
		}
	}
	return m, nil
}

// removeFile removes a file made for a figure, if it is there.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
