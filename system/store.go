package system

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/internal/proc"
	"sandbox/spec"

	cstorage "go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// StoreCheckOptions are the flags of system check.
type StoreCheckOptions struct {
	// Runtime is the engine over the open store, inside the keeper.
	Runtime *container.Runtime
	// Quick leaves out what reads every layer's contents (containers/
	// storage's CheckMost rather than CheckEverything).
	Quick bool
	// Repair fixes what can be fixed without losing a container's data:
	// leftovers nothing refers to (layers, mounts, run directories).
	Repair bool
	// Force, with Repair, also removes damaged images and containers.
	Force bool
	// MaxUnreferencedAge is how old a layer that nothing refers to may be
	// before it counts as a problem (one younger may be an image being
	// pulled); nil means 24 hours, as podman's --max.
	MaxUnreferencedAge *time.Duration
}

// Problem is one thing wrong in the store, reported on one line.
type Problem struct {
	// Kind is what is wrong: layer, image, container, mount, run-directory.
	Kind string `json:"kind"`
	// ID names it: a layer, image or container id, or a path.
	ID string `json:"id"`
	// What says what is wrong with it.
	What string `json:"what"`
	// Repaired: --repair fixed it.
	Repaired bool `json:"repaired"`
	// NeedsForce: only --repair -f fixes it (it removes data).
	NeedsForce bool `json:"needsForce,omitempty"`
}

func (p Problem) String() string {
	id := p.ID
	if len(id) == 64 && !strings.Contains(id, "/") {
		id = id[:12]
	}
	s := fmt.Sprintf("%s %s: %s", p.Kind, id, p.What)
	switch {
	case p.Repaired:
		s += " (repaired)"
	case p.NeedsForce:
		s += " (--repair -f removes it)"
	}
	return s
}

// StoreReport is what system check found.
type StoreReport struct {
	Problems []Problem `json:"problems"`
}

// Remaining counts the problems not repaired.
func (r StoreReport) Remaining() int {
	n := 0
	for _, p := range r.Problems {
		if !p.Repaired {
			n++
		}
	}
	return n
}

// CheckStore checks the store and the runtime state beside it: what
// containers/storage's own check finds (every container's and image's
// layers and their parents there, their data readable, no layer that
// nothing refers to), every container's configuration readable, no mount
// under the store that no container owns, no run directory of a container
// that is not there. Locks need no check: sandbox's (flock) and
// containers/storage's (fcntl) are the kernel's, and go with the process
// that held them.
func CheckStore(ctx context.Context, o StoreCheckOptions) (StoreReport, error) {
	var rep StoreReport
	rt := o.Runtime
	maxAge := 24 * time.Hour
	if o.MaxUnreferencedAge != nil {
		maxAge = *o.MaxUnreferencedAge
	}
	opts := cstorage.CheckEverything()
	if o.Quick {
		opts = cstorage.CheckMost()
	}
	opts.LayerUnreferencedMaximumAge = &maxAge
	// The engine's view first: it reconciles what killed commands left
	// (run directories, states), as every listing does.
	owned, err := checkContainers(ctx, rt, o, &rep)
	if err != nil {
		return rep, err
	}
	if err := checkMounts(rt, owned, o, &rep); err != nil {
		return rep, err
	}
	if err := checkRunDirs(rt, o, &rep); err != nil {
		return rep, err
	}
	if err := checkTransfers(rt, o, &rep); err != nil {
		return rep, err
	}
	report, err := rt.Store.Check(opts)
	if err != nil {
		return rep, fmt.Errorf("check storage: %w", err)
	}
	found := storageProblems(report)
	if o.Repair && len(found) > 0 {
		errs := rt.Store.Repair(report, &cstorage.RepairOptions{RemoveContainers: o.Force})
		// What is repaired is what a second check no longer finds.
		again, err := rt.Store.Check(opts)
		if err != nil {
			return rep, fmt.Errorf("check storage after repair: %w (repair: %v)", err, errors.Join(errs...))
		}
		left := map[string]bool{}
		for _, p := range storageProblems(again) {
			left[p.Kind+" "+p.ID+" "+p.What] = true
		}
		for i := range found {
			p := &found[i]
			p.Repaired = !left[p.Kind+" "+p.ID+" "+p.What]
			p.NeedsForce = !p.Repaired && !o.Force && p.Kind != "layer"
		}
	} else {
		for i := range found {
			found[i].NeedsForce = found[i].Kind != "layer"
		}
	}
	rep.Problems = append(rep.Problems, found...)
	return rep, nil
}

// storageProblems turns containers/storage's report into problems, in a
// stable order.
func storageProblems(r cstorage.CheckReport) []Problem {
	var out []Problem
	add := func(kind string, m map[string][]error) {
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			for _, err := range m[id] {
				out = append(out, Problem{Kind: kind, ID: id, What: strings.TrimPrefix(err.Error(), kind+" "+id+": ")})
			}
		}
	}
	add("layer", r.Layers)
	add("layer", r.ROLayers)
	add("image", r.Images)
	add("image", r.ROImages)
	add("container", r.Containers)
	return out
}

