package container

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"sandbox/spec"
	"sandbox/volume"
)

// ParseVolume parses -v SRC:DST[:OPTIONS] into a bind mount, or into a
// volume mount (spec.MountVolume) when SRC is a volume name or there is
// no SRC (an anonymous volume). DST must be absolute; OPTIONS is a comma list of ro, rw, z, Z (the SELinux
// labels z and Z are accepted and have no effect).
func ParseVolume(v string) (spec.Mount, error) {
	bad := func(why string) (spec.Mount, error) {
		return spec.Mount{}, fmt.Errorf("invalid volume %q: %s; want /HOST/PATH:/CONTAINER/PATH[:ro][,U], VOLUME:/CONTAINER/PATH[:ro] or /CONTAINER/PATH", v, why)
	}
	parts := strings.Split(v, ":")
	if len(parts) == 1 {
		// An anonymous volume: a directory of the container's own.
		if !path.IsAbs(v) {
			return bad("destination is not an absolute path")
		}
		if path.Clean(v) == "/" {
			return bad("destination cannot be /")
		}
		return spec.Mount{Type: spec.MountVolume, Destination: path.Clean(v)}, nil
	}
	if len(parts) > 3 {
		return bad("wrong number of ':'-separated fields")
	}
	src, dst := parts[0], parts[1]
	if src == "" || dst == "" {
		return bad("empty path")
	}
	if !path.IsAbs(dst) {
		return bad("destination is not an absolute path")
	}
	if path.Clean(dst) == "/" {
		return bad("destination cannot be /")
	}
	m := spec.Mount{Type: "bind", Source: path.Clean(src), Destination: path.Clean(dst)}
	if !path.IsAbs(src) {
		if err := volume.CheckName(src); err != nil {
			return bad("source is neither an absolute path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)")
		}
		m = spec.Mount{Type: spec.MountVolume, Volume: src, Destination: path.Clean(dst)}
	}
	if len(parts) == 3 {
		seen := map[string]bool{}
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro", "rw":
				if seen["ro"] || seen["rw"] {
					return bad("ro and rw given twice")
				}
				m.ReadOnly = o == "ro"
			case "z", "Z":
				// SELinux labels: there is no SELinux to label for.
			case "U":
				if m.Type == spec.MountVolume {
					return bad("U is for host directories; a volume is given to the container's user already")
				}
				if seen["U"] {
					return bad("U given twice")
				}
				m.Chown = true
			default:
				return bad(fmt.Sprintf("unknown option %q", o))
			}
			seen[o] = true
		}
	}
	return m, nil
}

// ParseMount parses --mount type=bind|volume|tmpfs,KEY=VALUE,... as docker
// does: source (src), target (destination, dst), readonly (ro), and for
// tmpfs tmpfs-size and tmpfs-mode.
func ParseMount(v string) (spec.Mount, error) {
	bad := func(why string) (spec.Mount, error) {
		return spec.Mount{}, fmt.Errorf("invalid mount %q: %s; want type=bind,source=/HOST,target=/CTR[,readonly], type=volume[,source=NAME],target=/CTR[,readonly] or type=tmpfs,target=/CTR[,tmpfs-size=BYTES][,tmpfs-mode=OCTAL]", v, why)
	}
	m := spec.Mount{}
	var size, mode string
	for _, field := range strings.Split(v, ",") {
		key, val, hasVal := strings.Cut(field, "=")
		switch strings.ToLower(key) {
		case "type":
			m.Type = val
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Destination = val
		case "readonly", "ro":
			if !hasVal {
				m.ReadOnly = true
				break
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return bad(fmt.Sprintf("readonly=%q is not true or false", val))
			}
			m.ReadOnly = b
		case "tmpfs-size":
			n, err := ParseBytes(val)
			if err != nil {
				return bad(err.Error())
			}
			size = strconv.FormatInt(n, 10)
		case "tmpfs-mode":
			if _, err := strconv.ParseUint(val, 8, 32); err != nil {
				return bad(fmt.Sprintf("tmpfs-mode=%q is not an octal mode", val))
			}
			mode = val
		case "bind-propagation", "consistency":
			// Accepted for compatibility; mounts are private.
		default:
			return bad(fmt.Sprintf("unknown key %q", key))
		}
	}
	if m.Destination == "" {
		return bad("no target")
	}
	if !path.IsAbs(m.Destination) {
		return bad("target is not an absolute path")
	}
	m.Destination = path.Clean(m.Destination)
	switch m.Type {
	case "bind":
		if m.Source == "" || !path.IsAbs(m.Source) {
			return bad("bind source must be an absolute path")
		}
		if size != "" || mode != "" {
			return bad("tmpfs options on a bind mount")
		}
		m.Source = path.Clean(m.Source)
	case "volume":
		if m.Source != "" {
			if err := volume.CheckName(m.Source); err != nil {
				return bad("volume source must be a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)")
			}
		}
		if size != "" || mode != "" {
			return bad("tmpfs options on a volume mount")
		}
		m.Type, m.Volume, m.Source = spec.MountVolume, m.Source, ""
	case "tmpfs":
		if m.Source != "" {
			return bad("tmpfs takes no source")
		}
		m.Flags = []string{"nosuid", "nodev"}
		m.Data = tmpfsData(size, mode)
	case "":
		return bad("no type")
	default:
		return bad(fmt.Sprintf("type %q is not supported (bind, volume or tmpfs)", m.Type))
	}
	return m, nil
}

func tmpfsData(size, mode string) string {
	var opts []string
	if size != "" {
		opts = append(opts, "size="+size)
	}
	if mode != "" {
		opts = append(opts, "mode="+mode)
	}
	return strings.Join(opts, ",")
}

// ParseTmpfs parses --tmpfs /PATH[:OPTIONS], OPTIONS as mount(8) takes for
// tmpfs (size=, mode=, uid=, gid=, nr_inodes=) plus ro, rw, noexec, exec,
// nosuid, suid, nodev, dev.
func ParseTmpfs(v string) (spec.Mount, error) {
	dst, opts, _ := strings.Cut(v, ":")
	if !path.IsAbs(dst) {
		return spec.Mount{}, fmt.Errorf("invalid tmpfs %q: %q is not an absolute path; want /PATH[:size=64m,mode=1777,...]", v, dst)
	}
	m := spec.Mount{Type: "tmpfs", Destination: path.Clean(dst)}
	flags := map[string]bool{"nosuid": true, "nodev": true, "noexec": true}
	var data []string
	if opts != "" {
		for _, o := range strings.Split(opts, ",") {
			key, val, _ := strings.Cut(o, "=")
			switch key {
			case "ro":
				m.ReadOnly = true
			case "rw":
				m.ReadOnly = false
			case "exec", "suid", "dev":
				delete(flags, "no"+key)
			case "noexec", "nosuid", "nodev":
				flags[key] = true
			case "size":
				n, err := ParseBytes(val)
				if err != nil {
					return spec.Mount{}, fmt.Errorf("invalid tmpfs %q: %w", v, err)
				}
				data = append(data, "size="+strconv.FormatInt(n, 10))
			case "mode":
				// The kernel reads mode in octal, whatever its spelling.
				if _, err := strconv.ParseUint(val, 8, 32); err != nil {
					return spec.Mount{}, fmt.Errorf("invalid tmpfs %q: mode=%q is not an octal mode", v, val)
				}
				data = append(data, o)
			case "uid", "gid", "nr_inodes":
				if _, err := strconv.ParseUint(val, 0, 32); err != nil {
					return spec.Mount{}, fmt.Errorf("invalid tmpfs %q: %s=%q is not a number", v, key, val)
				}
				data = append(data, o)
			default:
				return spec.Mount{}, fmt.Errorf("invalid tmpfs %q: unknown option %q", v, o)
			}
		}
	}
	for _, f := range []string{"nosuid", "nodev", "noexec"} {
		if flags[f] {
			m.Flags = append(m.Flags, f)
		}
	}
	m.Data = strings.Join(data, ",")
	return m, nil
}

// ParseBytes reads sizes as docker does: a number with an optional unit
// b, k, m, g (powers of 1024, case-insensitive, optional trailing b).
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || t == "" || strings.ContainsAny(t, "eE+-xXpPnN_") {
		return 0, fmt.Errorf("invalid size %q: want a number with an optional unit b, k, m or g", s)
	}
	v := n * float64(mult)
	if v > 1<<62 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(v), nil
}

// ParseLabel parses --label KEY[=VALUE].
func ParseLabel(v string) (string, string, error) {
	k, val, _ := strings.Cut(v, "=")
	if k == "" {
		return "", "", fmt.Errorf("invalid label %q: want KEY=VALUE", v)
	}
	return k, val, nil
}
