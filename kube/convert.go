package kube

import (
	"fmt"
	"strings"

	"sandbox/kube/plan"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// fromDeployment is a Deployment's pods: one per replica.
func fromDeployment(d *appsv1.Deployment) ([]plan.Pod, error) {
	if d.Name == "" {
		return nil, fmt.Errorf("field %q is missing", "metadata.name")
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	if replicas < 0 {
		return nil, fmt.Errorf("field %q: %d replicas", "spec.replicas", replicas)
	}
	labels := d.Spec.Template.Labels
	if labels == nil {
		labels = d.Labels
	}
	var out []plan.Pod
	for i := int32(0); i < replicas; i++ {
		name := d.Name + "-pod"
		if replicas > 1 {
			name = fmt.Sprintf("%s-%d", name, i)
		}
		p, err := fromPodSpec(name, labels, &d.Spec.Template.Spec)
		if err != nil {
			return nil, err
		}
		if replicas > 1 && publishes(p) {
			return nil, fmt.Errorf("%d replicas cannot all publish the same hostPort: use one replica, or drop hostPort", replicas)
		}
		out = append(out, p)
	}
	return out, nil
}

func publishes(p plan.Pod) bool {
	for _, c := range p.Containers {
		for _, port := range c.Ports {
			if port.HostPort != 0 {
				return true
			}
		}
	}
	return false
}

// fromPodSpec checks a pod's spec and turns it into a plan.Pod.
func fromPodSpec(name string, labels map[string]string, s *corev1.PodSpec) (plan.Pod, error) {
	p := plan.Pod{Name: name, Hostname: s.Hostname}
	if name == "" {
		return p, fmt.Errorf("field %q is missing", "metadata.name")
	}
	for k, v := range labels {
		if k == "app" && v == name {
			continue // podman's own label
		}
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
	}
	switch s.RestartPolicy {
	case "", corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
		p.RestartPolicy = string(s.RestartPolicy)
	default:
		return p, fmt.Errorf("field %q: %q is not Always, OnFailure or Never", "spec.restartPolicy", s.RestartPolicy)
	}
	if len(s.Containers) == 0 {
		return p, fmt.Errorf("field %q: a pod needs at least one container", "spec.containers")
	}
	volumes := map[string]bool{}
	for i, v := range s.Volumes {
		field := fmt.Sprintf("spec.volumes[%d]", i)
		pv, err := volume(v, field)
		if err != nil {
			return p, err
		}
		if volumes[v.Name] {
			return p, fmt.Errorf("field %q: volume %q is defined twice", field+".name", v.Name)
		}
		volumes[v.Name] = true
		p.Volumes = append(p.Volumes, pv)
	}
	names := map[string]bool{}
	for i, c := range s.Containers {
		field := fmt.Sprintf("spec.containers[%d]", i)
		pc, err := fromContainer(c, field, volumes)
		if err != nil {
			return p, err
		}
		if names[c.Name] {
			return p, fmt.Errorf("field %q: container %q is defined twice", field+".name", c.Name)
		}
		names[c.Name] = true
		p.Containers = append(p.Containers, pc)
	}
	return p, nil
}

func volume(v corev1.Volume, field string) (plan.Volume, error) {
	pv := plan.Volume{Name: v.Name}
	if v.Name == "" {
		return pv, fmt.Errorf("field %q is missing", field+".name")
	}
	n := 0
	if h := v.HostPath; h != nil {
		n++
		if !absPath(h.Path) {
			return pv, fmt.Errorf("field %q: %q is not an absolute path", field+".hostPath.path", h.Path)
		}
		pv.HostPath = h.Path
		if h.Type != nil {
			switch *h.Type {
			case corev1.HostPathUnset, corev1.HostPathDirectory:
			case corev1.HostPathFile:
				pv.HostPathFile = true
			case corev1.HostPathDirectoryOrCreate:
				pv.HostPathCreate = true
			default:
				return pv, fmt.Errorf("field %q: type %q is not supported; want Directory, DirectoryOrCreate or File", field+".hostPath.type", *h.Type)
			}
		}
	}
	if v.EmptyDir != nil {
		n++
		pv.EmptyDir = true
	}
	if c := v.PersistentVolumeClaim; c != nil {
		n++
		if c.ClaimName == "" {
			return pv, fmt.Errorf("field %q is missing", field+".persistentVolumeClaim.claimName")
		}
		pv.Claim, pv.ReadOnly = c.ClaimName, c.ReadOnly
	}
	if n != 1 {
		return pv, fmt.Errorf("field %q: want exactly one of hostPath, emptyDir and persistentVolumeClaim", field)
	}
	return pv, nil
}

func fromContainer(c corev1.Container, field string, volumes map[string]bool) (plan.Container, error) {
	pc := plan.Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args, WorkingDir: c.WorkingDir,
		Stdin: c.Stdin, TTY: c.TTY}
	if c.Name == "" {
		return pc, fmt.Errorf("field %q is missing", field+".name")
	}
	if c.Image == "" {
		return pc, fmt.Errorf("field %q is missing", field+".image")
	}
	switch c.ImagePullPolicy {
	case "", corev1.PullIfNotPresent:
	case corev1.PullAlways:
		pc.Pull = "always"
	case corev1.PullNever:
		pc.Pull = "never"
	default:
		return pc, fmt.Errorf("field %q: %q is not Always, IfNotPresent or Never", field+".imagePullPolicy", c.ImagePullPolicy)
	}
	for _, e := range c.Env {
		pc.Env = append(pc.Env, plan.EnvVar{Name: e.Name, Value: e.Value})
	}
	for j, port := range c.Ports {
		f := fmt.Sprintf("%s.ports[%d]", field, j)
		pp := plan.Port{HostIP: port.HostIP}
		if port.ContainerPort < 1 || port.ContainerPort > 65535 {
			return pc, fmt.Errorf("field %q: %d is not a port", f+".containerPort", port.ContainerPort)
		}
		if port.HostPort < 0 || port.HostPort > 65535 {
			return pc, fmt.Errorf("field %q: %d is not a port", f+".hostPort", port.HostPort)
		}
		pp.ContainerPort, pp.HostPort = uint16(port.ContainerPort), uint16(port.HostPort)
		switch port.Protocol {
		case "", corev1.ProtocolTCP:
			pp.Protocol = "tcp"
		case corev1.ProtocolUDP:
			pp.Protocol = "udp"
		default:
			return pc, fmt.Errorf("field %q: protocol %q is not supported; want TCP or UDP", f+".protocol", port.Protocol)
		}
		pc.Ports = append(pc.Ports, pp)
	}
	for j, m := range c.VolumeMounts {
		f := fmt.Sprintf("%s.volumeMounts[%d]", field, j)
		if !volumes[m.Name] {
			return pc, fmt.Errorf("field %q: no volume %q in spec.volumes", f+".name", m.Name)
		}
		if !absPath(m.MountPath) {
			return pc, fmt.Errorf("field %q: %q is not an absolute path", f+".mountPath", m.MountPath)
		}
		pc.Mounts = append(pc.Mounts, plan.Mount{Volume: m.Name, Path: m.MountPath, ReadOnly: m.ReadOnly})
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		pc.MemoryLimit = q.Value()
		if pc.MemoryLimit <= 0 {
			return pc, fmt.Errorf("field %q: %s is not a memory size", field+".resources.limits.memory", q.String())
		}
	}
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		pc.CPULimit = q.MilliValue() * 1e6
		if pc.CPULimit <= 0 {
			return pc, fmt.Errorf("field %q: %s is not a CPU amount", field+".resources.limits.cpu", q.String())
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.Capabilities != nil {
			for _, k := range sc.Capabilities.Add {
				pc.CapAdd = append(pc.CapAdd, strings.TrimPrefix(string(k), "CAP_"))
			}
			for _, k := range sc.Capabilities.Drop {
				pc.CapDrop = append(pc.CapDrop, strings.TrimPrefix(string(k), "CAP_"))
			}
		}
		pc.Privileged = sc.Privileged != nil && *sc.Privileged
		pc.ReadOnlyRootfs = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
		if sc.RunAsUser != nil {
			pc.User = fmt.Sprint(*sc.RunAsUser)
			if sc.RunAsGroup != nil {
				pc.User += fmt.Sprintf(":%d", *sc.RunAsGroup)
			}
		} else if sc.RunAsGroup != nil {
			return pc, fmt.Errorf("field %q: runAsGroup needs runAsUser", field+".securityContext.runAsGroup")
		}
	}
	return pc, nil
}
