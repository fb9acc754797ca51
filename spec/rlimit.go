package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Rlimit is one resource limit of a process, as the OCI runtime spec has
// it. Type is the kernel's name of the resource, "RLIMIT_" and docker's
// short name in capitals ("RLIMIT_NOFILE" for --ulimit nofile=...); Soft
// and Hard are in the kernel's units, RlimInfinity for unlimited (docker's
// -1). Soft is never above Hard.
type Rlimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// RlimInfinity is an unlimited soft or hard limit (RLIM_INFINITY).
const RlimInfinity = math.MaxUint64

// Name is docker's short name of the resource: "nofile" for RLIMIT_NOFILE.
func (r Rlimit) Name() string { return strings.ToLower(strings.TrimPrefix(r.Type, "RLIMIT_")) }

// String is the limit as --ulimit takes it: "nofile=1024:2048", -1 for
// unlimited.
func (r Rlimit) String() string {
	return r.Name() + "=" + FormatRlim(r.Soft) + ":" + FormatRlim(r.Hard)
}

// FormatRlim is one limit value as docker writes it: -1 for unlimited.
func FormatRlim(v uint64) string {
	if v == RlimInfinity {
		return "-1"
	}
	return strconv.FormatUint(v, 10)
}

// HardLimitError is why r cannot be set by an unprivileged process whose
// own hard limit of the resource is own: a hard limit can be lowered, never
// raised, without CAP_SYS_RESOURCE in the host's user namespace (which no
// rootless container has). The create command and the init both say it.
func HardLimitError(r Rlimit, own uint64) error {
	fit := Rlimit{Type: r.Type, Soft: min(r.Soft, own), Hard: own}
	return fmt.Errorf("--ulimit %s: the hard limit cannot be raised above %s, your own hard limit (only root can raise it): ask for at most %s",
		r, FormatRlim(own), fit)
}
