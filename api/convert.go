package api

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sandbox/container"

	ctrtypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	nettypes "github.com/moby/moby/api/types/network"
)

// createOptions turns a create request into the options of the CLI's
// create: the same engine call as `sandbox create`. A field that would
// change what the container does and that sandbox cannot honour is
// refused, naming it; none is silently dropped.
func createOptions(name string, req *ctrtypes.CreateRequest) (*container.CreateOptions, error) {
	cfg := req.Config
	if cfg == nil {
		return nil, badRequest("config cannot be empty in order to create a container")
	}
	h := req.HostConfig
	if h == nil {
		h = &ctrtypes.HostConfig{}
	}
	if err := refuseUnsupported(cfg, h); err != nil {
		return nil, err
	}
	o := &container.CreateOptions{
		Image: cfg.Image, Name: name, Pull: container.PullNever,
		Command: cfg.Cmd, Env: cfg.Env, Workdir: cfg.WorkingDir, User: cfg.User, Hostname: cfg.Hostname,
		Interactive: cfg.OpenStdin, TTY: cfg.Tty, StopSignal: cfg.StopSignal, StopTimeout: cfg.StopTimeout,
		Remove: h.AutoRemove, ReadOnly: h.ReadonlyRootfs, Privileged: h.Privileged,
		CapAdd: h.CapAdd, CapDrop: h.CapDrop, SecurityOpts: h.SecurityOpt,
	}
	if o.Image == "" {
		return nil, badRequest("no image was given: Config.Image is empty")
	}
	if cfg.Entrypoint != nil {
		data, err := json.Marshal(cfg.Entrypoint)
		if err != nil {
			return nil, err
		}
		ep := string(data)
		o.Entrypoint = &ep
	}
	if h.ConsoleSize[0] > 0 && h.ConsoleSize[1] > 0 {
		o.Rows, o.Cols = uint16(h.ConsoleSize[0]), uint16(h.ConsoleSize[1])
	}
	for k, v := range cfg.Labels {
		o.Labels = append(o.Labels, k+"="+v)
	}
	sort.Strings(o.Labels)
	o.Volumes = append(o.Volumes, h.Binds...)
	// Config.Volumes are anonymous volumes, where no bind, mount or tmpfs
	// of the request is (docker's rule; compose sends both).
	taken := map[string]bool{}
	for _, b := range h.Binds {
		parts := strings.Split(b, ":")
		if len(parts) == 1 {
			taken[path.Clean(parts[0])] = true
		} else {
			taken[path.Clean(parts[1])] = true
		}
	}
	for _, m := range h.Mounts {
		taken[path.Clean(m.Target)] = true
	}
	for dst := range h.Tmpfs {
		taken[path.Clean(dst)] = true
	}
	for _, v := range sortedKeys(cfg.Volumes) {
		if !taken[path.Clean(v)] {
			o.Volumes = append(o.Volumes, v)
		}
	}
	for _, m := range h.Mounts {
		s, err := mountSpec(m)
		if err != nil {
			return nil, err
		}
		o.Mounts = append(o.Mounts, s)
	}
	for _, dst := range sortedKeys(h.Tmpfs) {
		t := dst
		if opts := h.Tmpfs[dst]; opts != "" {
			t += ":" + opts
		}
		o.Tmpfs = append(o.Tmpfs, t)
	}
	if err := networkOptions(req, o); err != nil {
		return nil, err
	}
	for port, bindings := range h.PortBindings {
		for _, b := range bindings {
			spec := strconv.Itoa(int(port.Num())) + "/" + string(port.Proto())
			if b.HostPort != "" {
				spec = b.HostPort + ":" + spec
			} else {
				spec = ":" + spec
			}
			if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
				spec = b.HostIP.String() + ":" + spec
			}
			o.Publish = append(o.Publish, strings.TrimPrefix(spec, ":"))
		}
	}
	sort.Strings(o.Publish)
	o.PublishAll = h.PublishAllPorts
	if h.PublishAllPorts {
		// -P publishes the image's exposed ports; the request's own are
		// published too.
		for port := range cfg.ExposedPorts {
			if _, ok := h.PortBindings[port]; !ok {
				o.Publish = append(o.Publish, strconv.Itoa(int(port.Num()))+"/"+string(port.Proto()))
			}
		}
	}
	for _, d := range h.DNS {
		o.DNS = append(o.DNS, d.String())
	}
	o.DNSSearch, o.DNSOptions = h.DNSSearch, h.DNSOptions
	for _, e := range h.ExtraHosts {
		o.AddHosts = append(o.AddHosts, e)
	}
	if p := h.RestartPolicy; p.Name != "" && p.Name != "no" {
		o.Restart = string(p.Name)
		if p.Name == "on-failure" && p.MaximumRetryCount > 0 {
			o.Restart += ":" + strconv.Itoa(p.MaximumRetryCount)
		}
	}
	if h.Init != nil {
		o.Init = *h.Init
	}
	switch h.LogConfig.Type {
	case "", "json-file", "k8s-file", "none":
		o.LogDriver = h.LogConfig.Type
	default:
		return nil, badRequest("HostConfig.LogConfig.Type %q is not supported: want json-file, k8s-file or none", h.LogConfig.Type)
	}
	for _, k := range sortedKeys(h.LogConfig.Config) {
		switch k {
		case "max-size", "max-file", "path":
			o.LogOpts = append(o.LogOpts, k+"="+h.LogConfig.Config[k])
		default:
			return nil, badRequest("HostConfig.LogConfig.Config %q is not supported: want max-size, max-file or path", k)
		}
	}
	for _, u := range h.Ulimits {
		o.Ulimits = append(o.Ulimits, fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard))
	}
	return o, resourceOptions(&h.Resources, &o.Resources)
}

