package container

import (
	"fmt"
	"sort"
	"strings"

	"sandbox/nsenter"
)

// DefaultCapabilities is docker's default set.
var DefaultCapabilities = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP",
	"CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

// normalizeCap turns "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" into
// "CAP_NET_ADMIN", and "all" into "ALL".
func normalizeCap(name string, known map[string]bool) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "ALL" {
		return n, nil
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	if !known[n] {
		return "", fmt.Errorf("unknown capability %q: want a name like NET_ADMIN (see capabilities(7)) or ALL", name)
	}
	return n, nil
}

// Capabilities applies --cap-add and --cap-drop to the default set (drops
// first, as docker does; ALL in either means every capability).
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	all := nsenter.AllCapabilities()
	if privileged {
		return all, nil
	}
	known := map[string]bool{}
	for _, c := range all {
		known[c] = true
	}
	set := map[string]bool{}
	for _, c := range DefaultCapabilities {
		set[c] = true
	}
	dropped := map[string]bool{}
	for _, d := range drop {
		n, err := normalizeCap(d, known)
		if err != nil {
			return nil, fmt.Errorf("--cap-drop: %w", err)
		}
		if n == "ALL" {
			set = map[string]bool{}
			continue
		}
		delete(set, n)
		dropped[n] = true
	}
	for _, a := range add {
		n, err := normalizeCap(a, known)
		if err != nil {
			return nil, fmt.Errorf("--cap-add: %w", err)
		}
		if n == "ALL" {
			// As docker does, --cap-add ALL --cap-drop X leaves X out.
			for _, c := range all {
				if !dropped[c] {
					set[c] = true
				}
			}
			continue
		}
		set[n] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out, nil
}
