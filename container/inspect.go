package container

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sandbox/network"
	"sandbox/spec"
)

// The documents of inspect. Their field names are docker's JSON keys, so
// that --format templates such as {{.State.Status}} work unchanged.

// Inspect is a container as docker's inspect shows it.
type Inspect struct {
	Id      string
	Created string
	Path    string
	Args    []string
	State   InspectState
	Image   string
	// ImageName is the image as the container was made from, with its
	// tag; ImageDigest its manifest's digest (podman's fields).
	ImageName       string
	ImageDigest     string
	Rootfs          string
	ResolvConfPath  string
	HostnamePath    string
	HostsPath       string
	LogPath         string
	Name            string
	RestartCount    int
	Driver          string
	Platform        string
	MountLabel      string
	ProcessLabel    string
	AppArmorProfile string
	// EffectiveCaps and BoundingCaps are the command's capabilities, as
	// podman shows them (none effective for a user other than root).
	EffectiveCaps []string
	BoundingCaps  []string
	// Seccomp is the container's syscall filter.
	Seccomp         InspectSeccomp
	HostConfig      InspectHostConfig
	GraphDriver     GraphDriver
	Mounts          []InspectMount
	Config          InspectConfig
	NetworkSettings NetworkSettings
	// ExecIDs: sandbox keeps no exec sessions, so always empty.
	ExecIDs []string
}

// ID is podman's template name of Id.
func (in *Inspect) ID() string { return in.Id }

// InspectState is a container's state. StartedAt and FinishedAt are RFC
// 3339 times, 0001-01-01T00:00:00Z when it never started or finished.
type InspectState struct {
	Status     string
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	// MonitorPid is the container's monitor while it runs (podman's
	// ConmonPid).
	MonitorPid int
	ExitCode   int
	Error      string
	StartedAt  string
	FinishedAt string
	// CgroupPath is the container's own cgroup while it runs, as podman
	// shows it ("" without one).
	CgroupPath string
}

// InspectSeccomp is a container's syscall filter: Profile is "default"
// (docker's), the path of a custom profile, or "unconfined"; Digest
// identifies the profile as conditioned on the container's capabilities.
type InspectSeccomp struct {
	Profile string
	Digest  string
}

// InspectHostConfig is how the container was asked to run.
type InspectHostConfig struct {
	Binds          []string
	NetworkMode    string
	RestartPolicy  RestartPolicy
	AutoRemove     bool
	CapAdd         []string
	CapDrop        []string
	Privileged     bool
	ReadonlyRootfs bool
	// SecurityOpt are the --security-opt values as given; MaskedPaths and
	// ReadonlyPaths what took effect.
	SecurityOpt   []string
	MaskedPaths   []string
	ReadonlyPaths []string
	// Tmpfs maps each --tmpfs destination to its options.
	Tmpfs      map[string]string
	UsernsMode string
	LogConfig  LogConfig
	InspectResources
}

// RestartPolicy is --restart.
type RestartPolicy struct {
	Name              string
	MaximumRetryCount int
}

// LogConfig is the log driver and its --log-opt values.
type LogConfig struct {
	Type   string
	Config map[string]string
	// Path is --log-opt path= ("" when not given), as podman shows it.
	Path string
}

// GraphDriver is the storage driver and the container layer's
// directories (for overlay: MergedDir, UpperDir, WorkDir, LowerDir).
type GraphDriver struct {
	Name string
	Data map[string]string
}

// InspectMount is one of the user's volumes, mounts and tmpfs.
type InspectMount struct {
	Type string
	// Name and Driver are a volume's (Type volume).
	Name        string `json:",omitempty"`
	Source      string
	Destination string
	Driver      string `json:",omitempty"`
	Mode        string
	RW          bool
	Propagation string
}

// InspectConfig is the container's configuration as docker shows it.
type InspectConfig struct {
	Hostname     string
	Domainname   string
	User         string
	AttachStdin  bool
	AttachStdout bool
	AttachStderr bool
	Tty          bool
	OpenStdin    bool
	StdinOnce    bool
	Env          []string
	Cmd          []string
	Image        string
	Volumes      map[string]struct{}
	WorkingDir   string
	Entrypoint   []string
	Labels       map[string]string
	StopSignal   string
	StopTimeout  *int
}

// NetworkSettings are the container's address and published ports.
type NetworkSettings struct {
	Ports     map[string][]PortBinding
	IPAddress string
	Gateway   string
	// Networks are the user-defined networks the container is on, by
	// name, in docker's shape.
	Networks map[string]EndpointSettings `json:",omitempty"`
}

