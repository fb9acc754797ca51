package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sandbox/network"
	"sandbox/removal"
	"sandbox/spec"
	"sandbox/storage"

	cstorage "go.podman.io/storage"
)

// Summary is one container as ps shows it.
type Summary struct {
	ID   string
	Name string
	// Image is the image's name as created from, in docker's short form;
	// ImageID the image's id.
	Image    string
	ImageID  string
	Command  string
	Created  time.Time
	State    string // created, running, exited
	ExitCode int
	// Status is docker's human form: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created".
	Status string
	Labels map[string]string
	Pid    int
	// Ports are the published ports, as docker's PORTS column shows them.
	Ports string
	// PortList are the same ports, one by one.
	PortList []spec.Port
	// Mounts are the -v, --mount and --tmpfs mounts; NetworkMode is the
	// --network mode.
	Mounts      []InspectMount
	NetworkMode string
	// Networks are the user-defined networks the container is on, by
	// name, and NetworkIDs their ids.
	Networks, NetworkIDs []string
	// Pod and PodName are the pod's id and name ("" for none); IsInfra
	// marks its infra container.
	Pod, PodName string
	IsInfra      bool
	// SizeRw is the size of the container's writable layer, SizeRootFs
	// that and its image's; both -1 unless ListOptions.Size (or unknown).
	SizeRw, SizeRootFs int64
}

// List returns containers, newest first; only running ones unless all.
// Leftovers of killed commands are reconciled on the way (see State).
func (r *Runtime) List(all bool) ([]Summary, error) {
	return r.ListWith(ListOptions{All: all})
}

// ListOptions are the flags of ps.
type ListOptions struct {
	// All lists containers in every state, not only running ones.
	All bool
	// Last, when above 0, keeps the Last most recently created of the
	// containers that pass the filters, in every state (-n; -l is 1).
	Last int
	// Filters are --filter; nil passes everything. A status filter lists
	// every state, as All does.
	Filters *Filters
	// Size measures each container's writable layer (ps --size).
	Size bool
	// Sort is one of SortKeys; "" keeps the newest first.
	Sort string
	// External lists the containers that builds run their RUN steps in
	// too (ps --external); they are not the user's.
	External bool
}

