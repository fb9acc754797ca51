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
	"sort"
	"strings"
	"time"

	"sandbox/events"
	"sandbox/internal/atomicfile"
	"sandbox/internal/cleanup"
	"sandbox/internal/faultinject"
	"sandbox/internal/proc"
	"sandbox/internal/runflags"
	"sandbox/network"
	"sandbox/spec"
	"sandbox/storage"
	"sandbox/userns"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/types"
	"golang.org/x/sys/unix"
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
		env, err := ParseEnvFile(data, file, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		f.env = append(f.env, env...)
	}
	for _, e := range o.Env {
		kv, ok, err := ParseEnv(e, os.LookupEnv)
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

// prepare checks the options and claims a new container. A command that
// finds the claim with this process gone removes what there is of it.
func (r *Runtime) prepare(ctx context.Context, o *CreateOptions) (*prepared, error) {
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
	if p.id, err = newID(); err != nil {
		return nil, err
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
	p, err := r.prepare(ctx, o)
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
	sc, err := r.Store.CreateContainer(p.id, []string{name}, img.ID, layerIDOf(p.id), "", copts)
	if errors.Is(err, cstorage.ErrDuplicateName) {
		// The name may belong to a container that --rm is removing.
		if other, lerr := r.Store.Container(name); lerr == nil && r.awaitRemoval(ctx, other.ID) {
			sc, err = r.Store.CreateContainer(p.id, []string{name}, img.ID, layerIDOf(p.id), "", copts)
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
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(c.Dir, "config.json"), data, 0o600); err != nil {
		return nil, err
	}
	c.Config = cfg
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
		if err := r.Store.Pull(ctx, o.Image, storage.PullOptions{Progress: o.Progress}); err != nil {
			return nil, err
		}
	}
	img, err := r.Store.ResolveImage(o.Image)
	if errors.Is(err, storage.ErrNoSuchImage) && pull == PullMissing {
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

// Docker's masked and read-only paths.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// buildSpec fills cfg.Spec from the image's configuration and the flags.
func (r *Runtime) buildSpec(cfg *spec.Config, o *CreateOptions, f *flags, img *v1.ImageConfig, rootfs, runDir string, uidMap, gidMap []userns.IDMap) error {
	s := &cfg.Spec
	s.Rootfs = rootfs
	s.Network = f.netw.net.Mode
	if f.netw.join != nil {
		s.Share = o.Pod.Share
	}
	s.ReadOnly = o.ReadOnly
	s.Privileged = o.Privileged
	if !o.Privileged {
		s.MaskedPaths, s.ReadonlyPaths = f.security.Paths(maskedPaths, readonlyPaths)
	}
	s.Seccomp = f.seccomp
	if uidMap != nil {
		s.UserNS = &spec.UserNS{UIDMap: toSpecMap(uidMap), GIDMap: toSpecMap(gidMap)}
	}

	// Command: docker drops the image's Cmd when --entrypoint is given.
	entrypoint, cmd, err := entrypointOf(o, img.Entrypoint, img.Cmd)
	if err != nil {
		return err
	}
	if len(o.Command) > 0 {
		cmd = o.Command
	}
	args := append(append([]string{}, entrypoint...), cmd...)
	if len(args) == 0 {
		return fmt.Errorf("no command: the image %s has no Cmd or Entrypoint; give a command after the image", o.Image)
	}
	cfg.Command = args
	stopSignal := o.StopSignal
	if stopSignal == "" {
		stopSignal = img.StopSignal
	}
	stop := unix.SIGTERM
	if stopSignal != "" {
		sig, err := ParseSignal(stopSignal)
		if err != nil {
			return fmt.Errorf("the image's StopSignal: %w", err)
		}
		stop = sig
	}
	stopTimeout := 10
	if o.StopTimeout != nil {
		stopTimeout = *o.StopTimeout
	}
	cfg.Host = spec.HostConfig{
		Entrypoint: entrypoint, Cmd: cmd,
		Binds: o.Volumes, Mounts: o.Mounts, Tmpfs: o.Tmpfs,
		CapAdd: o.CapAdd, CapDrop: o.CapDrop, Privileged: o.Privileged, ReadOnly: o.ReadOnly,
		SecurityOpt: o.SecurityOpts,
		NetworkMode: f.netw.net.Mode, Network: f.netw.net, Ports: f.netw.ports, PublishAll: o.PublishAll,
		DNS: f.netw.names.DNS, DNSSearch: f.netw.names.DNSSearch, DNSOptions: f.netw.names.DNSOptions, ExtraHosts: f.netw.names.ExtraHosts,
		UsernsMode: o.UserNS, Interactive: o.Interactive, TTY: o.TTY,
		StopSignal: SignalName(stop), StopTimeout: stopTimeout, Restart: f.restart, Log: f.log,
		Resources: f.resources,
		Timezone:  o.Timezone, Timeout: o.Timeout, Init: o.Init,
	}

	hostname := o.Hostname
	if hostname == "" {
		hostname = cfg.ID[:12]
		if f.netw.net.Mode == spec.NetworkHost {
			if h, err := os.Hostname(); err == nil {
				hostname = h
			}
		}
	}
	s.Hostname = hostname

	// User: -u, else the image's USER, else keep-id's own ids, else root.
	userSpec := o.User
	if userSpec == "" {
		userSpec = img.User
	}
	if userSpec == "" && o.UserNS == "keep-id" {
		uid, gid := userns.HostIDs()
		userSpec = fmt.Sprintf("%d:%d", uid, gid)
	}
	// The new container's files are its image's (imageusers.go).
	passwd, group, err := r.imageUserFilesCached(cfg.ImageID, rootfs)
	if err != nil {
		return err
	}
	user, err := ResolveUser(userSpec, ParsePasswd(passwd), ParseGroup(group))
	if err != nil {
		return err
	}
	cfg.Host.User = userSpec

	env := []string{"HOSTNAME=" + hostname}
	if o.TTY {
		env = append(env, "TERM=xterm")
	}
	env = MergeEnv(env, img.Env, f.env)
	if !hasEnv(env, "PATH") {
		env = append([]string{defaultPath}, env...)
	}
	if !hasEnv(env, "HOME") {
		env = append(env, "HOME="+user.Home)
	}

	cwd := o.Workdir
	if cwd == "" {
		cwd = img.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	s.Process = spec.Process{
		Args:            withInit(o.Init, args),
		Env:             env,
		Cwd:             path.Clean(cwd),
		UID:             user.UID,
		GID:             user.GID,
		AdditionalGIDs:  user.AdditionalGIDs,
		Capabilities:    f.caps,
		Terminal:        o.TTY,
		Stdin:           o.Interactive,
		Rows:            o.Rows,
		Cols:            o.Cols,
		Rlimits:         f.rlimits,
		PreserveFDs:     int(o.PreserveFDs),
		NoNewPrivileges: f.security.NoNewPrivileges,
	}

	// A container that joins another's network sees that one's addresses.
	if j := f.netw.join; j != nil && j.cfg != nil {
		cfg.Host.Addresses = j.cfg.Host.Addresses
	} else if cfg.Host.Addresses, err = network.AddressesFor(f.netw.net); err != nil {
		return err
	}
	if err := r.writeEtcFiles(runDir, cfg); err != nil {
		return err
	}
	mounts, made, err := r.prepareVolumes(withImageVolumes(f.mounts, img.Volumes), rootfs, user.UID, user.GID, uidMap, gidMap)
	if err != nil {
		return err
	}
	f.madeVolumes = made
	s.Mounts = containerMounts(mounts, etcMounts(runDir, o.UserNS == "keep-id"), gid5Mapped(uidMap != nil))
	return nil
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// gid5Mapped reports whether the tty group (gid 5) exists in the
// container's user namespace, for the gid= option of /dev/pts.
func gid5Mapped(ownUserNS bool) bool {
	if ownUserNS {
		return true // keep-id maps every id of the keeper's namespace
	}
	_, gids, err := userns.CurrentMapping()
	if err != nil {
		return false
	}
	_, ok := userns.ToHost(gids, 5)
	return ok
}

// containerMounts is the full mount list: the standard file systems, the
// user's mounts, then the /etc files unless the user mounted over them;
// parents before children, otherwise in order.
func containerMounts(user, etc []spec.Mount, gid5 bool) []spec.Mount {
	pts := "newinstance,ptmxmode=0666,mode=0620"
	if gid5 {
		pts += ",gid=5"
	}
	ms := []spec.Mount{
		{Type: "proc", Destination: "/proc", Flags: []string{"nosuid", "noexec", "nodev"}},
		{Type: "tmpfs", Destination: "/dev", Data: "mode=755,size=65536k", Flags: []string{"nosuid", "strictatime"}},
		{Type: "devpts", Destination: "/dev/pts", Data: pts, Flags: []string{"nosuid", "noexec"}},
		{Type: "tmpfs", Destination: "/dev/shm", Data: "mode=1777,size=65536k", Flags: []string{"nosuid", "noexec", "nodev"}},
		{Type: "mqueue", Destination: "/dev/mqueue", Flags: []string{"nosuid", "noexec", "nodev"}},
		{Type: "sysfs", Destination: "/sys", ReadOnly: true, Flags: []string{"nosuid", "noexec", "nodev"}},
	}
	taken := map[string]bool{}
	for _, m := range user {
		taken[m.Destination] = true
	}
	ms = append(ms, user...)
	for _, m := range etc {
		if !taken[m.Destination] {
			ms = append(ms, m)
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return depth(ms[i].Destination) < depth(ms[j].Destination) })
	return ms
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(path.Clean(p), "/")
}
