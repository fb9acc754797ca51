package seccomp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// seccompData is struct seccomp_data, the input of a filter.
type seccompData struct {
	nr   int32
	arch uint32
	args [6]uint64
}

// x86_64 is seccomp_data for an x86_64 syscall.
func x86_64(nr int32, args ...uint64) seccompData {
	d := seccompData{nr: nr, arch: unix.AUDIT_ARCH_X86_64}
	copy(d.args[:], args)
	return d
}

// encode lays d out for x/net/bpf's VM. The kernel loads the 32-bit words
// of seccomp_data in the host's byte order and the VM in network order, so
// each word is written big-endian at its native offset: a filter then
// loads the same values in the VM as in the kernel.
func (d seccompData) encode() []byte {
	b := make([]byte, 64)
	binary.NativeEndian.PutUint32(b[0:], uint32(d.nr))
	binary.NativeEndian.PutUint32(b[4:], d.arch)
	for i, a := range d.args {
		binary.NativeEndian.PutUint64(b[16+8*i:], a)
	}
	for off := 0; off < len(b); off += 4 {
		binary.BigEndian.PutUint32(b[off:], binary.NativeEndian.Uint32(b[off:]))
	}
	return b
}

// run runs a raw program as the kernel would for d and returns the
// filter's return value (SECCOMP_RET_*).
func run(t testing.TB, filter []byte, d seccompData) uint32 {
	t.Helper()
	return runVM(t, newVM(t, filter), d)
}

// newVM checks a raw program and loads it into x/net/bpf's VM, to run it
// for many inputs.
func newVM(t testing.TB, filter []byte) *bpf.VM {
	t.Helper()
	if err := checkProgram(filter); err != nil {
		t.Fatal(err)
	}
	prog := make([]bpf.Instruction, 0, len(filter)/instructionSize)
	for off := 0; off < len(filter); off += instructionSize {
		raw := bpf.RawInstruction{
			Op: binary.NativeEndian.Uint16(filter[off:]),
			Jt: filter[off+2],
			Jf: filter[off+3],
			K:  binary.NativeEndian.Uint32(filter[off+4:]),
		}
		prog = append(prog, raw.Disassemble())
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("program rejected: %v", err)
	}
	return vm
}

// runVM runs a loaded program for d, as run does.
func runVM(t testing.TB, vm *bpf.VM, d seccompData) uint32 {
	t.Helper()
	ret, err := vm.Run(d.encode())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return uint32(ret)
}

// Return values of a filter.
const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retKill  = unix.SECCOMP_RET_KILL_THREAD
)

func retErrno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }
