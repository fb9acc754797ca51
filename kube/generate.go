package kube

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"sandbox/kube/plan"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Generate returns the YAML documents of req: for each pod a Pod (or a
// Deployment of it), then with Service a Service of its published ports.
func Generate(req plan.GenerateRequest) ([]byte, error) {
	var docs [][]byte
	for _, p := range req.Pods {
		spec, err := podSpec(p)
		if err != nil {
			return nil, err
		}
		labels := podLabels(p)
		var obj any
		switch req.Type {
		case "", plan.KindPod:
			obj = &corev1.Pod{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
				ObjectMeta: metav1.ObjectMeta{Name: p.Name, Labels: labels},
				Spec:       spec,
			}
		case plan.KindDeployment:
			replicas := max(req.Replicas, 1)
			name := strings.TrimSuffix(p.Name, "-pod")
			obj = &appsv1.Deployment{
				TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
				ObjectMeta: metav1.ObjectMeta{Name: name + "-deployment", Labels: labels},
				Spec: appsv1.DeploymentSpec{
					Replicas: &replicas,
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": labels["app"]}},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: spec},
				},
			}
		default:
			return nil, fmt.Errorf("invalid --type %q: want pod or deployment", req.Type)
		}
		doc, err := marshal(obj)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
		if req.Service {
			if svc := service(p, labels); svc != nil {
				doc, err := marshal(svc)
				if err != nil {
					return nil, err
				}
				docs = append(docs, doc)
			}
		}
	}
	return bytes.Join(docs, []byte("---\n")), nil
}

// marshal is obj as YAML, without the empty status and creation time that
// the API types carry when unset.
func marshal(obj any) ([]byte, error) {
	data, err := yaml.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("marshal YAML: %w", err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "creationTimestamp: null" || t == "status: {}" || t == "resources: {}" || t == "strategy: {}" {
			continue
		}
		if t == "status:" || t == "loadBalancer: {}" {
			continue // a Service's empty status
		}
		kept = append(kept, line)
	}
	return []byte(strings.Join(kept, "")), nil
}

// podLabels are the pod's labels with podman's app label.
func podLabels(p plan.Pod) map[string]string {
	labels := map[string]string{"app": p.Name}
	for k, v := range p.Labels {
		labels[k] = v
	}
	return labels
}

func podSpec(p plan.Pod) (corev1.PodSpec, error) {
	spec := corev1.PodSpec{RestartPolicy: corev1.RestartPolicy(p.RestartPolicy)}
	if p.Hostname != "" && p.Hostname != p.Name {
		spec.Hostname = p.Hostname
	}
	for _, c := range p.Containers {
		kc, err := container(c)
		if err != nil {
			return spec, err
		}
		spec.Containers = append(spec.Containers, kc)
	}
	for _, v := range p.Volumes {
		kv := corev1.Volume{Name: v.Name}
		switch {
		case v.HostPath != "":
			t := corev1.HostPathDirectory
			if v.HostPathFile {
				t = corev1.HostPathFile
			}
			if v.HostPathCreate {
				t = corev1.HostPathDirectoryOrCreate
			}
			kv.HostPath = &corev1.HostPathVolumeSource{Path: v.HostPath, Type: &t}
		case v.Claim != "":
			kv.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.Claim}
		default:
			kv.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
		spec.Volumes = append(spec.Volumes, kv)
	}
	return spec, nil
}

func container(c plan.Container) (corev1.Container, error) {
	kc := corev1.Container{
		Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args, WorkingDir: c.WorkingDir,
		Stdin: c.Stdin, TTY: c.TTY,
	}
	for _, e := range c.Env {
		kc.Env = append(kc.Env, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	for _, p := range c.Ports {
		kc.Ports = append(kc.Ports, corev1.ContainerPort{
			ContainerPort: int32(p.ContainerPort), HostPort: int32(p.HostPort), HostIP: p.HostIP,
			Protocol: corev1.Protocol(strings.ToUpper(p.Protocol)),
		})
	}
	for _, m := range c.Mounts {
		kc.VolumeMounts = append(kc.VolumeMounts, corev1.VolumeMount{Name: m.Volume, MountPath: m.Path, ReadOnly: m.ReadOnly})
	}
	if c.MemoryLimit > 0 || c.CPULimit > 0 {
		kc.Resources.Limits = corev1.ResourceList{}
		if c.MemoryLimit > 0 {
			kc.Resources.Limits[corev1.ResourceMemory] = *resource.NewQuantity(c.MemoryLimit, resource.BinarySI)
		}
		if c.CPULimit > 0 {
			kc.Resources.Limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(c.CPULimit/1e6, resource.DecimalSI)
		}
	}
	sc := &corev1.SecurityContext{}
	set := false
	if len(c.CapAdd) > 0 || len(c.CapDrop) > 0 {
		sc.Capabilities = &corev1.Capabilities{}
		for _, k := range c.CapAdd {
			sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(k))
		}
		for _, k := range c.CapDrop {
			sc.Capabilities.Drop = append(sc.Capabilities.Drop, corev1.Capability(k))
		}
		set = true
	}
	if c.Privileged {
		sc.Privileged, set = &c.Privileged, true
	}
	if c.ReadOnlyRootfs {
		sc.ReadOnlyRootFilesystem, set = &c.ReadOnlyRootfs, true
	}
	if c.User != "" {
		uid, gid, err := numericUser(c.User)
		if err != nil {
			return kc, fmt.Errorf("container %s: %w", c.Name, err)
		}
		sc.RunAsUser, set = &uid, true
		if gid >= 0 {
			sc.RunAsGroup = &gid
		}
	}
	if set {
		kc.SecurityContext = sc
	}
	return kc, nil
}

// numericUser reads UID[:GID]; gid is -1 when not given. Kubernetes has
// no user names.
func numericUser(u string) (uid, gid int64, err error) {
	us, gs, hasGroup := strings.Cut(u, ":")
	gid = -1
	if _, err := fmt.Sscanf(us, "%d", &uid); err != nil || fmt.Sprint(uid) != us || uid < 0 {
		return 0, 0, fmt.Errorf("user %q: Kubernetes takes a numeric uid (runAsUser)", u)
	}
	if hasGroup {
		if _, err := fmt.Sscanf(gs, "%d", &gid); err != nil || fmt.Sprint(gid) != gs || gid < 0 {
			return 0, 0, fmt.Errorf("user %q: Kubernetes takes a numeric gid (runAsGroup)", u)
		}
	}
	return uid, gid, nil
}

// service is a NodePort Service of the pod's published ports, nil when
// it publishes none.
func service(p plan.Pod, labels map[string]string) *corev1.Service {
	var ports []corev1.ServicePort
	for _, c := range p.Containers {
		for _, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			ports = append(ports, corev1.ServicePort{
				Name:       fmt.Sprintf("%d-%s", port.ContainerPort, strings.ToLower(port.Protocol)),
				Protocol:   corev1.Protocol(strings.ToUpper(port.Protocol)),
				Port:       int32(port.ContainerPort),
				TargetPort: intstr.FromInt32(int32(port.ContainerPort)),
			})
		}
	}
	if len(ports) == 0 {
		return nil
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Labels: labels},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{"app": labels["app"]},
			Ports:    ports,
		},
	}
}
