package removal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sandbox/events"
	"sandbox/internal/atomicfile"
	"sandbox/spec"
	"sandbox/volume"

	jsoniter "github.com/json-iterator/go"
)

// Cleanup is what a container's monitor becomes after the container has
// exited (ref names it: its id, as the monitor gives it): the root
// filesystem is unmounted, and with remove (run --rm) the container is
// deleted with its anonymous volumes, and the mark of its removal
// (spec.RemovalMark), which the commands that wait for the removal watch,
// goes last.
func (m Remover) Cleanup(ref string, remove bool) error {
	// Looked up first: the events name the container and its image, and
	// the spec's mounts name its anonymous volumes.
	c, lerr := m.lookup(ref)
	id := ref
	if lerr == nil {
		id = c.ID
	}
	if remove {
		// The volumes first: commands that wait for the removal
		// (awaitRemoval) then see them gone too.
		var verr error
		if lerr == nil {
			verr = m.RemoveAnonymousVolumes(c.Config)
		}
		if err := m.Delete(id, true); err != nil {
			return errors.Join(err, verr)
		}
		if lerr == nil {
			m.record(c, events.Cleanup)
			m.record(c, events.Remove)
		}
		// The removal is over: the commands waiting for it go on.
		if err := os.Remove(spec.RemovalMark(m.RunDir(id))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			verr = errors.Join(verr, fmt.Errorf("remove the mark of the removal: %w", err))
		}
		return verr
	}
	if err := m.Unmount(id, false); err != nil {
		return fmt.Errorf("unmount %.12s: %w", id, err)
	}
	if lerr == nil {
		m.record(c, events.Cleanup)
	}
	return nil
}

// exited is a container as its cleanup knows it.
type exited struct {
	ID, Name string
	// Config holds what ReadConfig reads; nil when it could not.
	Config *spec.Config
}

// lookup finds the container ref names (an id, a name or a unique
// prefix of an id) and reads its configuration.
func (m Remover) lookup(ref string) (*exited, error) {
	c, err := m.Store.Container(ref)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", ref, err)
	}
	dir, err := m.Store.ContainerDirectory(c.ID)
	if err != nil {
		return nil, fmt.Errorf("container %.12s directory: %w", c.ID, err)
	}
	e := &exited{ID: c.ID}
	if len(c.Names) > 0 {
		e.Name = c.Names[0]
	}
	// A container without a configuration was never fully created: it
	// goes all the same, its events without the image.
	if cfg, err := ReadConfig(filepath.Join(dir, "config.json")); err == nil {
		e.Config = cfg
		if e.Name == "" {
			e.Name = cfg.Name
		}
	}
	return e, nil
}

// record writes a container event, as the engine's are written; a failure
// to is told, not returned (the container is gone all the same).
func (m Remover) record(c *exited, s events.Status) {
	e := events.Event{Type: events.Container, Status: s, ID: c.ID, Name: c.Name}
	if c.Config != nil {
		e.Image, e.Attributes = c.Config.Image, c.Config.Labels
	}
	if err := m.Events.Write(e); err != nil {
		fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
	}
}

// RemoveAnonymousVolumes removes the anonymous volumes of a container
// (its configuration's volume mounts whose volume is anonymous); named
// volumes stay, and a volume already gone is no error.
func (m Remover) RemoveAnonymousVolumes(cfg *spec.Config) error {
	if cfg == nil {
		return nil
	}
	var names []string
	for _, mt := range cfg.Spec.Mounts {
		if mt.Volume != "" {
			names = append(names, mt.Volume)
		}
	}
	if len(names) == 0 {
		return nil
	}
	vs, err := volume.OpenIn(m.Store.Options.GraphRoot)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		v, err := vs.Get(n)
		if errors.Is(err, volume.ErrNoSuchVolume) {
			continue
		}
		if err == nil && v.Anonymous {
			err = vs.Remove(n)
		}
		if err != nil && !errors.Is(err, volume.ErrNoSuchVolume) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// configJSON is json-iterator in its standard library compatible mode, as
// the engine reads configurations (containers/storage links it anyway).
var configJSON = jsoniter.ConfigCompatibleWithStandardLibrary

// cleanupConfig is what a container's cleanup reads of its configuration
// (spec.Config's fields of the same JSON names): the names its events
// carry, and the runtime spec's mounts, which name its anonymous volumes.
// A process pays for reflecting on a type the first time it decodes one:
// this costs the cleanup of every --rm container about 0.2 ms, the whole
// of Config 0.85-1 ms (cold, in a process of its own).
type cleanupConfig struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Image  string            `json:"image"`
	Labels map[string]string `json:"labels,omitempty"`
	Spec   struct {
		Mounts []spec.Mount `json:"mounts,omitempty"`
	} `json:"spec"`
}

// ReadConfig reads the fields of cleanupConfig into a Config; the rest of
// it is left zero.
func ReadConfig(path string) (*spec.Config, error) {
	data, err := atomicfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read container config: %w", err)
	}
	var c cleanupConfig
	if err := configJSON.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container config %s: %w", path, err)
	}
	return &spec.Config{ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels, Spec: spec.Spec{Mounts: c.Spec.Mounts}}, nil
}
