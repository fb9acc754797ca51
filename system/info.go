package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"sandbox/cgroupv2"
	"sandbox/cgroupv2/systemd"
	"sandbox/container"
	"sandbox/spec"
	"sandbox/userns"

	"golang.org/x/sys/unix"
)

// InfoReport is sandbox info. Field names and JSON keys follow podman's
// `info` (libpod/define/info.go) where podman has the field, so that
// templates such as {{.Store.GraphDriverName}} or {{.Host.CgroupsVersion}}
// work alike.
type InfoReport struct {
	Host       *HostInfo      `json:"host"`
	Store      *StoreInfo     `json:"store"`
	Registries map[string]any `json:"registries"`
	Version    VersionInfo    `json:"version"`
}

// HostInfo describes the host as rootless containers see it.
type HostInfo struct {
	Arch string `json:"arch"`
	// CgroupManager: how containers' cgroups are found, by
	// --cgroup-manager: "systemd" (a scope from the user's systemd) or
	// "cgroupfs" (a subtree of the caller's own cgroup).
	CgroupManager string `json:"cgroupManager"`
	// CgroupsVersion: v1, hybrid, v2 or none.
	CgroupsVersion string `json:"cgroupVersion"`
	// CgroupControllers are the delegated controllers, those limits can
	// use.
	CgroupControllers []string `json:"cgroupControllers"`
	// CgroupDelegateRoot is the cgroup delegated to the user ("" when none).
	CgroupDelegateRoot string           `json:"cgroupDelegateRoot"`
	CPUs               int              `json:"cpus"`
	Distribution       DistributionInfo `json:"distribution"`
	Hostname           string           `json:"hostname"`
	IDMappings         IDMappings       `json:"idMappings"`
	Kernel             string           `json:"kernel"`
	LogDriver          string           `json:"logDriver"`
	MemFree            int64            `json:"memFree"`
	MemTotal           int64            `json:"memTotal"`
	// OCIRuntime is what starts containers: sandbox's own monitor and
	// init, in podman's place of its OCI runtime (crun, runc).
	OCIRuntime  OCIRuntimeInfo `json:"ociRuntime"`
	OS          string         `json:"os"`
	Pasta       NetworkTool    `json:"pasta"`
	Security    SecurityInfo   `json:"security"`
	Slirp4NetNS NetworkTool    `json:"slirp4netns"`
	SwapFree    int64          `json:"swapFree"`
	SwapTotal   int64          `json:"swapTotal"`
}

// OCIRuntimeInfo names the program that runs containers.
type OCIRuntimeInfo struct {
	Name    string `json:"name"`
	Package string `json:"package"`
	Path    string `json:"path"`
	Version string `json:"version"`
}

// DistributionInfo is from /etc/os-release.
type DistributionInfo struct {
	Distribution string `json:"distribution"`         // ID
	Version      string `json:"version"`              // VERSION_ID
	Codename     string `json:"codename,omitempty"`   // VERSION_CODENAME
	PrettyName   string `json:"prettyName,omitempty"` // PRETTY_NAME
}

// IDMappings are the keeper's user namespace maps.
type IDMappings struct {
	GIDMap []IDMap `json:"gidmap"`
	UIDMap []IDMap `json:"uidmap"`
}

// IDMap is one line of a uid_map or gid_map.
type IDMap struct {
	ContainerID uint32 `json:"container_id"`
	HostID      uint32 `json:"host_id"`
	Size        uint32 `json:"size"`
}

// NetworkTool is a user-mode network program found in PATH; all fields
// are empty when it is not installed.
type NetworkTool struct {
	Executable string `json:"executable"`
	Package    string `json:"package"`
	Version    string `json:"version"`
}

// SecurityInfo are the security defaults of a container, and the host's
// security modules (sandbox applies no AppArmor profile and no SELinux
// label: --security-opt apparmor=unconfined and label=disable say so).
type SecurityInfo struct {
	AppArmorEnabled bool `json:"apparmorEnabled"`
	// DefaultCapabilities is the default capability set, comma-separated.
	DefaultCapabilities string `json:"capabilities"`
	Rootless            bool   `json:"rootless"`
	// SECCOMPEnabled: the kernel filters system calls, and containers get
	// the profile SECCOMPProfilePath ("default": docker's) unless asked
	// otherwise; SeccompProfileDigest is that profile's for the default
	// capabilities.
	SECCOMPEnabled       bool   `json:"seccompEnabled"`
	SECCOMPProfilePath   string `json:"seccompProfilePath"`
	SeccompProfileDigest string `json:"seccompProfileDigest,omitempty"`
	SELinuxEnabled       bool   `json:"selinuxEnabled"`
	// NoNewPrivileges is the default of --security-opt no-new-privileges;
	// MaskedPaths and ReadonlyPaths are hidden or read-only by default.
	NoNewPrivileges bool     `json:"noNewPrivileges"`
	MaskedPaths     []string `json:"maskedPaths"`
	ReadonlyPaths   []string `json:"readonlyPaths"`
}

