package container

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"sandbox/seccomp"
	"sandbox/spec"
)

// SecurityOptions are --security-opt values, parsed (ParseSecurityOpts).
type SecurityOptions struct {
	// Seccomp is "" for docker's default profile, "unconfined", or the
	// path of a profile in docker's JSON format.
	Seccomp string
	// NoNewPrivileges: execve grants no privilege (setuid bits, file
	// capabilities).
	NoNewPrivileges bool
	// Mask are paths hidden besides the default ones; Unmask are default
	// masked or read-only paths left alone, or ["ALL"].
	Mask, Unmask []string
}

const securityOptWant = "want seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], mask=PATH[:PATH...], unmask=ALL|PATH[:PATH...], label=disable or apparmor=unconfined"

// ParseSecurityOpts parses --security-opt values as docker and podman take
// them (KEY=VALUE, or docker's older KEY:VALUE). label=disable and
// apparmor=unconfined are accepted and change nothing: sandbox applies no
// SELinux label and no AppArmor profile; any other label or AppArmor
// profile is refused, for it would not be applied.
func ParseSecurityOpts(opts []string) (SecurityOptions, error) {
	var s SecurityOptions
	for _, opt := range opts {
		key, value, hasValue := strings.Cut(opt, "=")
		if !hasValue {
			key, value, hasValue = strings.Cut(opt, ":")
		}
		bad := func(why string) error {
			return fmt.Errorf("invalid --security-opt %q: %s", opt, why)
		}
		switch key {
		case "seccomp":
			if value == "" {
				return s, bad("seccomp needs unconfined or the path of a profile")
			}
			s.Seccomp = value
		case "no-new-privileges":
			if !hasValue {
				s.NoNewPrivileges = true
				continue
			}
			b, err := strconv.ParseBool(value)
			if err != nil {
				return s, bad("no-new-privileges takes true or false")
			}
			s.NoNewPrivileges = b
		case "mask", "unmask":
			paths, err := maskPaths(value, key == "unmask")
			if err != nil {
				return s, bad(err.Error())
			}
			if key == "mask" {
				s.Mask = append(s.Mask, paths...)
			} else {
				s.Unmask = append(s.Unmask, paths...)
			}
		case "label":
			if value != "disable" {
				return s, bad("sandbox applies no SELinux label: only label=disable is accepted")
			}
		case "apparmor":
			if value != "unconfined" {
				return s, bad("sandbox applies no AppArmor profile: only apparmor=unconfined is accepted")
			}
		default:
			return s, bad(securityOptWant)
		}
	}
	return s, nil
}

// maskPaths splits PATH[:PATH...]; each must be absolute, or ALL for
// unmask.
func maskPaths(value string, unmask bool) ([]string, error) {
	if value == "" {
		return nil, fmt.Errorf("want PATH[:PATH...]")
	}
	if unmask && value == "ALL" {
		return []string{"ALL"}, nil
	}
	var out []string
	for _, p := range strings.Split(value, ":") {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("%q is not an absolute path", p)
		}
		out = append(out, path.Clean(p))
	}
	return out, nil
}

// Paths are the masked and read-only paths these options leave of the
// defaults given.
func (s SecurityOptions) Paths(masked, readonly []string) (outMasked, outReadonly []string) {
	if slices.Contains(s.Unmask, "ALL") {
		return s.Mask, nil
	}
	keep := func(p string) bool { return !slices.Contains(s.Unmask, p) }
	for _, p := range masked {
		if keep(p) {
			outMasked = append(outMasked, p)
		}
	}
	for _, p := range s.Mask {
		if !slices.Contains(outMasked, p) {
			outMasked = append(outMasked, p)
		}
	}
	for _, p := range readonly {
		if keep(p) {
			outReadonly = append(outReadonly, p)
		}
	}
	return outMasked, outReadonly
}

// seccompFor compiles the container's filter: docker's default profile
// or the one --security-opt seccomp= names, conditioned on the container's
// capabilities; nil for unconfined and for --privileged (docker's rule).
// Compiled programs are kept in cacheDir by digest: a compile costs about
// 20 ms, a cached one well under a millisecond.
func seccompFor(s SecurityOptions, caps []string, privileged bool, cacheDir string) (*spec.Seccomp, error) {
	if privileged || s.Seccomp == seccomp.Unconfined {
		return nil, nil
	}
	prog, err := seccomp.CompileCached(seccomp.Options{Profile: s.Seccomp, Capabilities: caps}, cacheDir)
	if err != nil {
		return nil, err
	}
	if prog == nil {
		return nil, nil
	}
	return &spec.Seccomp{Profile: prog.Name, Digest: prog.Digest, Filter: prog.Filter}, nil
}

// execSecurity parses exec's --security-opt: an exec may only tighten what
// the container has, so it takes no-new-privileges alone.
func execSecurity(opts []string) (SecurityOptions, error) {
	s, err := ParseSecurityOpts(opts)
	if err != nil {
		return s, err
	}
	if s.Seccomp != "" || len(s.Mask) > 0 || len(s.Unmask) > 0 {
		return s, fmt.Errorf("invalid --security-opt %q for exec: an exec shares its container's seccomp filter and masked paths; it takes no-new-privileges only", strings.Join(opts, " "))
	}
	return s, nil
}

// inspectSecurity is what inspect shows of a container's privileges: its
// command's effective and bounding capabilities and its filter.
func inspectSecurity(s *spec.Spec) (effective, bounding []string, sc InspectSeccomp) {
	bounding = s.Process.Capabilities
	effective = []string{}
	if s.Process.UID == 0 {
		effective = bounding
	}
	sc.Profile = seccomp.Unconfined
	if s.Seccomp != nil {
		sc.Profile, sc.Digest = s.Seccomp.Profile, s.Seccomp.Digest
	}
	return effective, bounding, sc
}

// DefaultSecurityReport is what a container gets without --security-opt,
// --cap-add or --privileged.
type DefaultSecurityReport struct {
	// SeccompProfile is "default" (docker's profile); SeccompDigest is its
	// digest for the default capabilities.
	SeccompProfile, SeccompDigest string
	MaskedPaths, ReadonlyPaths    []string
}

// DefaultSecurity reports the defaults, the filter compiled as a
// container would have it.
func (r *Runtime) DefaultSecurity() (DefaultSecurityReport, error) {
	sc, err := seccompFor(SecurityOptions{}, DefaultCapabilities, false, r.seccompCache())
	if err != nil {
		return DefaultSecurityReport{}, err
	}
	return DefaultSecurityReport{SeccompProfile: sc.Profile, SeccompDigest: sc.Digest, MaskedPaths: spec.DefaultMaskedPaths, ReadonlyPaths: spec.DefaultReadonlyPaths}, nil
}

// seccompCache is where compiled seccomp programs are kept: the run root,
// which a reboot empties.
func (r *Runtime) seccompCache() string { return filepath.Join(r.runRoot, "sandbox-seccomp") }
