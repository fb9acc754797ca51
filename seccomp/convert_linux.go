package seccomp

import (
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// maxErrno is the largest errno the kernel hands back (MAX_ERRNO).
const maxErrno = 4095

// compileBPF turns a conditioned profile into the raw program: the ENOSYS
// stub, then libseccomp's program, compacted (compact.go).
func compileBPF(spec *specs.LinuxSeccomp) ([]byte, error) {
	prog, err := compileLong(spec)
	if err != nil {
		return nil, err
	}
	prog = compact(prog)
	if n := len(prog) / instructionSize; n > maxInstructions {
		return nil, fmt.Errorf("program of %d instructions: the kernel takes at most %d", n, maxInstructions)
	}
	return prog, nil
}

// compileLong is compileBPF before compacting.
func compileLong(spec *specs.LinuxSeccomp) ([]byte, error) {
	if len(spec.Flags) != 0 {
		return nil, fmt.Errorf("flags %v: not supported (the program is loaded with no flags)", spec.Flags)
	}
	defaultAction, err := action(spec.DefaultAction, spec.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	arches, err := architectures(spec.Architectures)
	if err != nil {
		return nil, err
	}
	filter, err := libseccomp.NewFilter(defaultAction)
	if err != nil {
		return nil, fmt.Errorf("new libseccomp filter: %w", err)
	}
	defer filter.Release()
	// A syscall from an architecture the profile does not list (an x32
	// call under a profile of x86_64 alone) kills the process. libseccomp
	// would kill the thread only, and a process whose main thread is gone
	// while its others run never exits.
	if err := filter.SetBadArchAction(libseccomp.ActKillProcess); err != nil {
		return nil, fmt.Errorf("set bad architecture action: %w", err)
	}
	for _, a := range arches {
		if err := filter.AddArch(a); err != nil {
			return nil, fmt.Errorf("add architecture %s: %w", a, err)
		}
	}
	for i, call := range spec.Syscalls {
		if err := addRules(filter, defaultAction, call); err != nil {
			return nil, fmt.Errorf("syscalls[%d] %v: %w", i, call.Names, err)
		}
	}
	prog, err := exportBPF(filter)
	if err != nil {
		return nil, err
	}
	if !permissive(defaultAction) {
		stub, err := enosysStub(abiTables(spec.Syscalls, arches))
		if err != nil {
			return nil, err
		}
		prog = append(stub, prog...)
	}
	return prog, nil
}

// action converts an OCI action. errnoRet applies to SCMP_ACT_ERRNO and
// SCMP_ACT_TRACE (EPERM when nil) and is an error on any other action.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	var act libseccomp.ScmpAction
	switch a {
	case specs.ActKill, specs.ActKillThread:
		act = libseccomp.ActKillThread
	case specs.ActKillProcess:
		act = libseccomp.ActKillProcess
	case specs.ActTrap:
		act = libseccomp.ActTrap
	case specs.ActErrno:
		act = libseccomp.ActErrno
	case specs.ActTrace:
		act = libseccomp.ActTrace
	case specs.ActAllow:
		act = libseccomp.ActAllow
	case specs.ActLog:
		act = libseccomp.ActLog
	case specs.ActNotify:
		return libseccomp.ActInvalid, fmt.Errorf("action %s: not supported (no listener for notifications)", a)
	default:
		return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a)
	}
	if act != libseccomp.ActErrno && act != libseccomp.ActTrace {
		if errnoRet != nil {
			return libseccomp.ActInvalid, fmt.Errorf("action %s takes no errnoRet", a)
		}
		return act, nil
	}
	errno := uint(unix.EPERM)
	if errnoRet != nil {
		errno = *errnoRet
	}
	if errno > maxErrno {
		return libseccomp.ActInvalid, fmt.Errorf("errnoRet %d: above the largest errno, %d", errno, maxErrno)
	}
	return act.SetReturnCode(int16(errno)), nil
}

// permissive tells whether an action lets the syscall run: a syscall the
// profile does not know is then let run too, and needs no ENOSYS.
func permissive(a libseccomp.ScmpAction) bool {
	switch a & 0xffff {
	case libseccomp.ActAllow, libseccomp.ActLog, libseccomp.ActTrace:
		return true
	}
	return false
}

// archNames maps the OCI names of architectures to libseccomp's.
var archNames = map[specs.Arch]string{
	specs.ArchX86:         "x86",
	specs.ArchX86_64:      "amd64",
	specs.ArchX32:         "x32",
	specs.ArchARM:         "arm",
	specs.ArchAARCH64:     "arm64",
	specs.ArchMIPS:        "mips",
	specs.ArchMIPS64:      "mips64",
	specs.ArchMIPS64N32:   "mips64n32",
	specs.ArchMIPSEL:      "mipsel",
	specs.ArchMIPSEL64:    "mipsel64",
	specs.ArchMIPSEL64N32: "mipsel64n32",
	specs.ArchPPC:         "ppc",
	specs.ArchPPC64:       "ppc64",
	specs.ArchPPC64LE:     "ppc64le",
	specs.ArchS390:        "s390",
	specs.ArchS390X:       "s390x",
	specs.ArchPARISC:      "parisc",
	specs.ArchPARISC64:    "parisc64",
	specs.ArchRISCV64:     "riscv64",
	specs.ArchLOONGARCH64: "loong64",
}

