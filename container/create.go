package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"sandbox/events"
	"sandbox/internal/atomicfile"
	"sandbox/internal/cleanup"
	"sandbox/internal/faultinject"
	"sandbox/internal/proc"
	"sandbox/internal/runflags"
	"sandbox/nsinit"
	"sandbox/removal"
	"sandbox/spec"
	"sandbox/storage"
	"sandbox/userns"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/types"
)

// Pull policies of --pull.
const (
	PullMissing = "missing"
	PullAlways  = "always"
	PullNever   = "never"
)

// CreateOptions are the flags of create and run. Zero values are docker's
// defaults.
type CreateOptions struct {
	Image string
	// Pull is --pull: PullMissing (also "" and "newer"), PullAlways or
	// PullNever, in any case.
	Pull string
	// Command replaces the image's Cmd when not empty.
	Command []string
	// Entrypoint replaces the image's Entrypoint when not nil: a program, or
	// a JSON array of strings; "" or "[]" clears it.
	Entrypoint *string
	Name       string
	Env        []string // -e KEY=VALUE or KEY
	EnvFiles   []string
	Workdir    string
	User       string
	Hostname   string
	Volumes    []string // -v
	Mounts     []string // --mount
	Tmpfs      []string
	ReadOnly   bool
	// Interactive keeps stdin open (-i); TTY allocates a terminal (-t).
	Interactive bool
	TTY         bool
	Rows, Cols  uint16
	Remove      bool
	// UserNS is "" (share the keeper's user namespace) or "keep-id".
	UserNS     string
	CapAdd     []string
	CapDrop    []string
	Privileged bool
	// SecurityOpts are --security-opt values (secopt.go).
	SecurityOpts []string
	// NetworkOptions are --network, -p, -P, --dns... (network.go).
	NetworkOptions
	Labels []string
	// Build marks a container that a build (this process) runs a RUN
	// step in (Config.BuildPid).
	Build bool
	// StopSignal ("" means the image's, else SIGTERM) and StopTimeout in
	// seconds (nil means 10) are what stop uses.
	StopSignal  string
	StopTimeout *int
	// Restart is --restart; LogOpts are --log-opt values.
	Restart string
	LogOpts []string
	// Resources are the limit flags (resources.go).
	Resources ResourceOptions
	// Ulimits are --ulimit TYPE=SOFT[:HARD] values (ulimit.go).
	Ulimits []string
	// Replace removes a container of the same name first, running or not.
	Replace bool
	// Timezone is --tz: "local" or an IANA zone name ("": the image's).
	Timezone string
	// Timeout kills the container after that many seconds (0: never).
	Timeout uint
	// Init runs a small init (catatonit) as pid 1, the command its child.
	Init bool
	// LogDriver is --log-driver: k8s-file (also ""), json-file or none.
	LogDriver string
	// PreserveFDs is --preserve-fds: the command gets this process's
	// descriptors 3..2+N (run only: create starts no monitor).
	PreserveFDs uint
	// Pulls report progress here; nil discards it.
	Progress io.Writer
	// Pod makes the container a pod's member or infra (package pod fills
	// it in; a member's Network is then container:INFRA).
	Pod PodRef
}

// PodRef is the pod a container belongs to: its ID and name; Share, the
// namespaces besides the network joined from the infra container; Infra,
// that the container is the infra itself.
type PodRef struct {
	ID, Name string
	Share    []string
	Infra    bool
}

// flags is the part of CreateOptions that needs no image: checked before
// anything is created, so bad input leaves nothing behind.
type flags struct {
	env     []string
	mounts  []spec.Mount
	caps    []string
	labels  map[string]string
	netw    *netFlags
	restart spec.RestartPolicy
	log     spec.LogConfig
	// resources are the limits asked for.
	resources spec.Resources
	// rlimits are --ulimit's, checked against this process's own.
	rlimits []spec.Rlimit
	// security is --security-opt; seccomp the filter compiled from it
	// (nil: none).
	security SecurityOptions
	seccomp  *spec.Seccomp
	// scope: the container's cgroup comes from a systemd scope made for
	// its monitor (cgroup.go).
	scope bool
	// madeVolumes are the volumes this create made, removed if it fails.
	madeVolumes []string
}