// ListWith returns the containers that ps shows with o, newest first.
func (r *Runtime) ListWith(o ListOptions) ([]Summary, error) {
	all := o.All || o.Last > 0 || o.Filters.HasStatus()
	if o.Filters != nil {
		for i := range o.Filters.Ancestor {
			a := &o.Filters.Ancestor[i]
			// An image that is not there matches by name or id prefix only.
			if img, err := r.Store.ResolveImage(a.Ref); err == nil {
				a.ImageID = img.ID
			}
		}
	}
	if err := r.resolveRefFilters(o.Filters); err != nil {
		return nil, err
	}
	cs, err := r.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	now := time.Now()
	known := map[string]bool{}
	for _, c := range cs {
		known[c.ID] = true
	}
	if err := r.reapRunDirs(known); err != nil {
		return nil, err
	}
	var out []Summary
	// A pod's ports are its infra's; ps shows them on every member too,
	// as podman does.
	podPorts := map[string]string{}
	var buf []byte
	for i := range cs {
		c, err := r.loadHead(&cs[i], &buf)
		if errors.Is(err, cstorage.ErrContainerUnknown) {
			continue // removed since the list was read
		}
		if err != nil {
			return nil, err
		}
		st, err := r.State(c)
		if errors.Is(err, ErrNoSuchContainer) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Config != nil && c.Config.Infra {
			podPorts[c.Config.Pod] = network.Format(c.Config.Host.Ports)
		}
		if !all && !up(st) {
			continue
		}
		if IsBuildContainer(c.Config) && !o.External {
			continue
		}
		s := summarize(c, st, now)
		if !o.Filters.Match(s) {
			continue
		}
		if o.Size || o.Sort == "size" {
			s.SizeRw, s.SizeRootFs = r.sizes(c)
		}
		out = append(out, s)
	}
	for i := range out {
		if out[i].Pod != "" && out[i].Ports == "" {
			out[i].Ports = podPorts[out[i].Pod]
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	if o.Last > 0 && len(out) > o.Last {
		out = out[:o.Last]
	}
	if err := SortSummaries(out, o.Sort); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveRefFilters finds the containers that before= and since= name.
func (r *Runtime) resolveRefFilters(f *Filters) error {
	if f == nil {
		return nil
	}
	for key, refs := range map[string][]RefFilter{"before": f.Before, "since": f.Since} {
		for i := range refs {
			c, err := r.Lookup(refs[i].Ref)
			if err != nil {
				return fmt.Errorf("invalid filter %q: %w", key+"="+refs[i].Ref, err)
			}
			refs[i].ID, refs[i].Created = c.ID, c.Created
			if c.Config != nil {
				refs[i].Created = c.Config.Created
			}
		}
	}
	return nil
}

// sizes are the container's writable layer's size and that with its
// image's layers; -1 when unknown.
func (r *Runtime) sizes(c *Container) (rw, rootfs int64) {
	l, err := r.Store.Layer(c.LayerID)
	if err != nil {
		return -1, -1
	}
	rw, err = r.Store.DiffSize(l.Parent, l.ID)
	if err != nil {
		return -1, -1
	}
	img := r.Store.LayersSize(l.Parent)
	if img < 0 {
		return rw, -1
	}
	return rw, rw + img
}

// reapRunDirs removes run directories that no container and no live
// process owns: what a command killed while claiming a container left.
func (r *Runtime) reapRunDirs(known map[string]bool) error {
	parent := filepath.Dir(r.runDir("x"))
	entries, err := os.ReadDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list run directories: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if known[name] || name == spec.NamesDir {
			continue
		}
		var pid int
		var start uint64
		if strings.HasPrefix(name, ".new-") {
			fmt.Sscanf(name, ".new-%d-%d-", &pid, &start)
		} else if st, err := spec.ReadState(filepath.Join(parent, name)); err == nil && st.Status == statusCreating {
			pid, start = st.MonitorPid, st.MonitorStart
		}
		if pid > 0 && alive(pid, start) {
			continue // being created right now
		}
		if !strings.HasPrefix(name, ".") {
			if err := r.remover().DeleteOrphanLayer(name); err != nil {
				return err
			}
		}
		if err := removal.KillRecordedInit(filepath.Join(parent, name)); err != nil {
			return err
		}
		if err := os.RemoveAll(filepath.Join(parent, name)); err != nil {
			return fmt.Errorf("remove leftover run directory: %w", err)
		}
	}
	return nil
}

func summarize(c *Container, st *spec.State, now time.Time) Summary {
	s := Summary{ID: c.ID, Name: c.Name(), State: st.Status, ExitCode: st.ExitCode, Created: c.Created, Pid: st.Pid, ImageID: c.ImageID,
		SizeRw: -1, SizeRootFs: -1}
	if c.Config != nil {
		s.Image = storage.FamiliarName(c.Config.Image)
		s.Command = strings.Join(c.Config.Command, " ")
		s.Labels = c.Config.Labels
		s.Created = c.Config.Created
		s.Ports, s.PortList = network.Format(c.Config.Host.Ports), c.Config.Host.Ports
		s.NetworkMode = c.Config.Host.NetworkMode
		for _, a := range c.Config.Host.Network.Attachments {
			s.Networks, s.NetworkIDs = append(s.Networks, a.Network), append(s.NetworkIDs, a.ID)
		}
		s.Pod, s.PodName, s.IsInfra = c.Config.Pod, c.Config.PodName, c.Config.Infra
		// Checked at create: a mount that no longer parses is not listed.
		if ms, err := inspectMounts(c.Config); err == nil {
			s.Mounts = ms
		}
	}
	switch st.Status {
	case spec.StatusRunning:
		s.Status = "Up " + HumanDuration(now.Sub(st.StartedAt))
	case spec.StatusPaused:
		s.Status = "Up " + HumanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case spec.StatusExited:
		s.Status = fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, HumanDuration(now.Sub(st.FinishedAt)))
	case spec.StatusCreated:
		s.Status = "Created"
	default:
		s.Status = st.Status
	}
	return s
}

// HumanDuration is docker's rounding of an age: "Less than a second",
// "5 seconds", "About a minute", "3 hours", "2 days", "3 weeks", "4 months".
func HumanDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	m := int(d.Minutes())
	switch {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	h := int(d.Round(time.Hour).Hours())
	switch {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", h/24/365)
}
