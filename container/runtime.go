// Package container drives containers from the command line's side: it
// turns the options of create and run into a configuration (image config,
// flags, user, mounts, capabilities), creates the container's layer in
// storage, starts its monitor (package monitor) and attaches to it, and
// lists, inspects and removes containers, reconciling what a killed
// command or monitor left behind.
//
// What runs beside and inside the container (the monitor and the init) is
// in the subpackages monitor and nsinit, with the types they share in spec;
// they must not import this package, which depends on storage.
package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sandbox/cgroupv2/systemd"
	"sandbox/events"
	"sandbox/internal/helperpath"
	"sandbox/network/usernet"
	"sandbox/spec"
	"sandbox/storage"

	cstorage "go.podman.io/storage"
)

// Errors callers test for.
var (
	ErrNoSuchContainer = errors.New("no such container")
	ErrAmbiguous       = errors.New("ambiguous container id")
	ErrNameInUse       = errors.New("container name in use")
	ErrRunning         = errors.New("container is running")
)

// Runtime is the command line's handle on containers: an open store and
// the helper binaries.
type Runtime struct {
	// Store is the open store; for a runtime from NewOpening, nil until
	// Run opens it.
	Store *storage.Store
	// open opens Store, for NewOpening; runRoot is the store's run root,
	// known before it is open: the parent of the containers' run
	// directories (runDir).
	open    func() (*storage.Store, error)
	runRoot string
	// opening, once openStoreAhead has started opening the store in the
	// background, is closed when opened and openErr are set.
	opening chan struct{}
	opened  *storage.Store
	openErr error
	// warmed, once openStoreAhead has started, is closed when the store
	// opened has been warmed (storage.Store.Warm), or was not opened.
	warmed chan struct{}
	// Monitor is the sandbox-monitor binary; Self the sandbox binary (the
	// user-mode network's helper runs it); Cleaner the sandbox-cleanup
	// binary that a monitor becomes once its container has exited.
	Monitor string
	Self    string
	Cleaner string
	// CgroupManager is --cgroup-manager: how containers' cgroups are
	// found (cgroup.go); "" is auto.
	CgroupManager systemd.Manager
	// Version is sandbox's version, for the engine key of a privileged
	// container's /run/.containerenv.
	Version string
	// Events is the events journal (package events), in the run root; the
	// zero Journal records nothing (--events-backend=none).
	Events events.Journal
	// Networks are the user-defined networks' records (package
	// network/usernet); a zero Dir has none.
	Networks usernet.Store
	// RemovesOnReturn: the caller of an attached Run of a --rm container
	// calls RemoveHandedOff once it has the exit status, so the monitor
	// hands it the removal instead of starting a cleanup command. Unset
	// (a caller that does not), the monitor removes the container.
	RemovesOnReturn bool
	// BeforeChanges, when set, is waited for before Create or Run changes
	// anything (a --replace's removal, the claim of the run directory):
	// the caller's signal handlers, which it sets up meanwhile.
	BeforeChanges func()
	// BeforePull, when set, is called before Create or Run pulls an
	// image: the caller's turn to start a container (package prerun) is
	// not held while the network is waited on.
	BeforePull func()
}

// New returns a runtime over an open store.
func New(store *storage.Store) (*Runtime, error) {
	r, err := newRuntime(store.RunRoot())
	if err != nil {
		return nil, err
	}
	r.Store = store
	return r, nil
}

// NewOpening returns a runtime over the store whose run root is runRoot,
// which open starts opening in the background: the caller's work before
// Run (signal handlers), Run's checking of the flags, its claim and the
// launch of the container's monitor overlap the opening; Run waits for it
// where it needs the store. Run is the only method to call on it; it
// leaves the store open, or (failing before it needed the store) waits
// for the opening to end.
func NewOpening(runRoot string, open func() (*storage.Store, error)) (*Runtime, error) {
	r, err := newRuntime(runRoot)
	if err != nil {
		return nil, err
	}
	r.open = open
	r.openStoreAhead()
	return r, nil
}

// NewLazy returns a runtime over the store whose run root is runRoot,
// which open opens when a method first needs it: for exec, which finds a
// running container from the run root alone (spec.FindRunning) and needs
// the store only when that fails. Exec is the only method to call on it.
func NewLazy(runRoot string, open func() (*storage.Store, error)) (*Runtime, error) {
	r, err := newRuntime(runRoot)
	if err != nil {
		return nil, err
	}
	r.open = open
	return r, nil
}

func newRuntime(runRoot string) (*Runtime, error) {
	mon, err := helperpath.Find("sandbox-monitor")
	if err != nil {
		return nil, err
	}
	cleaner, err := helperpath.Find("sandbox-cleanup")
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	return &Runtime{Monitor: mon, Self: self, Cleaner: cleaner, runRoot: runRoot, Events: events.Journal{Path: events.DefaultPath(runRoot)}}, nil
}

// openStoreAhead starts opening the store of a runtime from NewOpening in
// the background; openStore waits for it.
func (r *Runtime) openStoreAhead() {
	if r.Store != nil || r.opening != nil || r.open == nil {
		return
	}
	done, warmed := make(chan struct{}), make(chan struct{})
	r.opening, r.warmed = done, warmed
	go func() {
		defer close(warmed)
		s, err := r.open()
		r.opened, r.openErr = s, err
		close(done)
		if err == nil {
			// While the caller looks for the image, so that making
			// the container finds it done.
			s.Warm()
		}
	}()
}

