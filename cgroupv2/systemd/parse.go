package systemd

import (
	"fmt"
	"path"
	"strings"
)

// Manager is the --cgroup-manager value: how a container's cgroup is
// found.
type Manager string

const (
	// Auto: the caller's own cgroup when it gives a writable subtree
	// (cgroupfs, no D-Bus), else a systemd scope when the host runs
	// systemd and a user bus is there, else cgroupfs as it is.
	Auto Manager = "auto"
	// Systemd: always a transient scope from the user's systemd; failing
	// to make one fails the start.
	Systemd Manager = "systemd"
	// Cgroupfs: always a writable subtree of the caller's own cgroup.
	Cgroupfs Manager = "cgroupfs"
)

// Managers are the valid values, in the order help lists them.
var Managers = []Manager{Auto, Systemd, Cgroupfs}

// ParseManager checks a --cgroup-manager value; "" is Auto.
func ParseManager(s string) (Manager, error) {
	if s == "" {
		return Auto, nil
	}
	for _, m := range Managers {
		if s == string(m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("invalid --cgroup-manager %q: want auto, systemd or cgroupfs", s)
}

// ScopeName is the unit name of the scope of one run of a container's
// monitor: the container's short id, and the monitor's pid, since a
// restarted container's new monitor may start while the scope of the one
// before is still being collected.
func ScopeName(id string, pid int) (string, error) {
	if len(id) < 12 || strings.Trim(id[:12], "0123456789abcdef") != "" {
		return "", fmt.Errorf("bad container id %q for a scope name", id)
	}
	if pid <= 0 {
		return "", fmt.Errorf("bad monitor pid %d for a scope name", pid)
	}
	return fmt.Sprintf("sandbox-%s-%d.scope", id[:12], pid), nil
}

// IsScopeName reports whether name (a unit, or the last element of a
// cgroup path) is one ScopeName makes.
func IsScopeName(name string) bool {
	rest, ok := strings.CutPrefix(name, "sandbox-")
	if !ok {
		return false
	}
	rest, ok = strings.CutSuffix(rest, ".scope")
	if !ok || len(rest) < 14 || rest[12] != '-' {
		return false
	}
	id, pid := rest[:12], rest[13:]
	return strings.Trim(id, "0123456789abcdef") == "" && pid != "" &&
		strings.Trim(pid, "0123456789") == "" && pid[0] != '0'
}

// BusAddress is the user's bus: $DBUS_SESSION_BUS_ADDRESS, else the socket
// systemd's dbus.socket makes at $XDG_RUNTIME_DIR/bus; "" with neither.
// getenv is os.Getenv.
func BusAddress(getenv func(string) string) string {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && path.IsAbs(d) {
		return "unix:path=" + escape(path.Join(d, "bus"))
	}
	return ""
}

// escape is the D-Bus address escaping of a value: bytes outside
// [-0-9A-Za-z_/.\*] as %XX.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("-_/.\\*", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

// Endpoint is one address of a D-Bus address list.
type Endpoint struct {
	// Transport is "unix", "tcp", ...
	Transport string
	// Path is a unix socket's file, "" for any other (abstract sockets,
	// tcp, ...).
	Path string
}

// ParseBusAddress splits a D-Bus address list
// ("unix:path=/run/user/1000/bus;unix:abstract=x,guid=...") into its
// endpoints, unescaping the path values.
func ParseBusAddress(addr string) ([]Endpoint, error) {
	var out []Endpoint
	for _, a := range strings.Split(addr, ";") {
		if a == "" {
			continue
		}
		transport, kvs, ok := strings.Cut(a, ":")
		if !ok || transport == "" {
			return nil, fmt.Errorf("bus address %q: no transport before ':'", a)
		}
		e := Endpoint{Transport: transport}
		for _, kv := range strings.Split(kvs, ",") {
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("bus address %q: %q is not KEY=VALUE", a, kv)
			}
			if transport == "unix" && k == "path" {
				p, err := unescape(v)
				if err != nil {
					return nil, fmt.Errorf("bus address %q: %w", a, err)
				}
				e.Path = p
			}
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bus address %q: empty", addr)
	}
	return out, nil
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%q: truncated %%-escape", s)
		}
		var c byte
		for _, h := range []byte{s[i+1], s[i+2]} {
			switch {
			case h >= '0' && h <= '9':
				c = c<<4 | (h - '0')
			case h >= 'a' && h <= 'f':
				c = c<<4 | (h - 'a' + 10)
			case h >= 'A' && h <= 'F':
				c = c<<4 | (h - 'A' + 10)
			default:
				return "", fmt.Errorf("%q: bad %%-escape", s)
			}
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}