// architectures converts the profile's architectures, the native one
// first (libseccomp always filters the native one).
func architectures(names []specs.Arch) ([]libseccomp.ScmpArch, error) {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("native architecture: %w", err)
	}
	out := []libseccomp.ScmpArch{native}
	for _, n := range names {
		name, ok := archNames[n]
		if !ok {
			return nil, fmt.Errorf("unknown architecture %q", n)
		}
		a, err := libseccomp.GetArchFromString(name)
		if err != nil {
			return nil, fmt.Errorf("architecture %s: %w", n, err)
		}
		if !containsArch(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func containsArch(list []libseccomp.ScmpArch, a libseccomp.ScmpArch) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}

// operators maps the OCI comparison operators to libseccomp's.
var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// conditions converts a rule's argument conditions. As in runc and docker,
// the conditions of one rule must all hold, unless two of them test the
// same argument: then each condition is a rule of its own and any one
// suffices (a profile writes "arg0 is A or B" that way).
func conditions(args []specs.LinuxSeccompArg) (all []libseccomp.ScmpCondition, anyOf bool, err error) {
	seen := map[uint]bool{}
	for _, a := range args {
		op, ok := operators[a.Op]
		if !ok {
			return nil, false, fmt.Errorf("args: unknown operator %q", a.Op)
		}
		values := []uint64{a.Value}
		if op == libseccomp.CompareMaskedEqual {
			// OCI: (arg & value) == valueTwo; libseccomp: mask, datum.
			values = append(values, a.ValueTwo)
		}
		c, err := libseccomp.MakeCondition(a.Index, op, values...)
		if err != nil {
			return nil, false, fmt.Errorf("args: index %d: %w", a.Index, err)
		}
		anyOf = anyOf || seen[a.Index]
		seen[a.Index] = true
		all = append(all, c)
	}
	return all, anyOf, nil
}

// addRules adds one OCI rule for each of its syscall names. A name
// libseccomp does not know (a syscall newer than the library) is skipped,
// as runc skips it: the ENOSYS stub answers for it instead. A rule whose
// action is the default action adds nothing (libseccomp refuses it).
func addRules(filter *libseccomp.ScmpFilter, defaultAction libseccomp.ScmpAction, call specs.LinuxSyscall) error {
	act, err := action(call.Action, call.ErrnoRet)
	if err != nil {
		return err
	}
	conds, anyOf, err := conditions(call.Args)
	if err != nil {
		return err
	}
	if act == defaultAction {
		return nil
	}
	for _, name := range call.Names {
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			continue
		}
		switch {
		case len(conds) == 0:
			err = filter.AddRule(nr, act)
		case anyOf:
			for _, c := range conds {
				if err = filter.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
					break
				}
			}
		default:
			err = filter.AddRuleConditional(nr, act, conds)
		}
		if err != nil {
			return fmt.Errorf("add rule for %s: %w", name, err)
		}
	}
	return nil
}

// stubArches are the architectures the ENOSYS stub knows: their syscall
// numbers are one plain range (x32's with its bit set), with no private
// ranges above the table (as 32-bit arm's 0x0f0000 calls) that the stub
// would answer ENOSYS for.
var stubArches = map[libseccomp.ScmpArch]abiTable{
	libseccomp.ArchAMD64:   {auditArch: unix.AUDIT_ARCH_X86_64},
	libseccomp.ArchX32:     {auditArch: unix.AUDIT_ARCH_X86_64, x32: true},
	libseccomp.ArchX86:     {auditArch: unix.AUDIT_ARCH_I386},
	libseccomp.ArchARM64:   {auditArch: unix.AUDIT_ARCH_AARCH64},
	libseccomp.ArchRISCV64: {auditArch: unix.AUDIT_ARCH_RISCV64},
}

// abiTables finds, for each architecture the stub knows, the largest
// syscall number the profile names. Pseudo-syscalls (libseccomp's negative
// numbers for names an architecture lacks) do not count; an architecture
// for which the profile names nothing gets no check.
func abiTables(calls []specs.LinuxSyscall, arches []libseccomp.ScmpArch) []abiTable {
	var out []abiTable
	for _, a := range arches {
		t, ok := stubArches[a]
		if !ok {
			continue
		}
		found := false
		for _, call := range calls {
			for _, name := range call.Names {
				nr, err := libseccomp.GetSyscallFromNameByArch(name, a)
				if err != nil || nr < 0 {
					continue
				}
				n := uint32(nr)
				if t.x32 {
					n |= x32BitNr
				}
				if !found || n > t.last {
					t.last, found = n, true
				}
			}
		}
		if found {
			out = append(out, t)
		}
	}
	return out
}

// exportBPF writes libseccomp's program to a memory file and reads it back.
func exportBPF(filter *libseccomp.ScmpFilter) (prog []byte, err error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("export program: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export program: %w", cerr)
		}
	}()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("export program: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("export program: %w", err)
	}
	prog, err = io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("export program: %w", err)
	}
	if len(prog) == 0 || len(prog)%instructionSize != 0 {
		return nil, fmt.Errorf("export program: libseccomp wrote %d bytes, not whole instructions", len(prog))
	}
	return prog, nil
}
