package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sandbox/container"
	"sandbox/kube/plan"
	"sandbox/pod"
	"sandbox/spec"
)

// GenerateOptions are the flags of generate kube.
type GenerateOptions struct {
	// Refs are containers and pods: each pod becomes a Kubernetes pod,
	// and the containers named together one more, named after the first.
	Refs []string
	// Type is "pod" (also "") or "deployment"; Service adds Services;
	// Replicas is a Deployment's count (0: 1).
	Type     string
	Service  bool
	Replicas int32
}

// Generate returns the Kubernetes YAML of the containers and pods.
func Generate(ctx context.Context, rt *container.Runtime, o GenerateOptions) ([]byte, error) {
	req := plan.GenerateRequest{Service: o.Service, Replicas: o.Replicas}
	switch strings.ToLower(o.Type) {
	case "", "pod":
		req.Type = plan.KindPod
	case "deployment":
		req.Type = plan.KindDeployment
	default:
		return nil, fmt.Errorf("invalid --type %q: want pod or deployment", o.Type)
	}
	if len(o.Refs) == 0 {
		return nil, errors.New("generate kube needs at least one container or pod")
	}
	pods := pod.New(rt)
	var lone *plan.Pod
	for _, ref := range o.Refs {
		if p, err := pods.Lookup(ref); err == nil {
			pp, err := podPlan(ctx, rt, pods, p)
			if err != nil {
				return nil, err
			}
			req.Pods = append(req.Pods, *pp)
			continue
		} else if !errors.Is(err, pod.ErrNoSuchPod) {
			return nil, err
		}
		c, err := rt.Lookup(ref)
		if err != nil {
			return nil, fmt.Errorf("%s is neither a pod nor a container: %w", ref, err)
		}
		if c.Config == nil {
			return nil, fmt.Errorf("container %s: its configuration is missing", ref)
		}
		if c.Config.Infra {
			return nil, fmt.Errorf("container %s is a pod's infra container: generate the pod (%s) instead", ref, c.Config.PodName)
		}
		pc, err := containerPlan(ctx, rt, c, "", "")
		if err != nil {
			return nil, err
		}
		pc.Ports = ports(c.Config.Host.Ports)
		if lone == nil {
			lone = &plan.Pod{Name: c.Name() + "-pod", Labels: c.Config.Labels,
				RestartPolicy: restartPolicy(c.Config.Host.Restart.Name)}
		}
		lone.Containers = append(lone.Containers, pc)
		lone.Volumes = addVolumes(lone.Volumes, c, "")
	}
	if lone != nil {
		req.Pods = append(req.Pods, *lone)
	}
	return helperJSON(ctx, "generate", req)
}

// podPlan describes a pod: its members (not the infra), the infra's
// published ports on the first member.
func podPlan(ctx context.Context, rt *container.Runtime, pods *pod.Manager, p *pod.Pod) (*plan.Pod, error) {
	list, err := rt.ListWith(container.ListOptions{All: true, Filters: &container.Filters{Pod: []string{p.ID}}})
	if err != nil {
		return nil, err
	}
	out := &plan.Pod{Name: p.Name, Labels: p.Labels, Hostname: p.Hostname}
	emptyRoot := filepath.Join(pods.Dir(p), pod.EmptyDirs)
	var infraPorts []plan.Port
	// Oldest first: the order they were added in.
	slices.Reverse(list)
	for _, s := range list {
		c, err := rt.Lookup(s.ID)
		if err != nil {
			return nil, err
		}
		if c.Config == nil {
			continue
		}
		if c.Config.Infra {
			infraPorts = ports(c.Config.Host.Ports)
			continue
		}
		pc, err := containerPlan(ctx, rt, c, p.Name, emptyRoot)
		if err != nil {
			return nil, err
		}
		if out.RestartPolicy == "" {
			out.RestartPolicy = restartPolicy(c.Config.Host.Restart.Name)
		}
		out.Containers = append(out.Containers, pc)
		out.Volumes = addVolumes(out.Volumes, c, emptyRoot)
	}
	if len(out.Containers) == 0 {
		return nil, fmt.Errorf("pod %s has no containers besides its infra: Kubernetes needs at least one", p.Name)
	}
	out.Containers[0].Ports = append(infraPorts, out.Containers[0].Ports...)
	return out, nil
}

func ports(ps []spec.Port) []plan.Port {
	var out []plan.Port
	for _, p := range ps {
		out = append(out, plan.Port{ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIP: p.HostIP, Protocol: p.Protocol})
	}
	return out
}

func restartPolicy(name string) string {
	switch name {
	case spec.RestartAlways, spec.RestartUnlessStopped:
		return "Always"
	case spec.RestartOnFailure:
		return "OnFailure"
	}
	return "Never"
}

