// Package volume owns named volumes: directories under the user's storage
// root (GRAPHROOT/volumes/NAME/_data, as podman lays them out), each with
// a small JSON record (volume.json) written atomically under one lock for
// the whole set. It knows nothing of containers: which containers use a
// volume, and what happens to them when it goes, is the engine's affair
// (package container), which passes Prune a predicate. It imports no
// driver and no engine: only the standard library and sandbox/internal.
//
// The API is small on purpose: Open a Store, then Create, Get, List,
// Remove, Prune; a Volume's Mountpoint is the directory to bind.
package volume

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"sandbox/internal/atomicfile"
	"sandbox/internal/lockfile"
)

// Errors a caller can test with errors.Is.
var (
	ErrNoSuchVolume = errors.New("no such volume")
	ErrExists       = errors.New("volume already exists")
	ErrInvalidName  = errors.New("invalid argument")
	ErrInUse        = errors.New("volume is being used")
)

// DriverLocal is the one driver: a directory of the user's storage.
const DriverLocal = "local"

// validName is docker's and podman's rule for volume names,
// [a-zA-Z0-9][a-zA-Z0-9_.-]* (by hand: a regexp compiled at start would
// cost every sandbox process its init).
func validName(name string) bool {
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || r != '_' && r != '.' && r != '-') {
			return false
		}
	}
	return name != ""
}

// Volume is one volume's record, with the JSON keys podman and docker
// show in volume inspect.
type Volume struct {
	Name   string `json:"Name"`
	Driver string `json:"Driver"`
	// Mountpoint is the directory that containers bind: STORE/NAME/_data.
	Mountpoint string            `json:"Mountpoint"`
	CreatedAt  time.Time         `json:"CreatedAt"`
	Labels     map[string]string `json:"Labels"`
	Scope      string            `json:"Scope"`
	Options    map[string]string `json:"Options"`
	// Anonymous: made for one container (-v /PATH, an image's VOLUME),
	// removed with it by rm -v and run --rm.
	Anonymous bool `json:"Anonymous,omitempty"`
	// NeedsCopyUp: no container has used it yet; the first copies the
	// image's content at its mount point into it (Used clears it).
	NeedsCopyUp bool `json:"NeedsCopyUp"`
}

// CreateOptions say what volume to make. Zero values are the defaults.
type CreateOptions struct {
	// Name is the volume's name; "" makes a random 64-hex name.
	Name string
	// Driver must be "" or DriverLocal.
	Driver  string
	Labels  map[string]string
	Options map[string]string
	// Anonymous marks a volume made for one container.
	Anonymous bool
}

// Store is the set of volumes in one directory (GRAPHROOT/volumes).
type Store struct {
	dir string
}