// EndpointSettings are a container's place on a user-defined network.
type EndpointSettings struct {
	NetworkID   string
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	Aliases     []string
}

// endpoints are docker's NetworkSettings.Networks of attachments.
func endpoints(atts []spec.Attachment) map[string]EndpointSettings {
	if len(atts) == 0 {
		return nil
	}
	out := map[string]EndpointSettings{}
	for _, a := range atts {
		bits := 0
		if p, err := netip.ParsePrefix(a.Subnet); err == nil {
			bits = p.Bits()
		}
		out[a.Network] = EndpointSettings{NetworkID: a.ID, IPAddress: a.IP, IPPrefixLen: bits, Gateway: a.Gateway, Aliases: a.Aliases}
	}
	return out
}

// portBindings groups published ports as docker does: "80/tcp" → bindings.
func portBindings(ports []network.Port) map[string][]PortBinding {
	out := map[string][]PortBinding{}
	for _, p := range ports {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		out[key] = append(out[key], PortBinding{HostIp: ip, HostPort: strconv.Itoa(int(p.HostPort))})
	}
	return out
}

// PortBinding is a published port on the host.
type PortBinding struct {
	HostIp   string
	HostPort string
}

// InspectContainer builds the inspect document of a container from its
// config.json, its reconciled state and storage.
func (r *Runtime) InspectContainer(ctx context.Context, ref string) (*Inspect, error) {
	c, st, err := r.lookupState(ref)
	if err != nil {
		return nil, err
	}
	if c.Config == nil {
		return nil, fmt.Errorf("%w: %s has no configuration", ErrNoSuchContainer, ref)
	}
	cfg := c.Config
	img, err := r.Store.ImageConfig(ctx, cfg.ImageID)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", ref, err)
	}
	graph, err := r.Store.LayerDirs(c.LayerID)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", ref, err)
	}
	mounts, err := inspectMounts(cfg)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", ref, err)
	}
	in := buildInspect(c, st)
	in.Driver = r.Store.DriverName
	in.GraphDriver = GraphDriver{Name: r.Store.DriverName, Data: graph}
	in.Mounts = mounts
	if i, err := r.Store.Image(cfg.ImageID); err == nil {
		in.ImageDigest = i.Digest.String()
	}
	if len(img.Config.Volumes) > 0 {
		in.Config.Volumes = img.Config.Volumes
	}
	return in, nil
}