// containerPlan describes one container; in a pod, its name loses the
// pod's prefix that play kube gives it.
func containerPlan(ctx context.Context, rt *container.Runtime, c *container.Container, podName, emptyRoot string) (plan.Container, error) {
	cfg := c.Config
	h := &cfg.Host
	name := c.Name()
	if podName != "" {
		name = strings.TrimPrefix(name, podName+"-")
	}
	pc := plan.Container{
		Name: kubeName(name, ""), Image: cfg.Image, WorkingDir: cfg.Spec.Process.Cwd,
		MemoryLimit: h.Resources.Memory, CPULimit: h.Resources.NanoCpus,
		Privileged: h.Privileged, ReadOnlyRootfs: h.ReadOnly, Stdin: h.Interactive, TTY: h.TTY,
	}
	img, err := rt.Store.ImageConfig(ctx, cfg.ImageID)
	if err != nil {
		return pc, fmt.Errorf("container %s: its image: %w", name, err)
	}
	if !slices.Equal(h.Entrypoint, img.Config.Entrypoint) {
		pc.Command, pc.Args = h.Entrypoint, h.Cmd
	} else if !slices.Equal(h.Cmd, img.Config.Cmd) {
		pc.Args = h.Cmd
	}
	if pc.WorkingDir == "/" && img.Config.WorkingDir == "" || pc.WorkingDir == img.Config.WorkingDir {
		pc.WorkingDir = ""
	}
	for _, e := range cfg.Spec.Process.Env {
		k, v, _ := strings.Cut(e, "=")
		if slices.Contains(img.Config.Env, e) || k == "HOSTNAME" || k == "HOME" || k == "PATH" || k == "TERM" && h.TTY {
			continue
		}
		pc.Env = append(pc.Env, plan.EnvVar{Name: k, Value: v})
	}
	for _, k := range h.CapAdd {
		pc.CapAdd = append(pc.CapAdd, strings.TrimPrefix(strings.ToUpper(k), "CAP_"))
	}
	for _, k := range h.CapDrop {
		pc.CapDrop = append(pc.CapDrop, strings.TrimPrefix(strings.ToUpper(k), "CAP_"))
	}
	if h.User != "" && h.User != img.Config.User {
		pc.User = fmt.Sprintf("%d:%d", cfg.Spec.Process.UID, cfg.Spec.Process.GID)
	}
	for i, m := range mountsOf(c) {
		pc.Mounts = append(pc.Mounts, plan.Mount{Volume: podVolume(m, i, c, emptyRoot).Name, Path: m.Destination, ReadOnly: m.ReadOnly})
	}
	return pc, nil
}

// mountsOf are a container's -v, --mount and --tmpfs mounts, as parsed
// when it was made.
func mountsOf(c *container.Container) []spec.Mount {
	var out []spec.Mount
	h := &c.Config.Host
	for _, v := range h.Binds {
		if m, err := container.ParseVolume(v); err == nil {
			out = append(out, m)
		}
	}
	for _, v := range h.Mounts {
		if m, err := container.ParseMount(v); err == nil {
			out = append(out, m)
		}
	}
	for _, t := range h.Tmpfs {
		dst, _, _ := strings.Cut(t, ":")
		out = append(out, spec.Mount{Type: "tmpfs", Destination: dst})
	}
	return out
}

// kubeName is s as a Kubernetes name (lower case, letters, digits, -) of
// at most 63 characters, suffix included.
func kubeName(s, suffix string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	n := strings.Trim(b.String(), "-")
	if n == "" {
		n = "volume"
	}
	if max := 63 - len(suffix); len(n) > max {
		n = strings.Trim(n[len(n)-max:], "-")
	}
	return n + suffix
}

// podVolume is the pod volume of a container's mount: a named volume
// by its name, a host path by the path, one of the pod's emptyDir
// directories (under emptyRoot) by its own name, else (tmpfs, anonymous
// volumes) an emptyDir named for the container and the mount's place.
func podVolume(m spec.Mount, i int, c *container.Container, emptyRoot string) plan.Volume {
	switch {
	case m.Type == "bind" && emptyRoot != "" && filepath.Dir(m.Source) == emptyRoot:
		return plan.Volume{Name: filepath.Base(m.Source), EmptyDir: true}
	case m.Type == "bind" && strings.HasPrefix(m.Source, "/"):
		st, err := os.Stat(m.Source)
		return plan.Volume{Name: kubeName(m.Source, "-host"), HostPath: m.Source, HostPathFile: err == nil && st.Mode().IsRegular()}
	case m.Type == spec.MountVolume && m.Volume != "":
		return plan.Volume{Name: kubeName(m.Volume, "-pvc"), Claim: m.Volume}
	}
	return plan.Volume{Name: kubeName(fmt.Sprintf("%s-%d", c.Name(), i), "-empty"), EmptyDir: true}
}

// addVolumes adds the pod volumes of c's mounts that vs lacks.
func addVolumes(vs []plan.Volume, c *container.Container, emptyRoot string) []plan.Volume {
	for i, m := range mountsOf(c) {
		v := podVolume(m, i, c, emptyRoot)
		if slices.ContainsFunc(vs, func(w plan.Volume) bool { return w.Name == v.Name }) {
			continue
		}
		vs = append(vs, v)
	}
	return vs
}