// networkOptions set the network of a create request: HostConfig's
// NetworkMode, or the one user-defined network of NetworkingConfig when
// the mode is the default, with that network's aliases and address. The
// other networks of NetworkingConfig are joined after the create
// (extraEndpoints).
func networkOptions(req *ctrtypes.CreateRequest, o *container.CreateOptions) error {
	mode := ""
	if req.HostConfig != nil {
		mode = string(req.HostConfig.NetworkMode)
	}
	var eps map[string]*nettypes.EndpointSettings
	if req.NetworkingConfig != nil {
		eps = req.NetworkingConfig.EndpointsConfig
	}
	if mode == "" || mode == "default" || mode == defaultNetwork {
		mode = ""
		var user []string
		for name := range eps {
			if !isDefaultNetwork(name) {
				user = append(user, name)
			}
		}
		if len(user) == 1 {
			mode = user[0]
		}
	}
	o.Network = mode
	for name, ep := range eps {
		if name != mode && !isDefaultNetwork(name) {
			continue
		}
		aliases, ip, err := endpointOptions(ep)
		if err != nil {
			return err
		}
		if name == mode {
			o.Aliases, o.IP = aliases, ip
		} else if len(aliases) > 0 || ip != "" {
			return badRequest("NetworkingConfig: aliases and addresses are for user-defined networks, not %s", name)
		}
	}
	return nil
}

// extraEndpoints are the user-defined networks of a create request
// besides its network mode's, by name.
func extraEndpoints(req *ctrtypes.CreateRequest, o *container.CreateOptions) map[string]*nettypes.EndpointSettings {
	if req.NetworkingConfig == nil {
		return nil
	}
	out := map[string]*nettypes.EndpointSettings{}
	for name, ep := range req.NetworkingConfig.EndpointsConfig {
		if name != o.Network && !isDefaultNetwork(name) {
			out[name] = ep
		}
	}
	return out
}

// resourceOptions turns docker's resources into the limit flags' values.
func resourceOptions(r *ctrtypes.Resources, o *container.ResourceOptions) error {
	num := func(v int64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatInt(v, 10)
	}
	o.Memory = num(r.Memory)
	o.MemorySwap = num(r.MemorySwap)
	o.MemoryReservation = num(r.MemoryReservation)
	if r.NanoCPUs > 0 {
		o.CPUs = strconv.FormatFloat(float64(r.NanoCPUs)/1e9, 'f', -1, 64)
	}
	o.CPUQuota = num(r.CPUQuota)
	o.CPUPeriod = num(r.CPUPeriod)
	o.CPUShares = num(r.CPUShares)
	o.CpusetCpus, o.CpusetMems = r.CpusetCpus, r.CpusetMems
	if r.PidsLimit != nil && *r.PidsLimit != 0 {
		o.PidsLimit = strconv.FormatInt(*r.PidsLimit, 10)
	}
	if r.BlkioWeight > 0 {
		o.BlkioWeight = strconv.Itoa(int(r.BlkioWeight))
	}
	for _, d := range r.BlkioDeviceReadBps {
		o.DeviceReadBps = append(o.DeviceReadBps, fmt.Sprintf("%s:%d", d.Path, d.Rate))
	}
	for _, d := range r.BlkioDeviceWriteBps {
		o.DeviceWriteBps = append(o.DeviceWriteBps, fmt.Sprintf("%s:%d", d.Path, d.Rate))
	}
	switch {
	case r.CgroupParent != "":
		return badRequest("HostConfig.CgroupParent is not supported")
	case len(r.Devices) > 0:
		return badRequest("HostConfig.Devices is not supported")
	case len(r.DeviceRequests) > 0:
		return badRequest("HostConfig.DeviceRequests is not supported")
	case len(r.DeviceCgroupRules) > 0:
		return badRequest("HostConfig.DeviceCgroupRules is not supported")
	case len(r.BlkioWeightDevice) > 0:
		return badRequest("HostConfig.BlkioWeightDevice is not supported")
	case len(r.BlkioDeviceReadIOps) > 0 || len(r.BlkioDeviceWriteIOps) > 0:
		return badRequest("HostConfig.BlkioDeviceReadIOps and BlkioDeviceWriteIOps are not supported")
	case r.CPURealtimePeriod != 0 || r.CPURealtimeRuntime != 0:
		return badRequest("HostConfig.CpuRealtimePeriod and CpuRealtimeRuntime are not supported")
	case r.OomKillDisable != nil && *r.OomKillDisable:
		return badRequest("HostConfig.OomKillDisable is not supported")
	case r.MemorySwappiness != nil && *r.MemorySwappiness != -1:
		return badRequest("HostConfig.MemorySwappiness is not supported")
	case r.CPUCount != 0 || r.CPUPercent != 0 || r.IOMaximumIOps != 0 || r.IOMaximumBandwidth != 0:
		return badRequest("HostConfig.CpuCount, CpuPercent, IOMaximumIOps and IOMaximumBandwidth are not supported (Windows only)")
	}
	return nil
}

// refuseUnsupported names the first field of a request that would change
// the container and that sandbox has no way to honour.
func refuseUnsupported(cfg *ctrtypes.Config, h *ctrtypes.HostConfig) error {
	switch {
	case cfg.Healthcheck != nil && len(cfg.Healthcheck.Test) > 0 && cfg.Healthcheck.Test[0] != "NONE":
		return badRequest("Config.Healthcheck is not supported")
	case cfg.Domainname != "":
		return badRequest("Config.Domainname is not supported")
	case h.ShmSize != 0:
		return badRequest("HostConfig.ShmSize is not supported")
	case cfg.NetworkDisabled:
		return badRequest("Config.NetworkDisabled is not supported: use HostConfig.NetworkMode none")
	case len(h.VolumesFrom) > 0:
		return badRequest("HostConfig.VolumesFrom is not supported")
	case len(h.Links) > 0:
		return badRequest("HostConfig.Links is not supported")
	case h.VolumeDriver != "" && h.VolumeDriver != "local":
		return badRequest("HostConfig.VolumeDriver %q is not supported", h.VolumeDriver)
	case h.PidMode != "" && h.PidMode != "private":
		return badRequest("HostConfig.PidMode %q is not supported", h.PidMode)
	case h.IpcMode != "" && h.IpcMode != "private" && h.IpcMode != "shareable":
		return badRequest("HostConfig.IpcMode %q is not supported", h.IpcMode)
	case h.UTSMode != "" && h.UTSMode != "private":
		return badRequest("HostConfig.UTSMode %q is not supported", h.UTSMode)
	case h.UsernsMode != "" && h.UsernsMode != "private":
		return badRequest("HostConfig.UsernsMode %q is not supported", h.UsernsMode)
	case h.CgroupnsMode != "" && h.CgroupnsMode != "private":
		return badRequest("HostConfig.CgroupnsMode %q is not supported", h.CgroupnsMode)
	case h.Cgroup != "":
		return badRequest("HostConfig.Cgroup is not supported")
	case len(h.Sysctls) > 0:
		return badRequest("HostConfig.Sysctls is not supported")
	case len(h.GroupAdd) > 0:
		return badRequest("HostConfig.GroupAdd is not supported")
	case h.Runtime != "" && h.Runtime != "runc":
		return badRequest("HostConfig.Runtime %q is not supported", h.Runtime)
	case len(h.StorageOpt) > 0:
		return badRequest("HostConfig.StorageOpt is not supported")
	case h.OomScoreAdj != 0:
		return badRequest("HostConfig.OomScoreAdj is not supported")
	case h.Umask != nil:
		return badRequest("HostConfig.Umask is not supported")
	case h.MaskedPaths != nil || h.ReadonlyPaths != nil:
		return badRequest("HostConfig.MaskedPaths and ReadonlyPaths are not supported: use SecurityOpt mask= and unmask=")
	}
	return nil
}