// settleStore waits for an opening that nothing waited for, and for the
// warming that follows it, so that a command that fails early does not
// exit half-way through either; the store opened is used no more.
func (r *Runtime) settleStore() {
	if r.opening != nil {
		<-r.opening
	}
	if r.warmed != nil {
		<-r.warmed
	}
}

// openStore opens the store of a runtime from NewOpening, once: the
// opening started by openStoreAhead, or a new one (after a failed one
// too).
func (r *Runtime) openStore() error {
	if r.Store != nil {
		return nil
	}
	var (
		s   *storage.Store
		err error
	)
	if r.opening != nil {
		<-r.opening
		s, err = r.opened, r.openErr
		r.opening, r.opened, r.openErr = nil, nil, nil
	} else {
		s, err = r.open()
	}
	if err != nil {
		return err
	}
	if s.RunRoot() != r.runRoot {
		return fmt.Errorf("the store opened has run root %s, not %s", s.RunRoot(), r.runRoot)
	}
	r.Store = s
	return nil
}

// Container is a container as found in storage, with its configuration.
type Container struct {
	*cstorage.Container
	Config *spec.Config
	// RunDir holds state.json and the lock; Dir holds config.json and logs.
	RunDir string
	Dir    string
}

// Name is the container's name.
func (c *Container) Name() string {
	if len(c.Names) > 0 {
		return c.Names[0]
	}
	return ""
}

// Lookup finds a container by full id, name, or unique id prefix.
func (r *Runtime) Lookup(ref string) (*Container, error) {
	all, err := r.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var match *cstorage.Container
	for i := range all {
		c := &all[i]
		if c.ID == ref {
			match = c
			break
		}
		for _, n := range c.Names {
			if n == ref {
				match = c
			}
		}
	}
	if match == nil && ref != "" {
		for i := range all {
			if strings.HasPrefix(all[i].ID, ref) {
				if match != nil {
					return nil, fmt.Errorf("%w %q: it matches %.12s and %.12s; give more of the id", ErrAmbiguous, ref, match.ID, all[i].ID)
				}
				match = &all[i]
			}
		}
	}
	if match == nil {
		return nil, noSuchContainer(ref)
	}
	return r.load(match)
}

// noSuchContainer is the error for a name or id that names no container,
// in podman's words, which scripts match on.
func noSuchContainer(ref string) error {
	return fmt.Errorf("no container with name or ID %q found: %w", ref, ErrNoSuchContainer)
}

func (r *Runtime) load(c *cstorage.Container) (*Container, error) {
	return r.loadWith(c, readConfig)
}

// loadHead is load without the configuration's runtime spec (Config.Spec
// is zero): what ps shows, and what State needs. The directory is named
// from the store's layout, without the store's lock; a configuration not
// found there (a container being created or removed) is looked for as
// load does, which tells a container that is gone. buf is the buffer
// the file is read into, kept from one container to the next.
func (r *Runtime) loadHead(c *cstorage.Container, buf *[]byte) (*Container, error) {
	dir := r.Store.ContainerDataDir(c.ID)
	read := func(path string) (*spec.Config, error) { return readConfigHead(path, buf) }
	cfg, err := read(filepath.Join(dir, "config.json"))
	if err != nil {
		return r.loadWith(c, read)
	}
	return &Container{Container: c, Dir: dir, RunDir: r.runDir(c.ID), Config: cfg}, nil
}

func (r *Runtime) loadWith(c *cstorage.Container, read func(string) (*spec.Config, error)) (*Container, error) {
	dir, err := r.Store.ContainerDirectory(c.ID)
	if errors.Is(err, cstorage.ErrContainerUnknown) {
		return nil, fmt.Errorf("%w: %.12s: %w", ErrNoSuchContainer, c.ID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("container %.12s directory: %w", c.ID, err)
	}
	out := &Container{Container: c, Dir: dir, RunDir: r.runDir(c.ID)}
	cfg, err := read(filepath.Join(dir, "config.json"))
	if err == nil {
		out.Config = cfg
	}
	// A container without config was never fully created: Reconcile
	// decides what to do with it.
	return out, nil
}

// runDir is a container's runtime directory (state.json, lock, monitor
// log): sandbox's own, beside containers/storage's in the run root, so that
// it can exist before the container does.
func (r *Runtime) runDir(id string) string {
	return filepath.Join(r.RunDirs(), id)
}

// RunDirs is the directory of the containers' run directories, each
// named by its container's id (spec.RunDirsIn).
func (r *Runtime) RunDirs() string { return spec.RunDirsIn(r.runRoot) }

// storageRef is how cleanup reopens this store.
func (r *Runtime) storageRef() spec.StorageRef {
	o := r.Store.Options
	return spec.StorageRef{GraphRoot: o.GraphRoot, RunRoot: o.RunRoot, Driver: r.Store.DriverName}
}

// GlobalArgs are the sandbox flags that select a store.
func GlobalArgs(s spec.StorageRef) []string {
	return []string{"--root", s.GraphRoot, "--runroot", s.RunRoot, "--storage-driver", s.Driver}
}
