// Package storage owns images and container root filesystems, kept by
// containers/storage (go.podman.io/storage): which driver (native overlay in
// the user namespace, fuse-overlayfs, vfs) and where, image lookup and
// configuration, and container layers and their mounts. It runs inside the
// keeper's namespaces (package userns). Moving images in and out of the
// store (pull, push, load, save, import) is in storage/transfer, which only
// the image helper binary links: its dependencies cost tens of milliseconds
// at every process start.
package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"

	"sandbox/events"

	jsoniter "github.com/json-iterator/go"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/lockfile"
	"go.podman.io/storage/types"
)

// Driver names accepted by --storage-driver.
const (
	DriverOverlay = "overlay"        // native overlay, mounted with userxattr
	DriverFuse    = "fuse-overlayfs" // overlay through the fuse-overlayfs program
	DriverVFS     = "vfs"            // full copies, works everywhere
)

// Options say where storage lives and how. Zero values mean the defaults.
type Options struct {
	// GraphRoot holds layers, images and containers. Default:
	// $XDG_DATA_HOME/sandbox/storage (~/.local/share/sandbox/storage).
	GraphRoot string `json:"graphRoot"`
	// RunRoot holds what a reboot should forget (mount counts, container
	// runtime state). Default: the runtime directory's storage/.
	RunRoot string `json:"runRoot"`
	// Driver is one of the Driver* names; "" picks the one recorded in the
	// graph root, or else the first that works.
	Driver string `json:"driver,omitempty"`
	// SingleID says the user namespace maps one id only: ownership changes
	// that cannot be represented are ignored instead of failing.
	SingleID bool `json:"singleID,omitempty"`
}

// Store is an open containers/storage store and how it was opened.
type Store struct {
	cstorage.Store
	Options Options
	// DriverName is the driver in use (one of the Driver* names).
	DriverName string
	// Events is the events journal that image operations are recorded
	// in; the zero Journal records nothing.
	Events events.Journal
}

// DefaultGraphRoot is $XDG_DATA_HOME/sandbox/storage.
func DefaultGraphRoot(home string) string {
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" || !filepath.IsAbs(data) {
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "sandbox", "storage")
}

// driverRecord is graphroot/sandbox-driver.json: the driver a store was
// created with, so later commands never mix layers of two drivers.
type driverRecord struct {
	Driver string `json:"driver"`
}

func recordPath(graphRoot string) string { return filepath.Join(graphRoot, "sandbox-driver.json") }