// StoreInfo describes the store and what it holds.
type StoreInfo struct {
	ContainerStore     ContainerStore    `json:"containerStore"`
	GraphDriverName    string            `json:"graphDriverName"`
	GraphRoot          string            `json:"graphRoot"`
	GraphRootAllocated uint64            `json:"graphRootAllocated"`
	GraphRootUsed      uint64            `json:"graphRootUsed"`
	GraphStatus        map[string]string `json:"graphStatus"`
	ImageStore         ImageStore        `json:"imageStore"`
	RunRoot            string            `json:"runRoot"`
}

// ContainerStore counts containers by state: Stopped is every one neither
// running nor paused (created, exited, restarting, removing).
type ContainerStore struct {
	Number  int `json:"number"`
	Paused  int `json:"paused"`
	Running int `json:"running"`
	Stopped int `json:"stopped"`
}

// ImageStore counts images.
type ImageStore struct {
	Number int `json:"number"`
}

// VersionInfo is the build of sandbox.
type VersionInfo struct {
	Version   string `json:"Version"`
	GoVersion string `json:"GoVersion"`
	Os        string `json:"Os"`
	OsArch    string `json:"OsArch"`
}

// InfoOptions say what to describe.
type InfoOptions struct {
	// Runtime is the open store and its containers. Required.
	Runtime *container.Runtime
	// Version is sandbox's version string.
	Version string
}

// Info describes the host, the store and the containers. It runs inside
// the keeper (the store is open), where the id mappings are the keeper's.
func Info(ctx context.Context, o InfoOptions) (*InfoReport, error) {
	if o.Runtime == nil {
		return nil, errors.New("info: no runtime")
	}
	host, err := hostInfo(ctx, o.Runtime, o.Version)
	if err != nil {
		return nil, err
	}
	store, err := storeInfo(o.Runtime)
	if err != nil {
		return nil, err
	}
	return &InfoReport{
		Host:       host,
		Store:      store,
		Registries: map[string]any{"search": []string{"docker.io"}},
		Version: VersionInfo{Version: o.Version, GoVersion: runtime.Version(), Os: runtime.GOOS,
			OsArch: runtime.GOOS + "/" + runtime.GOARCH},
	}, nil
}

func hostInfo(ctx context.Context, rt *container.Runtime, version string) (*HostInfo, error) {
	manager := rt.CgroupManager
	h := &HostInfo{
		Arch:      runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
		LogDriver: "k8s-file",
		OS:        runtime.GOOS,
		OCIRuntime: OCIRuntimeInfo{Name: filepath.Base(rt.Monitor), Package: "sandbox",
			Path: rt.Monitor, Version: "sandbox-monitor " + version},
	}
	var err error
	if h.Security, err = securityInfo(rt); err != nil {
		return nil, err
	}
	if h.Hostname, err = os.Hostname(); err != nil {
		return nil, fmt.Errorf("hostname: %w", err)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	h.Kernel = unix.ByteSliceToString(uts.Release[:])
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return nil, fmt.Errorf("sysinfo: %w", err)
	}
	unit := int64(si.Unit)
	h.MemTotal, h.MemFree = int64(si.Totalram)*unit, int64(si.Freeram)*unit
	h.SwapTotal, h.SwapFree = int64(si.Totalswap)*unit, int64(si.Freeswap)*unit
	osr, err := os.ReadFile("/etc/os-release")
	if errors.Is(err, fs.ErrNotExist) {
		osr, err = os.ReadFile("/usr/lib/os-release")
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read os-release: %w", err)
	}
	rel := ParseOSRelease(osr)
	h.Distribution = DistributionInfo{Distribution: rel["ID"], Version: rel["VERSION_ID"],
		Codename: rel["VERSION_CODENAME"], PrettyName: rel["PRETTY_NAME"]}

	cg, err := cgroupv2.Detect()
	if err != nil {
		return nil, err
	}
	h.CgroupsVersion = string(cg.Version)
	h.CgroupControllers = cg.Delegated()
	h.CgroupDelegateRoot = cg.DelegateRoot
	h.CgroupManager = string(systemd.Cgroupfs)
	if scope, err := systemd.UseScope(manager, os.Getenv); scope || err != nil {
		// Asked for and out of reach still says systemd: a start says why.
		h.CgroupManager = string(systemd.Systemd)
	}

	uids, gids, err := userns.CurrentMapping()
	if err != nil {
		return nil, fmt.Errorf("read id mappings: %w", err)
	}
	h.IDMappings = IDMappings{UIDMap: idMaps(uids), GIDMap: idMaps(gids)}

	// The two programs answer in parallel: each --version is an exec.
	var wg sync.WaitGroup
	for _, t := range []struct {
		prog, pkg string
		into      *NetworkTool
	}{{"slirp4netns", "slirp4netns", &h.Slirp4NetNS}, {"pasta", "passt", &h.Pasta}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			*t.into = networkTool(ctx, t.prog, t.pkg)
		}()
	}
	wg.Wait()
	return h, nil
}

