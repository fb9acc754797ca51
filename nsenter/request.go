package nsenter

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"sandbox/nsinit"
	"sandbox/spec"

	"github.com/moby/sys/capability"
)

// Request is a process to start in a running container, handed to
// sandbox-nsenter over its socket (Encode).
type Request struct {
	// Target is the container's first process, whose namespaces to join.
	Target spec.ProcessRef
	// Process is what to run and how: arguments, environment, working
	// directory, user, capabilities, terminal, limits, no_new_privs.
	Process spec.Process
	// Seccomp is the raw seccomp program (struct sock_filter[]) to load
	// before the execve; nil for none.
	Seccomp []byte
	// Detach: return once the process runs, without waiting for it.
	Detach bool
	// DetachKeys end a terminal session and leave the process running.
	DetachKeys []byte
	// Cgroup is the container's cgroup directory ("" for none), for Run:
	// the process joins it (cgroup_linux.go).
	Cgroup string
	// MoveFallback, if set, moves the process into Cgroup by other means
	// when Run may not move it itself (EACCES, EPERM: see cgroup_linux.go).
	MoveFallback func(pid int) error
	// Streams, when set, are the process's streams instead of this
	// command's own (the API server's exec): no signal is forwarded and
	// no terminal of this command is touched.
	Streams *Streams
	// Helper is the helper's copy made ahead (PrepareHelper), which Run
	// takes and closes; nil: Run makes it.
	Helper *Helper
	// holdExec: the process waits before its execve until Run has moved
	// it into the cgroup.
	holdExec bool
}

// Streams are the streams of an exec that is not this command's own.
type Streams struct {
	// In is standard input (with Process.Stdin); Out and Err the output
	// (with Process.Terminal, everything goes to Out).
	In       io.Reader
	Out, Err io.Writer
	// Resize carries terminal sizes (rows, cols) for Process.Terminal.
	Resize <-chan [2]uint16
}

// Record types of the request; keep in step with enum req in
// cmd/sandbox-nsenter/nsenter.c.
const (
	recTarget       = 1
	recDetach       = 2
	recArg          = 3
	recEnv          = 4
	recCwd          = 5
	recUID          = 6
	recGID          = 7
	recGroup        = 8
	recCaps         = 9
	recTerminal     = 10
	recStdin        = 11
	recHold         = 12
	recNoNewPrivs   = 13
	recSeccomp      = 14
	recRlimit       = 15
	maxRequestBytes = 16 << 20
)

// Encode is the request as sandbox-nsenter reads it: a u32 length, then
// records of a u16 type, a u16 zero, a u32 length and the data, every
// integer in the host's byte order.
func (r *Request) Encode() ([]byte, error) {
	caps, err := CapabilityMask(r.Process.Capabilities)
	if err != nil {
		return nil, err
	}
	e := encoder{buf: make([]byte, 4, 512+len(r.Seccomp))}
	e.u64s(recTarget, uint64(r.Target.Pid), r.Target.Start)
	if r.Detach {
		e.record(recDetach, nil)
	}
	for _, a := range r.Process.Args {
		e.str(recArg, a)
	}
	for _, v := range r.Process.Env {
		e.str(recEnv, v)
	}
	e.str(recCwd, r.Process.Cwd)
	e.u32(recUID, r.Process.UID)
	e.u32(recGID, r.Process.GID)
	for _, g := range r.Process.AdditionalGIDs {
		e.u32(recGroup, g)
	}
	e.u64s(recCaps, caps)
	if r.Process.Terminal {
		b := make([]byte, 4)
		binary.NativeEndian.PutUint16(b, r.Process.Rows)
		binary.NativeEndian.PutUint16(b[2:], r.Process.Cols)
		e.record(recTerminal, b)
	}
	if r.Process.Stdin {
		e.record(recStdin, nil)
	}
	if r.holdExec {
		e.record(recHold, nil)
	}
	if r.Process.NoNewPrivileges {
		e.record(recNoNewPrivs, nil)
	}
	if len(r.Seccomp) > 0 {
		if len(r.Seccomp)%8 != 0 {
			return nil, fmt.Errorf("exec: a seccomp program of %d bytes is not whole instructions", len(r.Seccomp))
		}
		e.record(recSeccomp, r.Seccomp)
	}
	for _, l := range r.Process.Rlimits {
		res, ok := nsinit.RlimitResource(l.Type)
		if !ok {
			return nil, fmt.Errorf("exec: unknown resource limit %q", l.Type)
		}
		b := make([]byte, 20)
		binary.NativeEndian.PutUint32(b, uint32(res))
		binary.NativeEndian.PutUint64(b[4:], l.Soft)
		binary.NativeEndian.PutUint64(b[12:], l.Hard)
		e.record(recRlimit, b)
	}
	if len(e.buf)-4 > maxRequestBytes {
		return nil, fmt.Errorf("exec: the command and its environment take %d bytes, over the limit of %d", len(e.buf)-4, maxRequestBytes)
	}
	binary.NativeEndian.PutUint32(e.buf, uint32(len(e.buf)-4))
	return e.buf, nil
}

type encoder struct{ buf []byte }

func (e *encoder) record(typ uint16, data []byte) {
	var h [8]byte
	binary.NativeEndian.PutUint16(h[:], typ)
	binary.NativeEndian.PutUint32(h[4:], uint32(len(data)))
	e.buf = append(append(e.buf, h[:]...), data...)
}

func (e *encoder) str(typ uint16, s string) { e.record(typ, []byte(s)) }

func (e *encoder) u32(typ uint16, v uint32) {
	e.record(typ, binary.NativeEndian.AppendUint32(nil, v))
}

func (e *encoder) u64s(typ uint16, vs ...uint64) {
	var b []byte
	for _, v := range vs {
		b = binary.NativeEndian.AppendUint64(b, v)
	}
	e.record(typ, b)
}

// CapabilityMask is the bit mask of capability names like "CAP_CHOWN";
// names this kernel does not know are left out, as runc does.
func CapabilityMask(names []string) (uint64, error) {
	last, err := capability.LastCap()
	if err != nil {
		return 0, fmt.Errorf("read last capability: %w", err)
	}
	var mask uint64
	for _, n := range names {
		c, ok := capByName(n)
		if !ok {
			return 0, fmt.Errorf("unknown capability %q", n)
		}
		if c <= last && c < 64 {
			mask |= 1 << uint(c)
		}
	}
	return mask, nil
}

func capByName(name string) (capability.Cap, bool) {
	for _, c := range capability.ListKnown() {
		if name == "CAP_"+strings.ToUpper(c.String()) {
			return c, true
		}
	}
	return 0, false
}
