// Package spec is the model: what the command line, the monitor and the
// init of a container share. The container's configuration as written to
// config.json when it is created (its process, mounts, network, limits,
// seccomp program), and its runtime state (state.json). It is on the hot
// path of every container start, so it imports the standard library and
// sandbox's small internal helpers only, and never a driver: the drivers
// (network, cgroupv2...) take its types.
package spec

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Config is a container as created: written once to config.json in the
// container's storage directory and read by the monitor, inspect and ps.
type Config struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Image is the reference as the user gave it; ImageID what it resolved to.
	Image   string `json:"image"`
	ImageID string `json:"imageID"`
	// Command is what ps shows: the entrypoint and command as given.
	Command []string          `json:"command"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Pod is the ID of the pod the container belongs to ("" none);
	// PodName its name, for ps --pod; Infra: the container is the pod's
	// infra container, which holds the namespaces its members share.
	Pod     string `json:"pod,omitempty"`
	PodName string `json:"podName,omitempty"`
	Infra   bool   `json:"infra,omitempty"`
	// BuildPid and BuildStart, for a container that a build runs a RUN
	// step in, are the build's process (its start time in clock ticks):
	// once that process is gone the container is a killed build's
	// leftover. ps lists such containers only with --external.
	BuildPid   int    `json:"buildPid,omitempty"`
	BuildStart uint64 `json:"buildStart,omitempty"`
	// Remove: the monitor removes the container when it exits (--rm).
	Remove bool `json:"remove,omitempty"`
	// Storage is how the sandbox command opened storage, so that cleanup
	// run by the monitor opens the same store.
	Storage StorageRef `json:"storage"`
	// Host is how the container was asked for, for inspect and the monitor.
	Host HostConfig `json:"host"`
	Spec Spec       `json:"spec"`
}

// HostConfig is what the flags of create and run asked for, kept as given
// where inspect shows it so.
type HostConfig struct {
	// Entrypoint, Cmd, User and WorkingDir as they took effect (image or flags).
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	User       string   `json:"user,omitempty"`
	// Binds, Mounts and Tmpfs are -v, --mount and --tmpfs as given.
	Binds      []string `json:"binds,omitempty"`
	Mounts     []string `json:"mounts,omitempty"`
	Tmpfs      []string `json:"tmpfs,omitempty"`
	CapAdd     []string `json:"capAdd,omitempty"`
	CapDrop    []string `json:"capDrop,omitempty"`
	Privileged bool     `json:"privileged,omitempty"`
	// SecurityOpt are the --security-opt values as given.
	SecurityOpt []string `json:"securityOpt,omitempty"`
	ReadOnly    bool     `json:"readOnly,omitempty"`
	// NetworkMode is --network as it took effect (a Network* mode,
	// or container:ID); Network the same, parsed. UsernsMode is "" or
	// keep-id.
	NetworkMode string  `json:"networkMode"`
	Network     Network `json:"network"`
	// Ports are the published ports, host ports chosen; PublishAll is -P.
	Ports      []Port `json:"ports,omitempty"`
	PublishAll bool   `json:"publishAll,omitempty"`
	// Addresses are what the container sees of its network.
	Addresses Addresses `json:"addresses,omitempty"`
	// DNS, DNSSearch, DNSOptions and ExtraHosts are --dns, --dns-search,
	// --dns-option and --add-host ("HOST IP").
	DNS         []string `json:"dns,omitempty"`
	DNSSearch   []string `json:"dnsSearch,omitempty"`
	DNSOptions  []string `json:"dnsOptions,omitempty"`
	ExtraHosts  []string `json:"extraHosts,omitempty"`
	UsernsMode  string   `json:"usernsMode,omitempty"`
	Interactive bool     `json:"interactive,omitempty"`
	TTY         bool     `json:"tty,omitempty"`
	// StopSignal is a signal name ("SIGTERM"); StopTimeout is in seconds.
	StopSignal  string        `json:"stopSignal"`
	StopTimeout int           `json:"stopTimeout"`
	Restart     RestartPolicy `json:"restart"`
	Log         LogConfig     `json:"log"`
	// Resources are the cgroup limits (see resources.go).
	Resources Resources `json:"resources"`
	// Timezone is --tz as given ("local" or an IANA name); the zone's file
	// is bound on /etc/localtime.
	Timezone string `json:"timezone,omitempty"`
	// Timeout: the monitor kills the container (SIGKILL) this many seconds
	// after it starts; 0 never.
	Timeout uint `json:"timeout,omitempty"`
	// Init: the command runs under a small init bound on /dev/init.
	Init bool `json:"init,omitempty"`
}

// Restart policy names of --restart.
const (
	RestartNo            = "no"
	RestartOnFailure     = "on-failure"
	RestartAlways        = "always"
	RestartUnlessStopped = "unless-stopped"
)

// RestartPolicy is --restart: Name is one of the Restart* names;
// MaximumRetryCount limits on-failure (0: no limit).
type RestartPolicy struct {
	Name              string `json:"name"`
	MaximumRetryCount int    `json:"maximumRetryCount,omitempty"`
}

// Log drivers of --log-driver: k8s-file (also "", and json-file) writes
// the log file; none writes nothing; passthrough gives the container the
// standard streams of the command that starts it, and writes nothing.
const (
	LogK8sFile     = "k8s-file"
	LogNone        = "none"
	LogPassthrough = "passthrough"
)

// LogConfig is --log-driver and --log-opt: rotate the log when it reaches
// MaxSize bytes (0: never), keeping MaxFile files in all; Path is the
// log's file ("": ctr.log in the container's directory).
type LogConfig struct {
	Driver  string `json:"driver,omitempty"`
	Path    string `json:"path,omitempty"`
	MaxSize int64  `json:"maxSize,omitempty"`
	MaxFile int    `json:"maxFile,omitempty"`
}

// StorageRef names a store: the global flags that select it.
type StorageRef struct {
	GraphRoot string `json:"graphRoot"`
	RunRoot   string `json:"runRoot"`
	Driver    string `json:"driver"`
}

// Spec is everything the init needs to build the container.
type Spec struct {
	// Rootfs is the container's root filesystem, mounted in the keeper's
	// mount namespace.
	Rootfs   string  `json:"rootfs"`
	Process  Process `json:"process"`
	Hostname string  `json:"hostname"`
	// Network is the network mode: a Network* mode, or
	// container:ID to join another container's network namespace.
	Network string `json:"network"`
	// Share are the namespaces besides the network ("ipc", "uts") that
	// the container joins from the container whose network it joins (a
	// pod's infra container); the hostname is then that container's.
	Share []string `json:"share,omitempty"`
	// ReadOnly makes the root filesystem read-only (--read-only).
	ReadOnly bool `json:"readOnly,omitempty"`
	// Mounts are made in order, after /proc, /dev and /sys.
	Mounts []Mount `json:"mounts,omitempty"`
	// MaskedPaths are hidden (dirs under an empty read-only tmpfs, files
	// under /dev/null); ReadonlyPaths are remounted read-only.
	MaskedPaths   []string `json:"maskedPaths,omitempty"`
	ReadonlyPaths []string `json:"readonlyPaths,omitempty"`
	// UserNS, when set, puts the container in a user namespace of its own,
	// nested in the keeper's, with these maps (inside id → keeper id).
	UserNS *UserNS `json:"userns,omitempty"`
	// Privileged keeps all capabilities and leaves /proc and /sys unmasked.
	Privileged bool `json:"privileged,omitempty"`
	// Seccomp is the syscall filter of every process of the container
	// (the init's command and exec's), nil for none (unconfined).
	Seccomp *Seccomp `json:"seccomp,omitempty"`
}

// Seccomp is a compiled seccomp profile.
type Seccomp struct {
	// Profile is "default" (docker's), or the path of a custom profile as
	// given to --security-opt seccomp=.
	Profile string `json:"profile"`
	// Digest identifies the profile as conditioned on the container's
	// capabilities and architecture ("sha256:...").
	Digest string `json:"digest"`
	// Filter is the raw program: struct sock_filter[], 8 bytes each.
	Filter []byte `json:"filter"`
}

// Process is the container's command and how it runs.
type Process struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
	UID  uint32   `json:"uid"`
	GID  uint32   `json:"gid"`
	// AdditionalGIDs are the supplementary groups.
	AdditionalGIDs []uint32 `json:"additionalGids,omitempty"`
	// Capabilities are names like "CAP_CHOWN": bounding set for every
	// user, and effective/permitted for uid 0.
	Capabilities []string `json:"capabilities"`
	Terminal     bool     `json:"terminal,omitempty"`
	// Stdin keeps standard input open (-i).
	Stdin bool `json:"stdin,omitempty"`
	// Rows and Cols are the terminal's first size.
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	// NoNewPrivileges: execve grants nothing (setuid bits and file
	// capabilities are ignored), --security-opt no-new-privileges.
	NoNewPrivileges bool `json:"noNewPrivileges,omitempty"`
	// PreserveFDs: the command is given descriptors 3..2+N (--preserve-fds)
	// open, as the caller of run had them.
	PreserveFDs int `json:"preserveFds,omitempty"`
	// Rlimits are the resource limits (--ulimit) the command starts with,
	// set on the process itself as the last step before execve; a type
	// not listed keeps the limit the process inherited (see rlimit.go).
	Rlimits []Rlimit `json:"rlimits,omitempty"`
}

// Mount is one mount inside the container.
type Mount struct {
	// Type is "bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue".
	Type        string `json:"type"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
	// Data is passed to mount(2), like "size=65536k,mode=1777".
	Data string `json:"data,omitempty"`
	// Flags are extra names: "nosuid", "nodev", "noexec", "strictatime".
	Flags []string `json:"flags,omitempty"`
	// Chown (-v's U option): the source was given to the container's user
	// when the container was made.
	Chown bool `json:"chown,omitempty"`
	// Volume names the volume (package volume) a bind mounts: Source is
	// its mount point. Before the container is made (Type MountVolume)
	// the volume's name, "" for a new anonymous volume.
	Volume string `json:"volume,omitempty"`
}