// mountSpec is a mount of the request in --mount's form.
func mountSpec(m mount.Mount) (string, error) {
	switch m.Type {
	case mount.TypeBind:
		s := "type=bind,source=" + m.Source + ",target=" + m.Target
		if m.ReadOnly {
			s += ",readonly"
		}
		if m.BindOptions != nil && m.BindOptions.Propagation != "" {
			s += ",bind-propagation=" + string(m.BindOptions.Propagation)
		}
		return s, nil
	case mount.TypeTmpfs:
		s := "type=tmpfs,target=" + m.Target
		if o := m.TmpfsOptions; o != nil {
			if o.SizeBytes > 0 {
				s += ",tmpfs-size=" + strconv.FormatInt(o.SizeBytes, 10)
			}
			if o.Mode != 0 {
				s += fmt.Sprintf(",tmpfs-mode=%o", o.Mode.Perm())
			}
		}
		return s, nil
	case mount.TypeVolume:
		if o := m.VolumeOptions; o != nil {
			switch {
			case o.NoCopy:
				return "", badRequest("Mounts: VolumeOptions.NoCopy is not supported")
			case o.Subpath != "":
				return "", badRequest("Mounts: VolumeOptions.Subpath is not supported")
			case o.DriverConfig != nil && o.DriverConfig.Name != "" && o.DriverConfig.Name != "local":
				return "", badRequest("Mounts: volume driver %q is not supported: want local", o.DriverConfig.Name)
			}
		}
		s := "type=volume,target=" + m.Target
		if m.Source != "" {
			s = "type=volume,source=" + m.Source + ",target=" + m.Target
		}
		if m.ReadOnly {
			s += ",readonly"
		}
		return s, nil
	}
	return "", badRequest("Mounts: type %q is not supported: want bind, volume or tmpfs", m.Type)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// inspectResponse is the engine's inspect document in the API's type:
// the engine's is docker's shape already, field for field.
func inspectResponse(in *container.Inspect) (*ctrtypes.InspectResponse, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var out ctrtypes.InspectResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("inspect %s: %w", in.Id, err)
	}
	if out.Name != "" && !strings.HasPrefix(out.Name, "/") {
		out.Name = "/" + out.Name
	}
	if out.HostConfig != nil && out.HostConfig.NetworkMode == "" {
		out.HostConfig.NetworkMode = "bridge"
	}
	// On a user-defined network the container answers to its short id
	// too (the networks' DNS does): docker lists it among the aliases,
	// and compose looks for it there.
	if ns := out.NetworkSettings; ns != nil && len(in.Id) >= 12 {
		short := in.Id[:12]
		for name, ep := range ns.Networks {
			if ep == nil {
				continue
			}
			if !slices.Contains(ep.Aliases, short) {
				ep.Aliases = append(ep.Aliases, short)
			}
			ep.DNSNames = []string{strings.TrimPrefix(out.Name, "/"), short}
			ep.EndpointID = endpointID(ep.NetworkID, in.Id)
			ns.Networks[name] = ep
		}
	}
	return &out, nil
}

// containerSummary is a line of ps in the API's type.
func containerSummary(c container.Summary) ctrtypes.Summary {
	s := ctrtypes.Summary{
		ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, ImageID: "sha256:" + c.ImageID,
		Command: c.Command, Created: c.Created.Unix(), Labels: c.Labels,
		State: ctrtypes.ContainerState(c.State), Status: c.Status, Ports: []ctrtypes.PortSummary{},
	}
	if c.SizeRw >= 0 {
		s.SizeRw = c.SizeRw
	}
	if c.SizeRootFs >= 0 {
		s.SizeRootFs = c.SizeRootFs
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	for _, p := range c.PortList {
		ps := ctrtypes.PortSummary{PrivatePort: p.ContainerPort, PublicPort: p.HostPort, Type: p.Protocol}
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		if addr, err := netip.ParseAddr(ip); err == nil {
			ps.IP = addr
		}
		s.Ports = append(s.Ports, ps)
	}
	s.HostConfig.NetworkMode = c.NetworkMode
	if s.HostConfig.NetworkMode == "" {
		s.HostConfig.NetworkMode = "bridge"
	}
	for _, m := range c.Mounts {
		s.Mounts = append(s.Mounts, ctrtypes.MountPoint{Type: mount.Type(m.Type), Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: mount.Propagation(m.Propagation)})
	}
	return s
}
