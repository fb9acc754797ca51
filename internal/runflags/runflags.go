// Package runflags parses the values of create and run flags that the
// engine takes as already checked: --tz, --entrypoint in its JSON form,
// --pull and --attach. Each parser is a pure function; none reads the host
// or imports the engine.
package runflags

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TimezoneLocal is --tz=local: the host's own time zone.
const TimezoneLocal = "local"

// ParseTimezone checks --tz: "local", or an IANA zone name such as
// Europe/Paris, returned as given. A name is relative, has no empty, "."
// or ".." element, and holds only the characters zone names use; whether
// the host knows it is for the caller to find out.
func ParseTimezone(v string) (string, error) {
	if v == TimezoneLocal {
		return v, nil
	}
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("invalid --tz %q: %s; want local or an IANA time zone name like Europe/Paris", v, why)
	}
	if v == "" {
		return bad("empty")
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_+-", c)) {
			return bad(fmt.Sprintf("%q is not in a zone name", c))
		}
	}
	for _, e := range strings.Split(v, "/") {
		if e == "" || e == "." || e == ".." {
			return bad("not a relative name of path elements")
		}
	}
	return v, nil
}

// ParseEntrypoint parses --entrypoint as docker does: a JSON array of
// strings when the value starts with '[' (an empty array clears the
// image's entrypoint), else one program name; "" clears the entrypoint.
func ParseEntrypoint(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	if !strings.HasPrefix(v, "[") {
		return []string{v}, nil
	}
	var args []string
	if err := json.Unmarshal([]byte(v), &args); err != nil {
		return nil, fmt.Errorf("invalid --entrypoint %q: not a JSON array of strings (%v); want '[\"PROGRAM\", \"ARG\"...]' or one program name", v, err)
	}
	if len(args) > 0 && args[0] == "" {
		return nil, fmt.Errorf("invalid --entrypoint %q: the program name is empty", v)
	}
	return args, nil
}

// Pull policies of --pull, as ParsePull returns them.
const (
	PullMissing = "missing"
	PullAlways  = "always"
	PullNever   = "never"
)

// ParsePull parses --pull: always, missing or never in any case; newer is
// missing (there is no registry date to compare with), and "" is missing.
func ParsePull(v string) (string, error) {
	switch p := strings.ToLower(v); p {
	case "", PullMissing, "newer":
		return PullMissing, nil
	case PullAlways, PullNever:
		return p, nil
	}
	return "", fmt.Errorf("invalid --pull %q: want always, missing, never or newer", v)
}

// ParseLogDriver parses --log-driver: k8s-file (also ""), json-file
// (written as k8s-file, as podman does, and named as given), none or
// passthrough.
func ParseLogDriver(v string) (string, error) {
	switch v {
	case "":
		return "k8s-file", nil
	case "k8s-file", "json-file", "none", "passthrough":
		return v, nil
	}
	return "", fmt.Errorf("invalid log driver %q: want k8s-file, json-file, none or passthrough", v)
}

// Streams are the standard streams -a/--attach names.
type Streams struct {
	Stdin, Stdout, Stderr bool
}

// ParseAttach parses the values of -a/--attach (STDIN, STDOUT, STDERR in
// any case). No value means all three.
func ParseAttach(vs []string) (Streams, error) {
	if len(vs) == 0 {
		return Streams{Stdin: true, Stdout: true, Stderr: true}, nil
	}
	var s Streams
	for _, v := range vs {
		switch strings.ToLower(v) {
		case "stdin":
			s.Stdin = true
		case "stdout":
			s.Stdout = true
		case "stderr":
			s.Stderr = true
		default:
			return Streams{}, fmt.Errorf("invalid --attach %q: want STDIN, STDOUT or STDERR", v)
		}
	}
	return s, nil
}
