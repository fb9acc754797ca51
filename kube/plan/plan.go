// Package plan is a pod as generate kube and play kube carry it between
// the engine and the Kubernetes converter (package kube, in the
// sandbox-kube helper): plain types, JSON on the wire. It must not import
// k8s.io, so that the sandbox binary, which links it, pays nothing for
// Kubernetes' packages at start.
package plan

// Kinds of object generate kube prints and play kube reads.
const (
	KindPod        = "Pod"
	KindDeployment = "Deployment"
)

// Pod is one pod: a Kubernetes Pod, or the pod template of a Deployment.
type Pod struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// Hostname is spec.hostname ("": the pod's name).
	Hostname string `json:"hostname,omitempty"`
	// RestartPolicy is Always, OnFailure or Never ("": Always).
	RestartPolicy string      `json:"restartPolicy,omitempty"`
	Containers    []Container `json:"containers"`
	Volumes       []Volume    `json:"volumes,omitempty"`
}

// Container is one container of a pod.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// Pull is run's --pull: "always", "never" or "missing" ("": missing),
	// from imagePullPolicy.
	Pull string `json:"pull,omitempty"`
	// Command replaces the image's entrypoint and Args its command, as
	// Kubernetes has them (nil: the image's).
	Command    []string `json:"command,omitempty"`
	Args       []string `json:"args,omitempty"`
	Env        []EnvVar `json:"env,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	Ports      []Port   `json:"ports,omitempty"`
	Mounts     []Mount  `json:"mounts,omitempty"`
	// MemoryLimit is bytes and CPULimit billionths of a CPU; 0 is none.
	MemoryLimit int64 `json:"memoryLimit,omitempty"`
	CPULimit    int64 `json:"cpuLimit,omitempty"`
	// CapAdd and CapDrop are capability names without CAP_.
	CapAdd         []string `json:"capAdd,omitempty"`
	CapDrop        []string `json:"capDrop,omitempty"`
	Privileged     bool     `json:"privileged,omitempty"`
	ReadOnlyRootfs bool     `json:"readOnlyRootfs,omitempty"`
	// User is -u's UID[:GID] ("": the image's).
	User  string `json:"user,omitempty"`
	Stdin bool   `json:"stdin,omitempty"`
	TTY   bool   `json:"tty,omitempty"`
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Port is a container port, published on the host when HostPort is set.
type Port struct {
	ContainerPort uint16 `json:"containerPort"`
	HostPort      uint16 `json:"hostPort,omitempty"`
	HostIP        string `json:"hostIP,omitempty"`
	// Protocol is "tcp" or "udp".
	Protocol string `json:"protocol"`
}

// Mount is a volume of the pod mounted in a container.
type Mount struct {
	Volume   string `json:"volume"`
	Path     string `json:"path"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// Volume is a volume of the pod: exactly one of HostPath, EmptyDir and
// Claim is set.
type Volume struct {
	Name string `json:"name"`
	// HostPath is a directory or file of the host; HostPathCreate makes
	// the directory when missing (type DirectoryOrCreate).
	HostPath       string `json:"hostPath,omitempty"`
	HostPathCreate bool   `json:"hostPathCreate,omitempty"`
	// HostPathFile: the host path is a file (type File).
	HostPathFile bool `json:"hostPathFile,omitempty"`
	// EmptyDir is a directory that lives as long as the pod.
	EmptyDir bool `json:"emptyDir,omitempty"`
	// Claim is a persistentVolumeClaim's claimName: a named volume;
	// ReadOnly mounts it read-only in every container.
	Claim    string `json:"claim,omitempty"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// GenerateRequest is generate kube's work for the helper.
type GenerateRequest struct {
	Pods []Pod `json:"pods"`
	// Type is KindPod or KindDeployment; Service adds a Service for each
	// pod's published ports.
	Type    string `json:"type"`
	Service bool   `json:"service,omitempty"`
	// Replicas is a Deployment's replica count (0: 1).
	Replicas int32 `json:"replicas,omitempty"`
}

// Decoded is play kube's YAML as the helper read it: its pods, each
// repeated for a Deployment's replicas.
type Decoded struct {
	Pods []Pod `json:"pods"`
}
