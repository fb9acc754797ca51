package nsenter

import (
	"path"
	"sort"
	"strings"

	"github.com/moby/sys/capability"

	"sandbox/spec"
)

// ProcessOptions are what exec's options say of the process it runs,
// parsed and checked: the engine's exec (package container) and the short
// exec command (cmd/sandbox-exec) both make the process from them with
// ExecProcess.
type ProcessOptions struct {
	Args []string
	// Env is KEY=VALUE, over the container's environment.
	Env []string
	// Workdir, absolute, replaces the container's working directory.
	Workdir     string
	TTY         bool
	Interactive bool
	Rows, Cols  uint16
	// User, when set, replaces the container's user, and HOME with its
	// home, as docker exec does.
	User *ProcessUser
	// Capabilities, when set, replace the container's (exec --privileged).
	Capabilities []string
	// NoNewPrivileges adds no_new_privs (--security-opt no-new-privileges).
	NoNewPrivileges bool
}

// ProcessUser is a user of the container, resolved from its files.
type ProcessUser struct {
	UID, GID       uint32
	AdditionalGIDs []uint32
	Home           string
}

// ExecProcess is the process that exec runs in a container whose own
// process is cp: the container's user, capabilities, rlimits and
// no_new_privs, which an exec may tighten but never loosen (docker's exec
// --privileged changes capabilities only), with o applied.
func ExecProcess(cp *spec.Process, o ProcessOptions) spec.Process {
	p := spec.Process{
		Args:            o.Args,
		Cwd:             cp.Cwd,
		UID:             cp.UID,
		GID:             cp.GID,
		AdditionalGIDs:  cp.AdditionalGIDs,
		Capabilities:    cp.Capabilities,
		Terminal:        o.TTY,
		Stdin:           o.Interactive,
		Rows:            o.Rows,
		Cols:            o.Cols,
		NoNewPrivileges: cp.NoNewPrivileges || o.NoNewPrivileges,
		Rlimits:         cp.Rlimits,
	}
	base := cp.Env
	if u := o.User; u != nil {
		p.UID, p.GID, p.AdditionalGIDs = u.UID, u.GID, u.AdditionalGIDs
		base = spec.MergeEnv(base, []string{"HOME=" + u.Home})
	}
	p.Env = spec.MergeEnv(base, o.Env)
	if o.TTY && !spec.HasEnv(p.Env, "TERM") {
		p.Env = append(p.Env, "TERM=xterm")
	}
	if o.Workdir != "" {
		p.Cwd = path.Clean(o.Workdir)
	}
	if o.Capabilities != nil {
		p.Capabilities = o.Capabilities
	}
	return p
}

// AllCapabilities lists every capability name known to sandbox, sorted:
// what --privileged gives a container's or an exec's process.
func AllCapabilities() []string {
	var out []string
	for _, c := range capability.ListKnown() {
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	sort.Strings(out)
	return out
}