// check checks the options; with scope, the limits' controllers are
// checked by the monitor in its systemd scope rather than here. Seccomp
// programs are cached in seccompCache.
func (o *CreateOptions) check(scope bool, seccompCache string) (*flags, error) {
	f := &flags{labels: map[string]string{}, scope: scope}
	netw, err := checkNetwork(&o.NetworkOptions)
	if err != nil {
		return nil, err
	}
	f.netw = netw
	switch o.UserNS {
	case "", "keep-id":
	default:
		return nil, fmt.Errorf("invalid --userns %q: want keep-id (or leave it out)", o.UserNS)
	}
	if o.Name != "" && !validName(o.Name) {
		return nil, fmt.Errorf("invalid container name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", o.Name)
	}
	if o.Workdir != "" && !path.IsAbs(o.Workdir) {
		return nil, fmt.Errorf("invalid --workdir %q: must be an absolute path", o.Workdir)
	}
	if o.Hostname != "" && !validHostname(o.Hostname) {
		return nil, fmt.Errorf("invalid --hostname %q: want letters, digits, '-' and '.', at most 64 characters", o.Hostname)
	}
	for _, file := range o.EnvFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		env, err := spec.ParseEnvFile(data, file, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		f.env = append(f.env, env...)
	}
	for _, e := range o.Env {
		kv, ok, err := spec.ParseEnv(e, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		if ok {
			f.env = append(f.env, kv)
		}
	}
	for _, v := range o.Volumes {
		m, err := ParseVolume(v)
		if err != nil {
			return nil, err
		}
		f.mounts = append(f.mounts, m)
	}
	for _, v := range o.Mounts {
		m, err := ParseMount(v)
		if err != nil {
			return nil, err
		}
		f.mounts = append(f.mounts, m)
	}
	for _, v := range o.Tmpfs {
		m, err := ParseTmpfs(v)
		if err != nil {
			return nil, err
		}
		f.mounts = append(f.mounts, m)
	}
	if err := o.checkRunFlags(f); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, m := range f.mounts {
		if seen[m.Destination] {
			return nil, fmt.Errorf("duplicate mount point %s", m.Destination)
		}
		seen[m.Destination] = true
		if m.Type == "bind" {
			if _, err := os.Stat(m.Source); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("bind source path does not exist: %s", m.Source)
				}
				return nil, fmt.Errorf("bind source %s: %w", m.Source, err)
			}
		}
	}
	caps, err := Capabilities(o.CapAdd, o.CapDrop, o.Privileged)
	if err != nil {
		return nil, err
	}
	f.caps = caps
	if f.security, err = ParseSecurityOpts(o.SecurityOpts); err != nil {
		return nil, err
	}
	if f.seccomp, err = seccompFor(f.security, caps, o.Privileged, seccompCache); err != nil {
		return nil, err
	}
	if o.StopSignal != "" {
		if _, err := ParseSignal(o.StopSignal); err != nil {
			return nil, fmt.Errorf("--stop-signal: %w", err)
		}
	}
	if o.StopTimeout != nil && *o.StopTimeout < 0 {
		return nil, fmt.Errorf("invalid --stop-timeout %d: want seconds, 0 or more", *o.StopTimeout)
	}
	if f.restart, err = ParseRestart(o.Restart); err != nil {
		return nil, err
	}
	if o.Remove && f.restart.Name != spec.RestartNo {
		return nil, fmt.Errorf("--restart %s and --rm conflict: a removed container cannot restart", o.Restart)
	}
	if f.resources, err = resourcesFor(&o.Resources, spec.Resources{}, scope); err != nil {
		return nil, err
	}
	if f.rlimits, err = parseUlimits(o.Ulimits); err != nil {
		return nil, err
	}
	if err := checkHardLimits(f.rlimits, ownHardLimit); err != nil {
		return nil, err
	}
	for _, l := range o.Labels {
		k, v, err := ParseLabel(l)
		if err != nil {
			return nil, err
		}
		f.labels[k] = v
	}
	return f, nil
}