// Open opens (creating if needed) the store described by opts.
func Open(opts Options) (*Store, error) {
	if opts.GraphRoot == "" || opts.RunRoot == "" {
		return nil, errors.New("storage: graph root and run root must be set")
	}
	switch opts.Driver {
	case "", DriverOverlay, DriverFuse, DriverVFS:
	default:
		return nil, fmt.Errorf("unknown storage driver %q: want %s, %s or %s", opts.Driver, DriverOverlay, DriverFuse, DriverVFS)
	}
	if err := os.MkdirAll(opts.GraphRoot, 0o700); err != nil {
		return nil, fmt.Errorf("create graph root: %w", err)
	}
	recorded, err := readRecord(opts.GraphRoot)
	if err != nil {
		return nil, err
	}
	if recorded != "" {
		if opts.Driver != "" && opts.Driver != recorded {
			return nil, fmt.Errorf("storage driver %q: %s was created with %q; use --storage-driver %s or another --root", opts.Driver, opts.GraphRoot, recorded, recorded)
		}
		return openWith(opts, recorded)
	}
	candidates := []string{opts.Driver}
	if opts.Driver == "" {
		candidates = []string{DriverOverlay, DriverFuse, DriverVFS}
	}
	var errs []error
	for _, name := range candidates {
		s, err := openWith(opts, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		data, _ := json.Marshal(driverRecord{Driver: name})
		if err := os.WriteFile(recordPath(opts.GraphRoot), data, 0o600); err != nil {
			return nil, fmt.Errorf("record storage driver: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("no storage driver works in %s: %w", opts.GraphRoot, errors.Join(errs...))
}

// RecordedDriver is the driver the store at graphRoot was created with,
// read without opening the store; "" when there is no store there yet.
func RecordedDriver(graphRoot string) (string, error) { return readRecord(graphRoot) }

func readRecord(graphRoot string) (string, error) {
	data, err := os.ReadFile(recordPath(graphRoot))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read storage driver record: %w", err)
	}
	var r driverRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("storage driver record %s: %w", recordPath(graphRoot), err)
	}
	return r.Driver, nil
}

// containers/storage reads its own defaults on every GetStore, whatever
// the options (types.DefaultStoreOptions): the system's and the user's
// storage.conf, podman's, found along a search path and decoded as TOML.
// Sandbox gives the store every option it uses (--root, --runroot,
// --storage-driver) and takes none from there; with storageConfEnv
// naming an empty file (and no override file named beside it), the
// search and the decoding go (about half a millisecond of each command
// that opens the store, where a process start is slow), and a
// storage.conf of podman's that does not parse no longer stops sandbox.
const (
	storageConfEnv = "CONTAINERS_STORAGE_CONF"
	storageConf    = os.DevNull
)

func openWith(opts Options, name string) (*Store, error) {
	so := types.StoreOptions{
		GraphRoot:       opts.GraphRoot,
		RunRoot:         opts.RunRoot,
		GraphDriverName: name,
	}
	prefix := name
	switch name {
	case DriverFuse:
		prog, err := osexec.LookPath("fuse-overlayfs")
		if err != nil {
			return nil, fmt.Errorf("fuse-overlayfs not found: install the fuse-overlayfs package (apt-get install fuse-overlayfs)")
		}
		so.GraphDriverName, prefix = DriverOverlay, DriverOverlay
		so.GraphDriverOptions = append(so.GraphDriverOptions, "overlay.mount_program="+prog)
	case DriverOverlay:
		so.GraphDriverOptions = append(so.GraphDriverOptions, "overlay.mountopt=nodev")
	}
	if opts.SingleID {
		so.GraphDriverOptions = append(so.GraphDriverOptions, prefix+".ignore_chown_errors=true")
	}
	if name == DriverFuse {
		if err := cleanStaleProbes(opts.GraphRoot, opts.RunRoot); err != nil {
			return nil, err
		}
	}
	if err := os.Setenv(storageConfEnv, storageConf); err != nil {
		return nil, fmt.Errorf("set %s: %w", storageConfEnv, err)
	}
	if err := os.Unsetenv(storageConfEnv + "_OVERRIDE"); err != nil {
		return nil, fmt.Errorf("unset %s_OVERRIDE: %w", storageConfEnv, err)
	}
	s, err := cstorage.GetStore(so)
	if err != nil {
		return nil, err
	}
	if name == DriverOverlay && usesMountProgram(opts.GraphRoot) {
		// containers/storage falls back to fuse-overlayfs by itself when
		// native overlay fails; sandbox names that driver itself.
		if _, err := s.Shutdown(true); err != nil {
			return nil, fmt.Errorf("native overlay is not supported here, and closing the store failed: %w", err)
		}
		return nil, fmt.Errorf("native overlay is not supported here: %w", errNativeOverlay)
	}
	st := &Store{Store: s, Options: opts, DriverName: name, Events: events.Journal{Path: events.DefaultPath(opts.RunRoot)}}
	if name == DriverOverlay {
		if err := st.settleProbes(); err != nil {
			if _, serr := s.Shutdown(false); serr != nil {
				err = fmt.Errorf("%w (and closing the store: %v)", err, serr)
			}
			return nil, err
		}
	}
	st.EnsureReserve()
	return st, nil
}

var errNativeOverlay = errors.New("the kernel refused an overlay mount in the user namespace")

// usesMountProgram reads containers/storage's record of whether its
// overlay driver mounts through a program (fuse-overlayfs).
func usesMountProgram(graphRoot string) bool {
	data, err := os.ReadFile(filepath.Join(graphRoot, "overlay", ".has-mount-program"))
	return err == nil && strings.TrimSpace(string(data)) == "true"
}

// Status reports the driver's own key/value status (backing filesystem,
// d_type support, ...), for info. The overlay driver's status may run its
// volatile probe, which must hold the graph lock (settleProbes).
func (s *Store) Status() ([][2]string, error) {
	d, err := s.GraphDriver()
	if err != nil {
		return nil, err
	}
	lock, err := lockfile.GetLockFile(filepath.Join(s.GraphRoot(), "storage.lock"))
	if err != nil {
		return nil, fmt.Errorf("open the store's graph lock: %w", err)
	}
	lock.Lock()
	defer lock.Unlock()
	return d.Status(), nil
}

// ContainerDataDir is the directory that ContainerDirectory returns for
// the container with the full id, as containers/storage lays its graph
// root out (DRIVER-containers/ID/userdata), without the containers' lock
// that ContainerDirectory takes and the look-up it makes: for reading
// many containers' files at once (ps), where a file that is not there
// sends the reader back to ContainerDirectory. Nothing is created.
func (s *Store) ContainerDataDir(id string) string {
	return filepath.Join(s.GraphRoot(), s.GraphDriverName()+"-containers", id, "userdata")
}

// Warm does ahead what containers/storage does first when a container is
// made, for a caller that has other work meanwhile (run, on a goroutine of
// its own once the store is open): it reads the layer store's records,
// which containers/storage reads at the first use of a layer and not when
// the store opens, and builds json-iterator's encoders of the layer and
// container records, which it builds by reflection at the first encoding
// of each type and reuses after. Both were on the way to a container's
// start, in its creation. A failure is met again, and told, by the use
// that would have met it first.
func (s *Store) Warm() {
	_, _ = s.Store.Layers()
	// The types containers/storage encodes (layers.json, containers.json),
	// with the configuration it uses.
	_, _ = jsoniter.ConfigCompatibleWithStandardLibrary.Marshal(&[]*cstorage.Layer{})
	_, _ = jsoniter.ConfigCompatibleWithStandardLibrary.Marshal(&[]*cstorage.Container{})
}
