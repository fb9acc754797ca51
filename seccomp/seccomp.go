// Package seccomp compiles a container's syscall filter: docker's default
// profile, or a profile in docker's JSON format, conditioned on the
// container's capabilities and the host's architecture and kernel (by
// github.com/moby/profiles/seccomp, exactly as docker does), then turned
// into a raw classic BPF program by libseccomp, with a short stub in front
// that answers ENOSYS for syscalls newer than the profile (enosys.go), and
// compacted (docker's default to a third of its length: the kernel pays
// for every instruction at every load; compact.go).
//
// It owns the compiling only. Loading the program is the init's and the exec
// helper's job: they take Program.Filter as it is and hand it to
// seccomp(2), and must not import this package, which links libseccomp
// through cgo (the init and the monitor are static and cgo-free). This
// package imports nothing of sandbox but internal/atomicfile.
package seccomp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	profiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The names Options.Profile and Program.Name use besides a file's path.
const (
	Default    = "default"    // docker's default profile
	Unconfined = "unconfined" // no filter at all
)

// Options says which profile to compile, and for what container.
type Options struct {
	// Profile is "" or "default" for docker's default profile,
	// "unconfined" for no filter, or the path of a profile in docker's
	// JSON format.
	Profile string
	// Capabilities is the container's bounding set, by names such as
	// "CAP_SYS_ADMIN": the profile's rules conditioned on capabilities
	// are kept or dropped by it. Nil means no capabilities.
	Capabilities []string
}

// Program is a compiled filter, ready for
// seccomp(SECCOMP_SET_MODE_FILTER, 0, &sock_fprog) with no_new_privs set
// (or CAP_SYS_ADMIN held).
type Program struct {
	// Name is "default" or the profile's path, as Options.Profile gave it.
	Name string
	// Digest is "sha256:" and the hex digest of the conditioned profile
	// (JSON) and the architecture: two containers whose filters must
	// behave alike have the same digest.
	Digest string
	// Filter is the raw struct sock_filter array: 8 bytes per
	// instruction, in the host's byte order.
	Filter []byte
}

// Len is the number of BPF instructions in the program.
func (p *Program) Len() int { return len(p.Filter) / instructionSize }

// Compile compiles the filter o names. It returns a nil Program and a nil
// error when the container is to run without a filter: for "unconfined",
// and, as docker, for a profile with neither a default action nor rules.
// A profile that cannot be read, parsed or compiled is an error naming it.
func Compile(o Options) (*Program, error) {
	c, err := condition(o)
	if err != nil || c == nil {
		return nil, err
	}
	return c.compile()
}

// conditioned is a profile after conditioning, before compiling.
type conditioned struct {
	name   string
	digest string
	spec   *specs.LinuxSeccomp
}

// condition reads (for a path) and conditions the profile o names; it
// returns nil for no filter.
func condition(o Options) (*conditioned, error) {
	name := o.Profile
	if name == "" {
		name = Default
	}
	switch name {
	case Unconfined:
		return nil, nil
	case Default:
		spec, err := profiles.GetDefaultProfile(runtimeSpec(o.Capabilities))
		if err != nil {
			return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
		}
		return withDigest(name, spec)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
	}
	return conditionData(name, data, o.Capabilities)
}

// conditionData conditions the profile in data, read from the file name.
func conditionData(name string, data []byte, caps []string) (*conditioned, error) {
	spec, err := parseProfile(data, caps)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
	}
	return withDigest(name, spec)
}

// withDigest names a conditioned profile by its digest; nil for no
// filter.
func withDigest(name string, spec *specs.LinuxSeccomp) (*conditioned, error) {
	if spec == nil {
		return nil, nil
	}
	digest, err := digestOf(spec)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
	}
	return &conditioned{name: name, digest: digest, spec: spec}, nil
}

func (c *conditioned) compile() (*Program, error) {
	filter, err := compileBPF(c.spec)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", c.name, err)
	}
	return &Program{Name: c.name, Digest: c.digest, Filter: filter}, nil
}

// parseProfile parses a profile in docker's JSON format and conditions it
// on caps and on the host's architecture and kernel. It returns nil, as
// docker does, for a profile with neither a default action nor rules. A
// JSON error says at which byte offset it is.
func parseProfile(data []byte, caps []string) (*specs.LinuxSeccomp, error) {
	// moby's LoadProfile parses too, but its error hides the offset.
	var p profiles.Seccomp
	if err := json.Unmarshal(data, &p); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, fmt.Errorf("%w at offset %d", err, syntax.Offset)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("%w at offset %d", err, typ.Offset)
		}
		return nil, err
	}
	for i, call := range p.Syscalls {
		if call == nil { // moby's conditioning would dereference it
			return nil, fmt.Errorf("syscalls[%d] is null", i)
		}
	}
	spec, err := profiles.LoadProfile(string(data), runtimeSpec(caps))
	if err != nil {
		return nil, fmt.Errorf("condition profile: %w", err)
	}
	return spec, nil
}

// runtimeSpec is the part of an OCI spec moby's profile code reads: the
// bounding capabilities.
func runtimeSpec(caps []string) *specs.Spec {
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
}

// digestOf names a conditioned profile on this architecture.
func digestOf(spec *specs.LinuxSeccomp) (string, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	h := sha256.New()
	h.Write(data)
	h.Write([]byte("\n" + runtime.GOARCH))
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