func idMaps(m []userns.IDMap) []IDMap {
	out := make([]IDMap, len(m))
	for i, e := range m {
		out[i] = IDMap{ContainerID: e.ContainerID, HostID: e.HostID, Size: e.Size}
	}
	return out
}

// networkTool describes a network program and the Debian package it
// comes from (when dpkg knows it).
func networkTool(ctx context.Context, prog, pkg string) NetworkTool {
	path, err := osexec.LookPath(prog)
	if err != nil {
		return NetworkTool{}
	}
	t := NetworkTool{Executable: path, Version: toolVersion(ctx, path)}
	if dq, err := osexec.LookPath("dpkg-query"); err == nil {
		out, err := osexec.CommandContext(ctx, dq, "-W", "-f", "${Package}_${Version}_${Architecture}", pkg).Output()
		if err == nil {
			t.Package = strings.TrimSpace(string(out))
		}
	}
	return t
}

func storeInfo(rt *container.Runtime) (*StoreInfo, error) {
	s := rt.Store
	si := &StoreInfo{
		GraphDriverName: s.DriverName,
		GraphRoot:       s.Options.GraphRoot,
		RunRoot:         s.Options.RunRoot,
		GraphStatus:     map[string]string{},
	}
	status, err := s.Status()
	if err != nil {
		return nil, fmt.Errorf("storage driver status: %w", err)
	}
	for _, kv := range status {
		si.GraphStatus[kv[0]] = kv[1]
	}
	var fsst unix.Statfs_t
	if err := unix.Statfs(si.GraphRoot, &fsst); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", si.GraphRoot, err)
	}
	si.GraphRootAllocated = fsst.Blocks * uint64(fsst.Bsize)
	si.GraphRootUsed = (fsst.Blocks - fsst.Bfree) * uint64(fsst.Bsize)
	images, err := s.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	si.ImageStore.Number = len(images)
	list, err := rt.List(true)
	if err != nil {
		return nil, err
	}
	si.ContainerStore = countStates(list)
	return si, nil
}

// countStates counts containers the way docker and podman do.
func countStates(list []container.Summary) ContainerStore {
	c := ContainerStore{Number: len(list)}
	for _, s := range list {
		switch s.State {
		case spec.StatusRunning:
			c.Running++
		case spec.StatusPaused:
			c.Paused++
		default:
			c.Stopped++
		}
	}
	return c
}

// securityInfo is what a container gets by default, and what of the
// host's security modules sandbox leaves aside.
func securityInfo(rt *container.Runtime) (SecurityInfo, error) {
	d, err := rt.DefaultSecurity()
	if err != nil {
		return SecurityInfo{}, err
	}
	s := SecurityInfo{
		DefaultCapabilities: strings.Join(container.DefaultCapabilities, ","),
		Rootless:            true,
		SECCOMPProfilePath:  d.SeccompProfile,
		MaskedPaths:         d.MaskedPaths,
		ReadonlyPaths:       d.ReadonlyPaths,
	}
	// PR_GET_SECCOMP answers EINVAL on a kernel without seccomp.
	if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err == nil {
		s.SECCOMPEnabled, s.SeccompProfileDigest = true, d.SeccompDigest
	}
	if data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil {
		s.AppArmorEnabled = strings.TrimSpace(string(data)) == "Y"
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		s.SELinuxEnabled = true
	}
	return s, nil
}