// buildInspect is the part of the document that config.json and state.json
// give.
func buildInspect(c *Container, st *spec.State) *Inspect {
	cfg, h := c.Config, c.Config.Host
	running := up(st) || st.Status == spec.StatusRestarting
	in := &Inspect{
		Id:      c.ID,
		Created: rfc3339(cfg.Created),
		Path:    "",
		Args:    []string{},
		State: InspectState{
			Status:     st.Status,
			Running:    running,
			Restarting: st.Status == spec.StatusRestarting,
			Paused:     st.Status == spec.StatusPaused,
			OOMKilled:  st.OOMKilled,
			ExitCode:   st.ExitCode,
			Error:      st.Error,
			StartedAt:  rfc3339(st.StartedAt),
			FinishedAt: rfc3339(st.FinishedAt),
		},
		Image:          "sha256:" + cfg.ImageID,
		ImageName:      withTag(cfg.Image),
		ExecIDs:        []string{},
		ResolvConfPath: filepath.Join(c.RunDir, "resolv.conf"),
		HostnamePath:   filepath.Join(c.RunDir, "hostname"),
		HostsPath:      filepath.Join(c.RunDir, "hosts"),
		LogPath:        logPath(c),
		Name:           "/" + c.Name(),
		RestartCount:   st.RestartCount,
		Platform:       "linux",
		HostConfig: InspectHostConfig{
			Binds:          h.Binds,
			NetworkMode:    h.NetworkMode,
			RestartPolicy:  RestartPolicy{Name: h.Restart.Name, MaximumRetryCount: h.Restart.MaximumRetryCount},
			AutoRemove:     cfg.Remove,
			CapAdd:         h.CapAdd,
			CapDrop:        h.CapDrop,
			Privileged:     h.Privileged,
			ReadonlyRootfs: h.ReadOnly,
			SecurityOpt:    h.SecurityOpt,
			MaskedPaths:    cfg.Spec.MaskedPaths,
			ReadonlyPaths:  cfg.Spec.ReadonlyPaths,
			Tmpfs:          tmpfsMap(h.Tmpfs),
			UsernsMode:     h.UsernsMode,
			LogConfig:      LogConfig{Type: logDriver(h.Log), Config: logOpts(h.Log), Path: h.Log.Path},
		},
		Config: InspectConfig{
			Hostname:     cfg.Spec.Hostname,
			User:         h.User,
			AttachStdin:  h.Interactive,
			AttachStdout: true,
			AttachStderr: true,
			Tty:          h.TTY,
			OpenStdin:    h.Interactive,
			StdinOnce:    h.Interactive,
			Env:          cfg.Spec.Process.Env,
			Cmd:          h.Cmd,
			Image:        cfg.Image,
			WorkingDir:   cfg.Spec.Process.Cwd,
			Entrypoint:   h.Entrypoint,
			Labels:       cfg.Labels,
			StopSignal:   h.StopSignal,
			StopTimeout:  &h.StopTimeout,
		},
		NetworkSettings: NetworkSettings{Ports: portBindings(cfg.Host.Ports), IPAddress: cfg.Host.Addresses.IP, Gateway: cfg.Host.Addresses.Gateway,
			Networks: endpoints(cfg.Host.Network.Attachments)},
	}
	in.HostConfig.InspectResources = inspectResources(h.Resources)
	in.EffectiveCaps, in.BoundingCaps, in.Seccomp = inspectSecurity(&cfg.Spec)
	in.HostConfig.Ulimits = inspectUlimits(cfg.Spec.Process.Rlimits)
	if running {
		in.State.Pid, in.State.CgroupPath = st.Pid, cgroupPath(st.Cgroup)
		in.State.MonitorPid = st.MonitorPid
	}
	if args := cfg.Spec.Process.Args; len(args) > 0 {
		in.Path, in.Args = args[0], append([]string{}, args[1:]...)
	}
	if in.Config.Labels == nil {
		in.Config.Labels = map[string]string{}
	}
	return in
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// tmpfsMap is docker's HostConfig.Tmpfs: destination to options.
func tmpfsMap(tmpfs []string) map[string]string {
	if len(tmpfs) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, t := range tmpfs {
		dst, opts, _ := strings.Cut(t, ":")
		m[dst] = opts
	}
	return m
}

// logOpts are the --log-opt values as docker shows them.
func logOpts(l spec.LogConfig) map[string]string {
	m := map[string]string{}
	if l.MaxSize > 0 {
		m["max-size"] = strconv.FormatInt(l.MaxSize, 10)
	}
	if l.MaxFile > 0 {
		m["max-file"] = strconv.Itoa(l.MaxFile)
	}
	return m
}

// inspectMounts lists the user's -v, --mount and --tmpfs as docker's
// Mounts, from the flags as given (they were checked at create), and the
// volumes as they were made.
func inspectMounts(cfg *spec.Config) ([]InspectMount, error) {
	h := cfg.Host
	out := []InspectMount{}
	for _, v := range h.Binds {
		m, err := ParseVolume(v)
		if err != nil {
			return nil, err
		}
		if m.Type == spec.MountVolume {
			continue
		}
		mode := ""
		if parts := strings.Split(v, ":"); len(parts) == 3 {
			mode = parts[2]
		}
		out = append(out, InspectMount{Type: "bind", Source: m.Source, Destination: m.Destination, Mode: mode, RW: !m.ReadOnly, Propagation: "rprivate"})
	}
	for _, v := range h.Mounts {
		m, err := ParseMount(v)
		if err != nil {
			return nil, err
		}
		if m.Type == spec.MountVolume {
			continue
		}
		im := InspectMount{Type: m.Type, Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly}
		if m.Type == "bind" {
			im.Propagation = "rprivate"
		}
		out = append(out, im)
	}
	for _, v := range h.Tmpfs {
		m, err := ParseTmpfs(v)
		if err != nil {
			return nil, err
		}
		_, opts, _ := strings.Cut(v, ":")
		out = append(out, InspectMount{Type: "tmpfs", Destination: m.Destination, Mode: opts, RW: !m.ReadOnly})
	}
	for _, m := range cfg.Spec.Mounts {
		if m.Volume != "" {
			out = append(out, InspectMount{Type: "volume", Name: m.Volume, Source: m.Source, Destination: m.Destination,
				Driver: "local", RW: !m.ReadOnly, Propagation: "rprivate"})
		}
	}
	return out, nil
}

// withTag is an image reference with ":latest" when it names neither a
// tag nor a digest.
func withTag(ref string) string {
	if ref == "" || strings.Contains(ref, "@") {
		return ref
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.ContainsRune(ref[i:], '/') {
		return ref
	}
	return ref + ":latest"
}
