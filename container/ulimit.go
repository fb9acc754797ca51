package container

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"sandbox/nsinit"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// ulimitTypes are the resources --ulimit takes, under docker's names; a
// spec.Rlimit's type is "RLIMIT_" and the name in capitals.
var ulimitTypes = []string{"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
	"nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

const ulimitWant = "want TYPE=SOFT[:HARD], numbers or -1 for unlimited, such as nofile=1024:2048"

// ParseUlimit parses --ulimit TYPE=SOFT[:HARD] as docker does: TYPE one
// of docker's names (nofile, nproc, core...), SOFT and HARD whole numbers
// in the kernel's units, -1 for unlimited; HARD left out is SOFT.
func ParseUlimit(v string) (spec.Rlimit, error) {
	bad := func(why string) (spec.Rlimit, error) {
		return spec.Rlimit{}, fmt.Errorf("invalid --ulimit %q: %s; %s", v, why, ulimitWant)
	}
	name, values, ok := strings.Cut(v, "=")
	if !ok {
		return bad("no '='")
	}
	known := false
	for _, t := range ulimitTypes {
		known = known || name == t
	}
	if !known {
		return bad(fmt.Sprintf("unknown type %q (known: %s)", name, strings.Join(ulimitTypes, ", ")))
	}
	softText, hardText, hasHard := strings.Cut(values, ":")
	if !hasHard {
		hardText = softText
	}
	soft, err := rlimValue(softText)
	if err != nil {
		return bad(fmt.Sprintf("soft limit %q: %v", softText, err))
	}
	hard, err := rlimValue(hardText)
	if err != nil {
		return bad(fmt.Sprintf("hard limit %q: %v", hardText, err))
	}
	if soft > hard {
		return bad(fmt.Sprintf("the soft limit %s is above the hard limit %s", spec.FormatRlim(soft), spec.FormatRlim(hard)))
	}
	return spec.Rlimit{Type: "RLIMIT_" + strings.ToUpper(name), Soft: soft, Hard: hard}, nil
}

// rlimValue is one limit value: a whole number up to docker's (int64)
// bound, or -1 for unlimited.
func rlimValue(s string) (uint64, error) {
	if s == "-1" {
		return spec.RlimInfinity, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > math.MaxInt64 {
		return 0, fmt.Errorf("not a whole number from 0 to %d, or -1", int64(math.MaxInt64))
	}
	return n, nil
}

// parseUlimits parses every --ulimit; a type given again replaces the
// earlier value (docker keeps the last), in the place of the first.
func parseUlimits(vs []string) ([]spec.Rlimit, error) {
	var out []spec.Rlimit
	at := map[string]int{}
	for _, v := range vs {
		r, err := ParseUlimit(v)
		if err != nil {
			return nil, err
		}
		if i, ok := at[r.Type]; ok {
			out[i] = r
			continue
		}
		at[r.Type] = len(out)
		out = append(out, r)
	}
	return out, nil
}

// checkHardLimits refuses a limit whose hard value is above the caller's
// own (own returns it for a spec.Rlimit type): the init, which inherits
// the caller's limits, could not set it. Checked at create, before
// anything is made.
func checkHardLimits(rs []spec.Rlimit, own func(typ string) (uint64, error)) error {
	for _, r := range rs {
		hard, err := own(r.Type)
		if err != nil {
			return fmt.Errorf("--ulimit %s: %w", r, err)
		}
		if r.Hard > hard {
			return spec.HardLimitError(r, hard)
		}
	}
	return nil
}

// ownHardLimit is this process's hard limit of a spec.Rlimit type.
func ownHardLimit(typ string) (uint64, error) {
	res, ok := nsinit.RlimitResource(typ)
	if !ok {
		return 0, fmt.Errorf("unknown resource %q", typ)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(res, &lim); err != nil {
		return 0, fmt.Errorf("read own limit of %s: %w", typ, err)
	}
	return lim.Max, nil
}
