package container

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// ParseSignal reads a signal as docker takes it: a name with or without
// SIG ("TERM", "SIGTERM", case-insensitive), RTMIN+N, or a number.
func ParseSignal(s string) (unix.Signal, error) {
	bad := fmt.Errorf("invalid signal %q: want a name like SIGTERM or KILL, or a number from 1 to 64", s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return 0, bad
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN+"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || 34+n > 64 {
			return 0, bad
		}
		return unix.Signal(34 + n), nil
	}
	if name == "SIGRTMIN" {
		return unix.Signal(34), nil
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, bad
	}
	return sig, nil
}

// SignalName is a signal's SIG... name, or its number.
func SignalName(sig unix.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return strconv.Itoa(int(sig))
}

// ParseRestart reads --restart: no, on-failure[:N], always, unless-stopped.
func ParseRestart(s string) (spec.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := spec.RestartPolicy{Name: name}
	switch name {
	case "", spec.RestartNo:
		p.Name = spec.RestartNo
	case spec.RestartOnFailure:
	case spec.RestartAlways, spec.RestartUnlessStopped:
		if hasCount {
			return p, fmt.Errorf("invalid --restart %q: only on-failure takes a count", s)
		}
	default:
		return p, fmt.Errorf("invalid --restart %q: want no, on-failure[:N], always or unless-stopped", s)
	}
	if hasCount {
		if name != spec.RestartOnFailure {
			return p, fmt.Errorf("invalid --restart %q: only on-failure takes a count", s)
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return p, fmt.Errorf("invalid --restart %q: the count must be a whole number of tries", s)
		}
		p.MaximumRetryCount = n
	}
	return p, nil
}

// ParseLogOpts reads --log-opt max-size=SIZE, max-file=N and path=FILE.
func ParseLogOpts(opts []string) (spec.LogConfig, error) {
	var c spec.LogConfig
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "max-size":
			n, err := ParseBytes(v)
			if err != nil {
				return c, fmt.Errorf("invalid --log-opt %q: %w", o, err)
			}
			c.MaxSize = n
		case "path":
			if !filepath.IsAbs(v) || filepath.Clean(v) != v || strings.HasSuffix(v, "/") {
				return c, fmt.Errorf("invalid --log-opt %q: path must be an absolute, clean file name", o)
			}
			c.Path = v
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return c, fmt.Errorf("invalid --log-opt %q: max-file must be a number of files, at least 1", o)
			}
			c.MaxFile = n
		default:
			return c, fmt.Errorf("invalid --log-opt %q: want max-size=SIZE, max-file=N or path=FILE", o)
		}
	}
	if c.MaxSize > 0 && c.MaxFile == 0 {
		c.MaxFile = 1
	}
	return c, nil
}
