package seccomp

// Why a stub in front of libseccomp's program.
//
// A profile allows a list of syscalls and denies the rest with its default
// action, EPERM for docker's. A syscall added to the kernel after the
// profile (or after the libseccomp that compiled it) was written is then
// denied with EPERM too. But programs probe new syscalls and fall back to
// an older one only on ENOSYS, the kernel's "not implemented": glibc does
// so for clone3, faccessat2, statx and more, and an EPERM from them makes
// such a program fail instead of falling back. So, as runc does, every
// syscall numbered above the largest number the profile names for its ABI
// answers ENOSYS: the container sees an older kernel, not a forbidden call.
// Syscalls at or below that number go through the profile as written.
//
// The stub, for each ABI it knows (abiTables):
//
//	    ld  [4]                    ; seccomp_data.arch
//	    jeq AUDIT_ARCH_A, 0, next  ; for each architecture A in turn
//	    ld  [0]                    ; seccomp_data.nr
//	    jgt last(A), enosys, prog
//	next: ...                      ; x86_64 splits x32 off by its number bit
//	enosys:
//	    ret ERRNO(ENOSYS)
//	prog:                          ; libseccomp's program, which loads
//	                               ; seccomp_data.arch again itself
//
// An architecture the stub does not know goes straight to libseccomp's
// program, which kills a call from an architecture the profile does not
// allow, and applies the profile to the others.

import (
	"encoding/binary"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

const (
	instructionSize = 8                 // sizeof(struct sock_filter)
	maxInstructions = unix.BPF_MAXINSNS // the kernel's limit per program

	offsetNr   = 0 // offsetof(struct seccomp_data, nr)
	offsetArch = 4 // offsetof(struct seccomp_data, arch)

	// x32BitNr is __X32_SYSCALL_BIT: x32 shares x86_64's AUDIT_ARCH and
	// sets this bit in its syscall numbers.
	x32BitNr = 0x40000000

	// Instructions of classic BPF.
	opLoadAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opJeq     = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJgt     = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	opJset    = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	opJa      = unix.BPF_JMP | unix.BPF_JA
	opRet     = unix.BPF_RET | unix.BPF_K
)

// abiTable is one syscall table the stub checks: its architecture as
// seccomp_data.arch gives it, whether its numbers carry the x32 bit, and
// the largest number the profile names in it (x32 bit included).
type abiTable struct {
	auditArch uint32
	x32       bool
	last      uint32
}

// instruction is one struct sock_filter whose jumps name labels; an empty
// label is the next instruction.
type instruction struct {
	code   uint16
	jt, jf string
	k      uint32
}

// enosysStub builds the stub for the given tables (in any order; the stub
// is the same for the same set). With no tables there is no stub.
func enosysStub(tables []abiTable) ([]byte, error) {
	if len(tables) == 0 {
		return nil, nil
	}
	byArch := map[uint32][]abiTable{}
	var archs []uint32
	for _, t := range tables {
		if _, ok := byArch[t.auditArch]; !ok {
			archs = append(archs, t.auditArch)
		}
		byArch[t.auditArch] = append(byArch[t.auditArch], t)
	}
	sort.Slice(archs, func(i, j int) bool { return archs[i] < archs[j] })

	var prog []instruction
	labels := map[string]int{}
	prog = append(prog, instruction{code: opLoadAbs, k: offsetArch})
	for i, arch := range archs {
		next := "prog"
		if i+1 < len(archs) {
			next = fmt.Sprintf("arch%d", i+1)
		}
		labels[fmt.Sprintf("arch%d", i)] = len(prog)
		prog = append(prog,
			instruction{code: opJeq, jf: next, k: arch},
			instruction{code: opLoadAbs, k: offsetNr})
		var native, x32 *abiTable
		for j := range byArch[arch] {
			t := &byArch[arch][j]
			if t.x32 {
				x32 = t
			} else {
				native = t
			}
		}
		if arch == unix.AUDIT_ARCH_X86_64 {
			// Numbers with the x32 bit are x32's; those without,
			// x86_64's. A table the profile does not have goes to
			// libseccomp's program, which treats it as a bad arch.
			x32Label := fmt.Sprintf("x32-%d", i)
			prog = append(prog, instruction{code: opJset, jt: x32Label, k: x32BitNr})
			prog = append(prog, lastCheck(native))
			labels[x32Label] = len(prog)
			prog = append(prog, lastCheck(x32))
			continue
		}
		if x32 != nil {
			return nil, fmt.Errorf("enosys stub: x32 numbering on architecture %#x", arch)
		}
		prog = append(prog, lastCheck(native))
	}
	labels["enosys"] = len(prog)
	prog = append(prog, instruction{code: opRet, k: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)})
	labels["prog"] = len(prog)
	return assemble(prog, labels)
}

// lastCheck answers ENOSYS above the table's last syscall, and hands the
// rest to libseccomp's program.
func lastCheck(t *abiTable) instruction {
	if t == nil {
		return instruction{code: opJa, jt: "prog"}
	}
	return instruction{code: opJgt, jt: "enosys", jf: "prog", k: t.last}
}

// assemble resolves the labels and encodes the instructions in the host's
// byte order. The label "prog" may be the end: the program that follows.
func assemble(prog []instruction, labels map[string]int) ([]byte, error) {
	out := make([]byte, 0, len(prog)*instructionSize)
	for pc, in := range prog {
		jt, err := offset(labels, in.jt, pc)
		if err != nil {
			return nil, err
		}
		jf, err := offset(labels, in.jf, pc)
		if err != nil {
			return nil, err
		}
		k := in.k
		if in.code == opJa {
			// BPF_JA jumps by k; jt and jf are unused.
			k, jt = uint32(jt), 0
		}
		out = binary.NativeEndian.AppendUint16(out, in.code)
		out = append(out, jt, jf)
		out = binary.NativeEndian.AppendUint32(out, k)
	}
	return out, nil
}

// offset is the relative jump from the instruction at pc to label.
func offset(labels map[string]int, label string, pc int) (uint8, error) {
	if label == "" {
		return 0, nil
	}
	to, ok := labels[label]
	if !ok {
		return 0, fmt.Errorf("enosys stub: no label %q", label)
	}
	d := to - pc - 1
	if d < 0 || d > 255 {
		return 0, fmt.Errorf("enosys stub: jump of %d from %d to %q", d, pc, label)
	}
	return uint8(d), nil
}