// checkContainers reads every container's configuration and state (which
// reconciles it) and returns the layers that may be mounted: those of
// containers that are created, running or paused, or being started.
func checkContainers(ctx context.Context, rt *container.Runtime, o StoreCheckOptions, rep *StoreReport) (map[string]bool, error) {
	cs, err := rt.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	owned := map[string]bool{}
	for i := range cs {
		c, err := rt.Lookup(cs[i].ID)
		if errors.Is(err, container.ErrNoSuchContainer) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Config == nil {
			// Lookup keeps a container whose configuration cannot be
			// read; State removes one that was never finished.
			if _, serr := rt.State(c); errors.Is(serr, container.ErrNoSuchContainer) {
				continue
			}
			p := Problem{Kind: "container", ID: c.ID, What: "its configuration (config.json) is missing or unreadable", NeedsForce: true}
			if o.Repair && o.Force {
				if err := rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
					return nil, fmt.Errorf("remove damaged container %.12s: %w", c.ID, err)
				}
				p.Repaired, p.NeedsForce = true, false
			}
			rep.Problems = append(rep.Problems, p)
			owned[c.LayerID] = !p.Repaired
			continue
		}
		if container.OrphanBuildContainer(c.Config) {
			// No one's data: a killed build's RUN container.
			p := Problem{Kind: "container", ID: c.ID, What: fmt.Sprintf("a build container whose build (pid %d) was killed", c.Config.BuildPid)}
			if o.Repair {
				if err := rt.Remove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !errors.Is(err, container.ErrNoSuchContainer) {
					return nil, fmt.Errorf("remove build container %.12s: %w", c.ID, err)
				}
				p.Repaired = true
			} else {
				owned[c.LayerID] = true // its mount is part of the same problem
			}
			rep.Problems = append(rep.Problems, p)
			continue
		}
		st, err := rt.State(c)
		if errors.Is(err, container.ErrNoSuchContainer) {
			continue
		}
		if err != nil {
			rep.Problems = append(rep.Problems, Problem{Kind: "container", ID: c.ID, What: "its state cannot be read: " + err.Error(), NeedsForce: true})
			owned[c.LayerID] = true
			continue
		}
		if st.Status != spec.StatusExited || proc.Alive(st.MonitorPid, st.MonitorStart) {
			owned[c.LayerID] = true
		}
	}
	return owned, nil
}

// checkMounts finds mounts under the store that no container owns: the
// layer of a container that is not there or has exited, or anything else
// (a probe of containers/storage's left by a killed command).
func checkMounts(rt *container.Runtime, owned map[string]bool, o StoreCheckOptions, rep *StoreReport) error {
	root := rt.Store.GraphRoot()
	driverHome := filepath.Join(root, rt.Store.GraphDriverName())
	points, err := mountPoints("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, mp := range points {
		if mp == driverHome || !strings.HasPrefix(mp, root+"/") {
			continue // containers/storage binds its driver's home onto itself
		}
		rel, _ := filepath.Rel(driverHome, mp)
		parts := strings.Split(rel, "/")
		if len(parts) == 2 && parts[1] == "merged" && owned[parts[0]] {
			continue
		}
		p := Problem{Kind: "mount", ID: mp, What: "mounted, and no container owns it"}
		if o.Repair {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("unmount %s: %w", mp, err)
			}
			if len(parts) == 2 && parts[1] == "merged" {
				// The layer's mount count goes back to nothing too.
				if _, err := rt.Store.Unmount(parts[0], true); err != nil && !errors.Is(err, cstorage.ErrLayerUnknown) {
					return fmt.Errorf("unmount layer %.12s: %w", parts[0], err)
				}
			}
			p.Repaired = true
		}
		rep.Problems = append(rep.Problems, p)
	}
	return nil
}

// mountPoints lists the mount points of a mountinfo file, deepest first.
func mountPoints(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if mp, ok := ParseMountPoint(sc.Text()); ok {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// ParseMountPoint returns the mount point (field 5, octal escapes
// undone) of a line of /proc/PID/mountinfo.
func ParseMountPoint(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return "", false
	}
	return unescapeOctal(f[4]), true
}

// unescapeOctal undoes the kernel's \NNN escapes of space, tab, newline
// and backslash in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// checkTransfers finds pulls, imports and loads that were killed, whose
// intents remain, and with Repair removes what they left (unnamed images
// and unreferenced layers they added).
func checkTransfers(rt *container.Runtime, o StoreCheckOptions, rep *StoreReport) error {
	intents, _, err := rt.Store.Interrupted()
	if err != nil {
		return err
	}
	for _, path := range intents {
		rep.Problems = append(rep.Problems, Problem{Kind: "transfer", ID: path, What: "a pull, import, load, commit or build was killed: what it left unnamed or unreferenced is removed by --repair, or by the next of them", Repaired: o.Repair})
	}
	if o.Repair && len(intents) > 0 {
		if _, err := rt.Store.RecoverTransfers(); err != nil {
			return err
		}
	}
	return nil
}

// checkRunDirs finds run directories of containers that are not there and
// that no live process is making or removing.
func checkRunDirs(rt *container.Runtime, o StoreCheckOptions, rep *StoreReport) error {
	parent := rt.RunDirs()
	entries, err := os.ReadDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list run directories: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a claim being made (container's own business)
		}
		if _, err := rt.Store.Container(e.Name()); err == nil || !errors.Is(err, cstorage.ErrContainerUnknown) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		if st, err := spec.ReadState(dir); err == nil && proc.Alive(st.MonitorPid, st.MonitorStart) {
			continue // being created or removed right now
		}
		p := Problem{Kind: "run-directory", ID: dir, What: "no container has it"}
		if o.Repair {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove %s: %w", dir, err)
			}
			p.Repaired = true
		}
		rep.Problems = append(rep.Problems, p)
	}
	return nil
}

func aliveProcess(pid int, start uint64) bool { return proc.Alive(pid, start) }