// ValidName reports whether n may name a container (or a pod).
func ValidName(n string) bool { return validName(n) }

func validName(n string) bool {
	for i, c := range n {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '_' && c != '.' && c != '-')) {
			return false
		}
	}
	return n != ""
}

func validHostname(h string) bool {
	if len(h) > 64 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// prepared is a container claimed but not made yet: its flags checked,
// its id chosen, its run directory naming this process as creator; its
// image found by prepareImage.
type prepared struct {
	id             string
	runDir         string
	flags          *flags
	uidMap, gidMap []userns.IDMap // a user namespace of its own, or nil
	img            *storage.Image
	imgCfg         *v1.Image
	// launch is Run's monitor, launched in runDir while the container is
	// made; nil for create. make's rollback abandons it before it removes
	// runDir, where the monitor may still be writing.
	launch *launching
}

// prepare checks the options and claims a new container, of id (a new one
// for ""). A command that finds the claim with this process gone removes
// what there is of it.
func (r *Runtime) prepare(ctx context.Context, o *CreateOptions, id string) (*prepared, error) {
	scope, planErr := r.useScope()
	f, err := o.check(scope, r.seccompCache())
	if err == nil {
		err = planErr
	} else if planErr != nil {
		err = fmt.Errorf("%w; and %v", err, planErr)
	}
	if err != nil {
		return nil, err
	}
	uidMap, gidMap, err := userNSMaps(o.UserNS)
	if err != nil {
		return nil, err
	}
	if uidMap != nil && f.netw.net.Mode != spec.NetworkHost && !f.netw.net.Own() {
		return nil, fmt.Errorf("--userns keep-id and --network %s do not go together: the other container's network belongs to another user namespace", o.Network)
	}
	if err := r.resolveJoin(ctx, f.netw); err != nil {
		return nil, err
	}
	if r.BeforeChanges != nil {
		r.BeforeChanges()
	}
	if o.Replace {
		if err := r.replace(ctx, o.Name); err != nil {
			return nil, err
		}
	}
	p := &prepared{flags: f, uidMap: uidMap, gidMap: gidMap}
	// -P publishes the image's exposed ports: the image first. Otherwise
	// Run launches the monitor before it looks for the image.
	if o.PublishAll {
		if err := r.prepareImage(ctx, o, p); err != nil {
			return nil, err
		}
	} else if err := preparePorts(f.netw, false, nil); err != nil {
		return nil, err
	}
	if p.id = id; p.id == "" {
		if p.id, err = newID(); err != nil {
			return nil, err
		}
	}
	p.runDir = r.runDir(p.id)
	if err := r.claim(p.runDir); err != nil {
		return nil, err
	}
	if err := r.attachNetworks(p, o); err != nil {
		return nil, unclaim(p.runDir, err)
	}
	faultinject.Step(faultinject.CreateClaimed)
	return p, nil
}

// prepareImage finds p's image (pulling it if need be) and its
// configuration; with -P, it publishes the image's exposed ports.
func (r *Runtime) prepareImage(ctx context.Context, o *CreateOptions, p *prepared) error {
	if p.img != nil {
		return nil
	}
	if err := r.openStore(); err != nil {
		return err
	}
	img, err := r.image(ctx, o)
	if err != nil {
		return err
	}
	imgCfg, err := r.Store.ImageConfig(ctx, img.ID)
	if err != nil {
		return err
	}
	if o.PublishAll {
		if err := preparePorts(p.flags.netw, true, &imgCfg.Config); err != nil {
			return err
		}
	}
	p.img, p.imgCfg = img, imgCfg
	return nil
}

// Create makes a container: its layer in storage, mounted, and its
// configuration written, in state "creating" (owned by this process) until
// the caller marks it created or starts it. On error nothing is left.
func (r *Runtime) Create(ctx context.Context, o *CreateOptions) (*Container, error) {
	p, err := r.prepare(ctx, o, "")
	if err != nil {
		return nil, err
	}
	if err := r.prepareImage(ctx, o, p); err != nil {
		return nil, r.unclaimPrepared(p, err)
	}
	return r.make(ctx, o, p)
}

// make creates the prepared container in storage. On error it removes
// what it made and the claim.
func (r *Runtime) make(ctx context.Context, o *CreateOptions, p *prepared) (c *Container, retErr error) {
	defer func() {
		if retErr != nil {
			if p.launch != nil {
				retErr = p.launch.abandon(retErr)
			}
			if err := r.deleteStorage(p.id, true); err != nil {
				retErr = fmt.Errorf("%w (and removing the half-created container: %v)", retErr, err)
			}
			if err := r.removeVolumes(p.flags.madeVolumes); err != nil {
				retErr = fmt.Errorf("%w (and removing the volumes it made: %v)", retErr, err)
			}
		}
	}()
	img, imgCfg := p.img, p.imgCfg
	name := o.Name
	if name == "" {
		var err error
		if name, err = r.freeName(); err != nil {
			return nil, err
		}
		// Its networks learn it now (they were joined before it had one).
		p.flags.netw.net.MemberName = name
		if err := r.nameOnNetworks(p.flags.netw.net, p.id, name); err != nil {
			return nil, err
		}
	}
	// A --rm container's records and upper layer need not survive a crash:
	// written without fsync, mounted with overlay's volatile option.
	copts := &cstorage.ContainerOptions{Volatile: o.Remove}
	if p.uidMap != nil {
		copts.IDMappingOptions = types.IDMappingOptions{UIDMap: toIDTools(p.uidMap), GIDMap: toIDTools(p.gidMap)}
	}
	// The layer's id follows from the container's (layerIDOf): a create
	// killed between the layer and the container record leaves a layer
	// that the claim names, and that the next command removes with the
	// claim (reapRunDirs).
	sc, err := r.Store.CreateContainer(p.id, []string{name}, img.ID, removal.LayerID(p.id), "", copts)
	if errors.Is(err, cstorage.ErrDuplicateName) {
		// The name may belong to a container that --rm is removing, or
		// that it removed since.
		other, lerr := r.Store.Container(name)
		if errors.Is(lerr, cstorage.ErrContainerUnknown) || lerr == nil && r.awaitRemoval(ctx, other.ID) {
			sc, err = r.Store.CreateContainer(p.id, []string{name}, img.ID, removal.LayerID(p.id), "", copts)
		}
	}
	if errors.Is(err, cstorage.ErrDuplicateName) {
		other, _ := r.Lookup(name)
		if other != nil {
			return nil, fmt.Errorf("%w: the container name %q is already in use by %.12s: remove or rename that container first", ErrNameInUse, name, other.ID)
		}
		return nil, fmt.Errorf("%w: %q", ErrNameInUse, name)
	}
	if err != nil {
		return nil, fmt.Errorf("create container: %w", err)
	}
	faultinject.Step(faultinject.CreateStored)
	c, err = r.load(sc)
	if err != nil {
		return nil, err
	}
	rootfs, err := r.Store.Mount(p.id, "")
	if err != nil {
		return nil, fmt.Errorf("mount container root filesystem: %w", err)
	}
	faultinject.Step(faultinject.CreateMounted)
	cfg := &spec.Config{
		ID:      p.id,
		Name:    name,
		Created: time.Now().UTC(),
		Image:   o.Image,
		ImageID: img.ID,
		Labels:  mergeLabels(imgCfg.Config.Labels, p.flags.labels),
		Remove:  o.Remove,
		Storage: r.storageRef(),
		Pod:     o.Pod.ID,
		PodName: o.Pod.Name,
		Infra:   o.Pod.Infra,
	}
	if o.Build {
		if cfg.BuildPid, cfg.BuildStart, err = buildOwner(); err != nil {
			return nil, err
		}
	}
	if err := r.buildSpec(cfg, o, p.flags, &imgCfg.Config, rootfs, c.RunDir, p.uidMap, p.gidMap); err != nil {
		return nil, err
	}
	// The init, waiting for the go-ahead, makes the mount points it can
	// while this process writes the configuration files and the
	// configuration (nsinit.Prepare): its part is the longer one.
	if p.launch != nil {
		if mon, err := p.launch.wait(); err == nil {
			mon.Prepare(nsinit.Prepare{Rootfs: rootfs, Mounts: nsinit.PrepareMounts(cfg.Spec.Mounts)})
		}
	}
	if err := r.writeEtcFiles(c.RunDir, cfg); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(c.Dir, "config.json")
	if err := atomicfile.Write(configPath, data, 0o600); err != nil {
		return nil, err
	}
	c.Config = cfg
	// exec finds it from the run root by these (spec.FindRunning).
	if err := spec.LinkContainer(r.RunDirs(), c.ID, name, configPath); err != nil {
		return nil, err
	}
	faultinject.Step(faultinject.CreateConfigured)
	if err := r.namePodOnNetworks(p.flags.netw.join); err != nil {
		return nil, err
	}
	r.record(c, events.Create)
	return c, nil
}

// claim makes a container's run directory, already holding a state that
// names this process as its creator: the directory is filled under a
// temporary name (which says who made it) and renamed into place.
func (r *Runtime) claim(runDir string) (retErr error) {
	self, err := proc.StartTime(os.Getpid())
	if err != nil {
		return err
	}
	parent := filepath.Dir(runDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("container run directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, fmt.Sprintf(".new-%d-%d-", os.Getpid(), self))
	if err != nil {
		return fmt.Errorf("container run directory: %w", err)
	}
	undo := cleanup.Make(func() {
		if err := os.RemoveAll(tmp); err != nil {
			retErr = fmt.Errorf("%w (and removing %s: %v)", retErr, tmp, err)
		}
	})
	defer undo.Clean()
	st := &spec.State{Status: statusCreating, MonitorPid: os.Getpid(), MonitorStart: self}
	if err := spec.WriteState(tmp, st); err != nil {
		return err
	}
	if err := os.Rename(tmp, runDir); err != nil {
		return fmt.Errorf("container run directory: %w", err)
	}
	undo.Release()
	return nil
}

// unclaim gives up a claim that no container was made of, adding to err
// what went wrong with that.
func unclaim(runDir string, err error) error {
	if rerr := os.RemoveAll(runDir); rerr != nil {
		return fmt.Errorf("%w (and removing %s: %v)", err, runDir, rerr)
	}
	return err
}

// statusCreating is a container whose creating command (MonitorPid) has not
// finished yet; it is never shown.
const statusCreating = "creating"

// MarkCreated ends the creating state of a container made by create.
func (r *Runtime) MarkCreated(c *Container) error {
	return spec.UpdateState(c.RunDir, func(s *spec.State) error {
		*s = spec.State{Status: spec.StatusCreated}
		return nil
	})
}

// image finds the image of o, pulling it as the pull policy says.
func (r *Runtime) image(ctx context.Context, o *CreateOptions) (*storage.Image, error) {
	pull, err := runflags.ParsePull(o.Pull)
	if err != nil {
		return nil, err
	}
	if pull == PullAlways {
		r.beforePull()
		if err := r.Store.Pull(ctx, o.Image, storage.PullOptions{Progress: o.Progress}); err != nil {
			return nil, err
		}
	}
	img, err := r.Store.ResolveImage(o.Image)
	if errors.Is(err, storage.ErrNoSuchImage) && pull == PullMissing {
		r.beforePull()
		if err := r.Store.Pull(ctx, o.Image, storage.PullOptions{Progress: o.Progress}); err != nil {
			return nil, err
		}
		img, err = r.Store.ResolveImage(o.Image)
	}
	if errors.Is(err, storage.ErrNoSuchImage) && pull == PullNever {
		return nil, fmt.Errorf("%w (and --pull=never)", err)
	}
	return img, err
}

func (r *Runtime) beforePull() {
	if r.BeforePull != nil {
		r.BeforePull()
	}
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("container id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func mergeLabels(image, flags map[string]string) map[string]string {
	if len(image) == 0 && len(flags) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range image {
		out[k] = v
	}
	for k, v := range flags {
		out[k] = v
	}
	return out
}
