package cgroupv2

import (
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// Controllers are the controllers sandbox limits containers through, in
// the order reports list them.
var Controllers = []string{"cpu", "cpuset", "io", "memory", "pids"}

// Controller is whether one controller can be used for containers.
type Controller struct {
	Name string `json:"name"`
	// Available: listed in the delegated cgroup's cgroup.controllers, that
	// is enabled by its parent's cgroup.subtree_control.
	Available bool `json:"available"`
	// Enabled: already in the delegated cgroup's own
	// cgroup.subtree_control, so its children have it.
	Enabled bool `json:"enabled"`
	// Delegated: available, and the delegated cgroup's
	// cgroup.subtree_control is writable, so the user can hand the
	// controller down to a container's cgroup.
	Delegated bool `json:"delegated"`
	// Reason says why the controller is not delegated; "" when it is.
	Reason string `json:"reason,omitempty"`
}

// Status is what Detect found.
type Status struct {
	Layout
	// Path is the calling process's cgroup v2 path (/proc/self/cgroup);
	// "" without cgroup v2.
	Path string `json:"path,omitempty"`
	// Dir is Path in the file system: Unified joined with Path.
	Dir string `json:"dir,omitempty"`
	// Writable: the user may create cgroups in Dir and move processes
	// into it.
	Writable bool `json:"writable"`
	// DelegateRoot is the top of the writable subtree that holds Dir: the
	// highest of Dir and its ancestors that is writable with every
	// cgroup between it and Dir. "" when Dir itself is not writable.
	DelegateRoot string `json:"delegateRoot,omitempty"`
	// Controllers has one entry per name in Controllers, in that order.
	Controllers []Controller `json:"controllers"`
}

// Delegated lists the names of the delegated controllers.
func (s *Status) Delegated() []string {
	out := []string{}
	for _, c := range s.Controllers {
		if c.Delegated {
			out = append(out, c.Name)
		}
	}
	return out
}

// files is how detection reaches the host; the unit tests replace it.
type files struct {
	read func(name string) ([]byte, error)
	// access reports whether access(2) allows mode (unix.W_OK, ...).
	access func(name string, mode uint32) bool
}

var host = files{
	read:   os.ReadFile,
	access: func(name string, mode uint32) bool { return unix.Access(name, mode) == nil },
}

// Detect reads the host's cgroup layout, the calling process's cgroup and
// what of it is delegated to the user.
func Detect() (*Status, error) { return detect(host, "") }

// DetectScope is Detect for a process that the user's systemd has put in
// the scope unit scope with Delegate=yes (package cgroupv2/systemd): the
// delegate root is the process's own cgroup, which must be that scope.
// The slices above it are writable as well, being the user manager's,
// but they are systemd's to manage, not sandbox's.
func DetectScope(scope string) (*Status, error) { return detect(host, scope) }

func detect(f files, scope string) (*Status, error) {
	data, err := f.read("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	mounts, err := ParseMountInfo(data)
	if err != nil {
		return nil, fmt.Errorf("/proc/self/mountinfo: %w", err)
	}
	st := &Status{Layout: DetectLayout(mounts, Root)}
	if st.Unified != "" {
		data, err := f.read("/proc/self/cgroup")
		if err != nil {
			return nil, fmt.Errorf("read own cgroup: %w", err)
		}
		entries, err := ParseProcCgroup(data)
		if err != nil {
			return nil, fmt.Errorf("/proc/self/cgroup: %w", err)
		}
		if p, ok := UnifiedPath(entries); ok {
			st.Path = p
			st.Dir = path.Join(st.Unified, p)
			st.Writable = writableCgroup(f, st.Dir)
			st.DelegateRoot = delegateRoot(f, st.Unified, st.Dir)
			if scope != "" {
				if path.Base(p) != scope {
					return nil, fmt.Errorf("this process is in the cgroup %s, not in the systemd scope %s", p, scope)
				}
				st.DelegateRoot = ""
				if st.Writable {
					st.DelegateRoot = st.Dir
				}
			}
		} else if scope != "" {
			return nil, fmt.Errorf("this process has no cgroup v2 path in /proc/self/cgroup, so it is in no systemd scope (%s)", scope)
		}
	}
	if st.Controllers, err = controllers(f, st); err != nil {
		return nil, err
	}
	return st, nil
}

// writableCgroup: the user may create a child of dir and move processes
// into dir.
func writableCgroup(f files, dir string) bool {
	return f.access(dir, unix.W_OK|unix.X_OK) && f.access(path.Join(dir, "cgroup.procs"), unix.W_OK)
}

// delegateRoot walks up from dir while the cgroups stay writable.
func delegateRoot(f files, unified, dir string) string {
	top := ""
	for d := dir; ; d = path.Dir(d) {
		if !writableCgroup(f, d) {
			break
		}
		top = d
		if d == unified || d == "/" {
			break
		}
	}
	return top
}

func controllers(f files, st *Status) ([]Controller, error) {
	avail, enabled := map[string]bool{}, map[string]bool{}
	subtreeWritable := false
	top := st.DelegateRoot
	if top != "" {
		data, err := f.read(path.Join(top, "cgroup.controllers"))
		if err != nil {
			return nil, fmt.Errorf("read available controllers: %w", err)
		}
		for _, c := range ParseControllers(data) {
			avail[c] = true
		}
		data, err = f.read(path.Join(top, "cgroup.subtree_control"))
		if err != nil {
			return nil, fmt.Errorf("read enabled controllers: %w", err)
		}
		for _, c := range ParseControllers(data) {
			enabled[c] = true
		}
		subtreeWritable = f.access(path.Join(top, "cgroup.subtree_control"), unix.W_OK)
	}
	out := make([]Controller, 0, len(Controllers))
	for _, name := range Controllers {
		c := Controller{Name: name, Available: avail[name], Enabled: enabled[name]}
		switch {
		case st.Unified == "" && st.HeldByV1(name):
			c.Reason = "no cgroup v2 here; held by cgroup v1"
		case st.Unified == "":
			c.Reason = "no cgroup v2 here"
		case st.HeldByV1(name):
			c.Reason = "held by cgroup v1 (hybrid hierarchy)"
		case st.Path == "":
			c.Reason = "this process has no cgroup v2 path in /proc/self/cgroup"
		case top == "":
			c.Reason = fmt.Sprintf("your cgroup %s is not writable by you: no cgroup is delegated to you", st.Dir)
		case !c.Available:
			c.Reason = fmt.Sprintf("not enabled for %s (in %s)", top, path.Join(path.Dir(top), "cgroup.subtree_control"))
		case !subtreeWritable:
			c.Reason = fmt.Sprintf("%s is not writable by you", path.Join(top, "cgroup.subtree_control"))
		default:
			c.Delegated = true
		}
		out = append(out, c)
	}
	return out, nil
}

// Systemd reports whether the host booted with systemd as pid 1 (the test
// of sd_booted(3)).
func Systemd() bool {
	st, err := os.Stat("/run/systemd/system")
	return err == nil && st.IsDir()
}