// Open returns the store of volumes in dir, creating dir (0700).
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("volumes directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// OpenIn returns the store of volumes of the storage at graphRoot
// (GRAPHROOT/volumes).
func OpenIn(graphRoot string) (*Store, error) { return Open(filepath.Join(graphRoot, "volumes")) }

// Dir is the directory holding the volumes.
func (s *Store) Dir() string { return s.dir }

// Lock takes the store's lock, which Create, Remove, Prune and Used take
// themselves; a caller that must check something and then remove under
// one lock (whether containers use a volume) holds it and calls the
// Locked variants.
func (s *Store) Lock() (*lockfile.Lock, error) {
	return lockfile.Acquire(filepath.Join(s.dir, ".lock"))
}

// CheckName says whether name is a valid volume name.
func CheckName(name string) error {
	if !validName(name) {
		return fmt.Errorf("invalid volume name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", name, ErrInvalidName)
	}
	return nil
}

// Create makes a volume. A name in use is ErrExists.
func (s *Store) Create(o CreateOptions) (*Volume, error) {
	l, err := s.Lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return s.createLocked(o)
}

// GetOrCreate returns the volume name, making it (with no labels or
// options) when there is none: a volume's first use by -v or --mount.
// created says it was made here.
func (s *Store) GetOrCreate(name string) (v *Volume, created bool, err error) {
	l, err := s.Lock()
	if err != nil {
		return nil, false, err
	}
	defer l.Unlock()
	v, err = s.Get(name)
	if errors.Is(err, ErrNoSuchVolume) {
		v, err = s.createLocked(CreateOptions{Name: name})
		return v, err == nil, err
	}
	return v, false, err
}

func (s *Store) createLocked(o CreateOptions) (*Volume, error) {
	if o.Driver != "" && o.Driver != DriverLocal {
		return nil, fmt.Errorf("volume driver %q: only %q is supported", o.Driver, DriverLocal)
	}
	name := o.Name
	if name == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("volume name: %w", err)
		}
		name = hex.EncodeToString(b)
	}
	if err := CheckName(name); err != nil {
		return nil, err
	}
	for k := range o.Options {
		switch k {
		case "type", "device", "o", "size", "uid", "gid", "copy", "nocopy":
		default:
			return nil, fmt.Errorf("volume option %q: want type, device, o, uid, gid or copy", k)
		}
	}
	dir := filepath.Join(s.dir, name)
	// Mkdir, not MkdirAll: an existing directory is a volume of that name
	// (or the remains of one), never silently adopted.
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("volume with name %s already exists: %w", name, ErrExists)
		}
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	v := &Volume{
		Name: name, Driver: DriverLocal, Mountpoint: filepath.Join(dir, "_data"),
		CreatedAt: time.Now().UTC(), Labels: nonNil(o.Labels), Scope: "local", Options: nonNil(o.Options),
		Anonymous: o.Anonymous, NeedsCopyUp: o.Options["nocopy"] == "" && o.Options["copy"] != "false",
	}
	err := os.Mkdir(v.Mountpoint, 0o755)
	if err == nil {
		// The directory holding _data is the user's only; _data itself
		// is opened to the container's users by the engine (Chown).
		err = s.write(v)
	}
	if err != nil {
		if rerr := os.RemoveAll(dir); rerr != nil {
			err = fmt.Errorf("%w (and removing it: %v)", err, rerr)
		}
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	return v, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (s *Store) write(v *Volume) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, v.Name, "volume.json"), data, 0o600)
}

// Get returns the volume name, or ErrNoSuchVolume.
func (s *Store) Get(name string) (*Volume, error) {
	if CheckName(name) != nil {
		return nil, fmt.Errorf("no volume with name %q found: %w", name, ErrNoSuchVolume)
	}
	data, err := os.ReadFile(filepath.Join(s.dir, name, "volume.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no volume with name %q found: %w", name, ErrNoSuchVolume)
	}
	if err != nil {
		return nil, fmt.Errorf("read volume %s: %w", name, err)
	}
	var v Volume
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("volume record %s: %w", name, err)
	}
	// The store may have moved (--root): the mount point is where it is.
	v.Mountpoint = filepath.Join(s.dir, name, "_data")
	return &v, nil
}

// List returns every volume, by name. A directory without a record (a
// volume being created, or half-removed) is not one.
func (s *Store) List() ([]*Volume, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []*Volume
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		v, err := s.Get(e.Name())
		if errors.Is(err, ErrNoSuchVolume) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Used records that a container has used the volume: its first copy is
// done.
func (s *Store) Used(name string) error {
	l, err := s.Lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	v, err := s.Get(name)
	if err != nil {
		return err
	}
	if !v.NeedsCopyUp {
		return nil
	}
	v.NeedsCopyUp = false
	return s.write(v)
}

// Remove removes the volume name and its content.
func (s *Store) Remove(name string) error {
	l, err := s.Lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	return s.RemoveLocked(name)
}

// RemoveLocked is Remove for a caller that holds Lock.
func (s *Store) RemoveLocked(name string) error {
	if _, err := s.Get(name); err != nil {
		return err
	}
	dir := filepath.Join(s.dir, name)
	// The record goes first: a removal cut short leaves no volume, only
	// a directory that List ignores and the next Create of the name
	// reports.
	if err := os.Remove(filepath.Join(dir, "volume.json")); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// Prune removes every volume for which keep is false, and returns their
// names. keep runs under the store's lock.
func (s *Store) Prune(keep func(*Volume) (bool, error)) ([]string, error) {
	l, err := s.Lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, v := range all {
		k, err := keep(v)
		if err != nil {
			return removed, err
		}
		if k {
			continue
		}
		if err := s.RemoveLocked(v.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, v.Name)
	}
	return removed, errors.Join(errs...)
}