// MountVolume is the Type of a volume mount (-v NAME:/PATH, -v /PATH,
// --mount type=volume, an image's VOLUME) until the container is made:
// then a bind of the volume's mount point, with Volume naming it.
const MountVolume = "volume"

// ProcessRef names one process across pid reuse: its pid and start time.
type ProcessRef struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// UserNS is a container's own user namespace.
type UserNS struct {
	UIDMap []IDMap `json:"uidMap"`
	GIDMap []IDMap `json:"gidMap"`
}

// IDMap maps Size ids from ContainerID onto the keeper's ids from HostID.
type IDMap struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

// ReadConfig reads a config.json.
func ReadConfig(path string) (*Config, error) {
	var c Config
	if err := ReadConfigInto(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// ReadSpec reads the Spec of a config.json alone: what the init needs. A
// process that decodes a type for the first time pays for reflecting on
// it, and the rest of Config doubles that on the init's path to the
// container's start (about 0.4 ms of its 0.8).
func ReadSpec(path string) (*Spec, error) {
	var c struct {
		Spec Spec `json:"spec"`
	}
	if err := ReadConfigInto(path, &c); err != nil {
		return nil, err
	}
	return &c.Spec, nil
}

// ReadConfigInto decodes a config.json into v: a Config, or a type that
// names only the fields its reader needs (with Config's JSON names), whose
// decoding skips the rest.
func ReadConfigInto(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read container config: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("container config %s: %w", path, err)
	}
	return nil
}
