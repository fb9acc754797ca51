package seccomp

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Tests of compact.go (unit tier): each program is run before and after
// compacting in x/net/bpf's VM, and must answer alike for every input.

// equivalent fails t where long and short answer an input differently.
func equivalent(t testing.TB, long, short []byte, inputs []seccompData) {
	t.Helper()
	vl, vs := newVM(t, long), newVM(t, short)
	bad := 0
	for _, d := range inputs {
		want, got := runVM(t, vl, d), runVM(t, vs, d)
		if got != want {
			t.Errorf("arch %#x nr %#x args %#x: compacted %#x, original %#x", d.arch, uint32(d.nr), d.args, got, want)
			if bad++; bad == 10 {
				t.FailNow()
			}
		}
	}
}

// around is every constant of the jumps of a program, one below and one
// above, and the ends of the 32-bit range: the values of A that tell
// every branch of it apart.
func around(filter []byte) []uint32 {
	vals := []uint32{0, 1, math.MaxInt32, math.MaxInt32 + 1, math.MaxUint32 - 1, math.MaxUint32}
	for off := 0; off < len(filter); off += instructionSize {
		code := binary.NativeEndian.Uint16(filter[off:])
		if code&0x07 == unix.BPF_JMP && code != opJa {
			k := binary.NativeEndian.Uint32(filter[off+4:])
			vals = append(vals, k-1, k, k+1)
		}
	}
	slices.Sort(vals)
	return slices.Compact(vals)
}

// argWords are the values an argument word is tried with for a program:
// the constants of the jumps after a load of an argument, one below and
// one above, and each bit of a mask taken of one.
func argWords(filter []byte) []uint64 {
	var words []uint64
	lastLoad := uint32(0)
	for off := 0; off < len(filter); off += instructionSize {
		code := binary.NativeEndian.Uint16(filter[off:])
		k := binary.NativeEndian.Uint32(filter[off+4:])
		switch {
		case code == opLoadAbs:
			lastLoad = k
		case lastLoad < 16:
		case code&0x07 == unix.BPF_JMP && code != opJa:
			words = append(words, uint64(k-1), uint64(k), uint64(k+1))
		case code == unix.BPF_ALU|unix.BPF_AND|unix.BPF_K:
			words = append(words, uint64(k))
			for b := range 32 {
				if k&(1<<b) != 0 {
					words = append(words, 1<<b)
				}
			}
		}
	}
	return words
}

// profileInputs are the inputs a compiled profile is checked on: every
// architecture the stub knows and some it does not, every syscall number
// below 2048 and x32's below 1024 and the ends of the range, with plain
// and random arguments; and the syscalls whose arguments the profile
// looks at with arguments that meet and miss each of its conditions.
func profileInputs(t *testing.T, spec *specs.LinuxSeccomp, long []byte) []seccompData {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	archs := []uint32{unix.AUDIT_ARCH_ARM, unix.AUDIT_ARCH_S390X, 0}
	for _, a := range stubArches {
		if !slices.Contains(archs, a.auditArch) {
			archs = append(archs, a.auditArch)
		}
	}
	var nrs []uint32
	for nr := uint32(0); nr < 2048; nr++ {
		nrs = append(nrs, nr)
	}
	for nr := uint32(0); nr < 1024; nr++ {
		nrs = append(nrs, x32BitNr|nr)
	}
	nrs = append(nrs, math.MaxUint32, math.MaxInt32, math.MaxInt32+1, x32BitNr-1, math.MaxUint32&^x32BitNr)
	for range 64 {
		nrs = append(nrs, rnd.Uint32())
	}

	// The syscalls the profile has conditions on the arguments of, in
	// each of x86's ABIs.
	conditioned := map[uint32]bool{}
	for _, call := range spec.Syscalls {
		if len(call.Args) == 0 {
			continue
		}
		for _, name := range call.Names {
			for _, arch := range []libseccomp.ScmpArch{libseccomp.ArchAMD64, libseccomp.ArchX86, libseccomp.ArchX32} {
				nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
				if err != nil || nr < 0 {
					continue
				}
				conditioned[uint32(nr)] = true
				conditioned[uint32(nr)|x32BitNr] = true
			}
		}
	}
	if len(conditioned) == 0 {
		t.Fatal("the profile has no conditions on arguments")
	}

	// Argument words: the program's own, clone's namespace flags alone
	// and with a thread's, personality's values, every socket family up
	// to 50 (AF_VSOCK is 40, AF_ALG 38), and upper halves set.
	thread := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID)
	words := []uint64{
		unix.CLONE_NEWUSER, unix.CLONE_NEWNS, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC,
		unix.CLONE_NEWPID, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP, uint64(unix.SIGCHLD),
		thread, thread | unix.CLONE_NEWUSER, thread | unix.CLONE_NEWNET,
		0x20000, 0x20008, 0x0008, 0x20001, 0x0040000, math.MaxUint32,
		1 << 32, 1<<32 | 8, 1<<32 | 40, 0xffffffff00000000, math.MaxUint64,
	}
	for af := uint64(0); af <= 50; af++ {
		words = append(words, af)
	}
	words = append(words, argWords(long)...)
	slices.Sort(words)
	words = slices.Compact(words)
	var argsets [][6]uint64
	for _, w := range words {
		argsets = append(argsets, [6]uint64{w}, [6]uint64{0, w}, [6]uint64{w, w, w, w, w, w})
	}
	random := make([][6]uint64, 16)
	for i := range random {
		for j := range random[i] {
			random[i][j] = rnd.Uint64()
		}
	}
	argsets = append(argsets, random...)

	plain := [][6]uint64{{}, {math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64}}
	var out []seccompData
	for _, arch := range archs {
		for i, nr := range nrs {
			sets := append(plain, random[i%len(random)])
			if conditioned[nr] {
				sets = argsets
			}
			for _, a := range sets {
				out = append(out, seccompData{nr: int32(nr), arch: arch, args: a})
			}
		}
	}
	return out
}

func TestCompactProfiles(t *testing.T) {
	withAdmin := append(slices.Clone(defaultCaps), "CAP_SYS_ADMIN")
	tests := []struct {
		name string
		o    Options
		max  int // instructions the compact program may have, 0 for any
	}{
		{"default", Options{Capabilities: defaultCaps}, 400},
		{"default with CAP_SYS_ADMIN", Options{Capabilities: withAdmin}, 400},
		{"default without capabilities", Options{}, 400},
		{"custom", Options{Profile: "testdata/custom.json", Capabilities: defaultCaps}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := condition(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			long, err := compileLong(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			short, err := compactProgram(long)
			if err != nil {
				t.Fatal(err)
			}
			n, m := len(long)/instructionSize, len(short)/instructionSize
			t.Logf("%d instructions, %d compacted", n, m)
			if m >= n || tt.max != 0 && m > tt.max {
				t.Errorf("compacted to %d instructions from %d, want fewer than %d", m, n, min(n, tt.max+1))
			}
			p, err := Compile(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if string(p.Filter) != string(short) {
				t.Error("Compile's program is not the compacted one")
			}
			equivalent(t, long, short, profileInputs(t, c.spec, long))
		})
	}
}

// label marks the place of a label in a test program.
func label(name string) instruction { return instruction{code: 0xffff, jt: name} }

// asm assembles a test program whose jumps name labels ("" is the next
// instruction); a ja may go any distance.
func asm(t testing.TB, prog ...instruction) []byte {
	t.Helper()
	out, err := assembleTest(prog)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assembleTest(prog []instruction) ([]byte, error) {
	labels := map[string]int{}
	var body []instruction
	for _, in := range prog {
		if in.code == 0xffff {
			labels[in.jt] = len(body)
			continue
		}
		body = append(body, in)
	}
	var out []byte
	for pc, in := range body {
		var d [2]int
		for i, name := range []string{in.jt, in.jf} {
			if name == "" {
				continue
			}
			at, ok := labels[name]
			if !ok || at <= pc {
				return nil, fmt.Errorf("instruction %d: no label %q after it", pc, name)
			}
			d[i] = at - pc - 1
		}
		jt, jf, k := d[0], d[1], in.k
		if in.code == opJa {
			k, jt = uint32(jt), 0
		}
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("instruction %d: jump too far", pc)
		}
		out = binary.NativeEndian.AppendUint16(out, in.code)
		out = append(out, uint8(jt), uint8(jf))
		out = binary.NativeEndian.AppendUint32(out, k)
	}
	return out, nil
}

// Short names for the hand-written programs.
func ldNr() instruction   { return instruction{code: opLoadAbs, k: offsetNr} }
func ldArg0() instruction { return instruction{code: opLoadAbs, k: 16} }
func ret(k uint32) instruction {
	return instruction{code: opRet, k: k}
}
func jeq(k uint32, jt, jf string) instruction { return instruction{code: opJeq, k: k, jt: jt, jf: jf} }
func ja(to string) instruction                { return instruction{code: opJa, jt: to} }

// jeqs is a chain of jeq to t over values.
func jeqs(t string, values ...uint32) []instruction {
	var out []instruction
	for _, v := range values {
		out = append(out, jeq(v, t, ""))
	}
	return out
}

func seq(parts ...any) []instruction {
	var out []instruction
	for _, p := range parts {
		switch p := p.(type) {
		case instruction:
			out = append(out, p)
		case []instruction:
			out = append(out, p...)
		}
	}
	return out
}

func span(from, to uint32) []uint32 {
	var out []uint32
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

func TestCompactChains(t *testing.T) {
	allow, eperm, kill := uint32(retAllow), retErrno(unix.EPERM), uint32(retKill)
	long := append(span(0, 99), span(101, 249)...)
	tests := []struct {
		name   string
		prog   []instruction
		length int // of the compacted program
	}{
		{"chain with gaps", seq(ldNr(), jeqs("allow", 1, 2, 3, 5, 7, 8, 9, 20, 21, 22, 23, 100),
			ret(eperm), label("allow"), ret(allow)), 11},
		{"values out of order, repeated, at both ends", seq(ldNr(),
			jeqs("allow", math.MaxUint32, 0, 5, 1, 5, math.MaxUint32-1, 2, 3, 0), ret(eperm), label("allow"), ret(allow)), 7},
		{"T a ja trampoline", seq(ldNr(), jeqs("tramp", 10, 11, 12, 13, 14, 15), ret(eperm),
			label("tramp"), ja("allow"), ret(kill), label("allow"), ret(allow)), 5},
		{"T a ja to more code", seq(ldNr(), jeqs("tramp", 10, 11, 12, 13, 14, 15), ret(eperm),
			label("tramp"), ja("more"), ret(kill), label("more"), ldArg0(), jeq(7, "allow", ""), ret(kill),
			label("allow"), ret(allow)), 9},
		{"one element", seq(ldNr(), jeq(4, "allow", ""), ret(eperm), label("allow"), ret(allow)), 4},
		{"two elements, no shorter", seq(ldNr(), jeqs("allow", 4, 5), ret(eperm), label("allow"), ret(allow)), 5},
		{"nested: a chain on nr whose T is a chain on an argument", seq(ldNr(), jeqs("args", span(1, 10)...),
			ret(kill), label("args"), ldArg0(), jeqs("allow", 3, 4, 5, 6, 7, 9), ret(eperm), label("allow"), ret(allow)), 11},
		{"returns of the same value are one target", seq(ldNr(), jeqs("a1", 1, 2, 3), jeq(4, "", "rest"),
			label("a1"), ret(allow), label("rest"), jeqs("a2", 5, 6, 7), ret(eperm), label("a2"), ret(allow)), 5},
		{"a different target breaks the chain", seq(ldNr(), jeqs("allow", 1, 2, 3, 4), jeq(5, "kill", ""),
			jeqs("allow", 6, 7, 8, 9), ret(eperm), label("kill"), ret(kill), label("allow"), ret(allow)), 10},
		{"a jump into the middle breaks the chain", seq(ldNr(), jeq(1000, "mid", ""), jeqs("allow", 1, 2, 3, 4),
			label("mid"), jeqs("allow", 5, 6, 7, 8), ret(eperm), label("allow"), ret(allow)), 9},
		{"a load between breaks the chain", seq(ldNr(), jeqs("allow", 1, 2, 3, 4), ldArg0(),
			jeqs("allow", 5, 6, 7, 8), ret(eperm), label("allow"), ret(allow)), 9},
		{"far jumps over a compacted chain", seq(ldArg0(), jeq(1, "", "chain"), ja("far"), label("chain"),
			ldNr(), jeqs("t", long...), ret(eperm), label("t"), ret(allow), label("far"), ldArg0(),
			jeq(2, "allow", ""), ret(kill), label("allow"), ret(allow)), 13},
		{"chains split by far trampolines", seq(ldNr(), jeqs("t1", span(0, 200)...), jeq(201, "", "on"),
			label("t1"), ja("allow"), label("on"), jeqs("t2", span(202, 400)...), ret(eperm), label("t2"),
			ja("allow"), label("allow"), ret(allow)), 4},
		{"a chain's exit is another chain", seq(ldNr(), jeqs("allow", 1, 2, 3, 4), jeqs("kill", 10, 12, 14, 16, 18, 20, 22),
			ret(eperm), label("kill"), ret(kill), label("allow"), ret(allow)), 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			long := asm(t, tt.prog...)
			short, err := compactProgram(long)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(short) / instructionSize; got != tt.length {
				t.Errorf("compacted to %d instructions from %d, want %d", got, len(long)/instructionSize, tt.length)
			}
			equivalent(t, long, short, pairs(around(long), nil))
		})
	}
}

// pairs is seccomp_data for x86_64 with nr and the low word of arg0 each
// of vals (all pairs, or each with each of with when given).
func pairs(vals, with []uint32) []seccompData {
	if with == nil {
		with = vals
	}
	var out []seccompData
	for _, a := range vals {
		for _, b := range with {
			out = append(out,
				seccompData{nr: int32(a), arch: unix.AUDIT_ARCH_X86_64, args: [6]uint64{uint64(b)}},
				seccompData{nr: int32(b), arch: unix.AUDIT_ARCH_X86_64, args: [6]uint64{uint64(a)}})
		}
	}
	return out
}

// A program compactProgram cannot take back is left as it was.
func TestCompactRefuses(t *testing.T) {
	for name, prog := range map[string][]byte{
		"empty":               nil,
		"half an instruction": {1, 2, 3},
		"jump out":            asmRaw(opJeq, 5, 0, 1, opRet, 0, 0, 0),
		"ja out":              asmRaw(opJa, 0, 0, 1, opRet, 0, 0, 0),
		"falls off the end":   asmRaw(opRet, 0, 0, 0, opLoadAbs, 0, 0, 0),
		"unknown jump":        asmRaw(unix.BPF_JMP|0xe0, 0, 0, 0, opRet, 0, 0, 0),
	} {
		if _, err := compactProgram(prog); err == nil {
			t.Errorf("%s: no error", name)
		}
		if got := compact(prog); string(got) != string(prog) {
			t.Errorf("%s: compact changed the program", name)
		}
	}
}

// A jump over the place of a chain's new code that no longer fits in its
// 8 bits leaves the program as it was.
func TestCompactJumpTooFar(t *testing.T) {
	// 400 values in runs of three: 268 instructions of new code, which a
	// jump from before the chain to a return between its first members
	// must now pass.
	var vals []uint32
	for i := range uint32(400) {
		vals = append(vals, i+i/3)
	}
	prog := asm(t, seq(ldNr(), jeq(1000, "between", ""), jeq(vals[0], "t1", "on"),
		label("between"), ret(retKill), label("on"), jeqs("t1", vals[1:199]...), jeq(vals[199], "t1", "more"),
		label("t1"), ja("allow"), label("more"), jeqs("t2", vals[200:]...), ret(retErrno(unix.EPERM)),
		label("t2"), ja("allow"), label("allow"), ret(retAllow))...)
	if _, err := compactProgram(prog); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("got %v, want a jump that does not fit", err)
	}
	if got := compact(prog); string(got) != string(prog) {
		t.Error("compact changed the program")
	}
}

// asmRaw encodes instructions given as code, jt, jf, k.
func asmRaw(fields ...uint32) []byte {
	var out []byte
	for i := 0; i+3 < len(fields); i += 4 {
		out = binary.NativeEndian.AppendUint16(out, uint16(fields[i]))
		out = append(out, uint8(fields[i+1]), uint8(fields[i+2]))
		out = binary.NativeEndian.AppendUint32(out, fields[i+3])
	}
	return out
}

// fuzzReader hands out the bytes of a fuzz input, then zeros.
type fuzzReader []byte

func (r *fuzzReader) byte() uint8 {
	if len(*r) == 0 {
		return 0
	}
	b := (*r)[0]
	*r = (*r)[1:]
	return b
}

func (r *fuzzReader) uint32() uint32 {
	return uint32(r.byte()) | uint32(r.byte())<<8 | uint32(r.byte())<<16 | uint32(r.byte())<<24
}

// fuzzProgram builds a small program from data: runs of jeq on nr or on an
// argument, mostly to one target and sometimes not, with loads, jgt,
// skips into later instructions and returns among them, then a tail of
// returns (several of the same value) and ja trampolines to them.
func fuzzProgram(data []byte) ([]byte, error) {
	r := fuzzReader(data)
	rets := []uint32{retAllow, retErrno(unix.EPERM), retErrno(unix.ENOSYS), retKill, unix.SECCOMP_RET_TRAP}
	nTail := 1 + int(r.byte()%6)
	var tail []instruction
	for i := range nTail {
		if b := r.byte(); b%4 == 0 && i+1 < nTail {
			tail = append(tail, ja(fmt.Sprintf("tail%d", i+1+int(b/4)%(nTail-i-1))))
		} else {
			tail = append(tail, ret(rets[b%5]))
		}
	}
	tailLabel := func() string { return fmt.Sprintf("tail%d", int(r.byte())%nTail) }
	value := func() uint32 {
		if b := r.byte(); b%8 == 0 {
			return r.uint32()
		} else {
			return uint32(b % 40)
		}
	}
	var body []instruction
	skips := 0
	for len(body) < 64 && len(r) > 0 {
		switch r.byte() % 8 {
		case 0:
			body = append(body, ldNr())
		case 1:
			body = append(body, ldArg0())
		case 2, 3, 4:
			to, n := tailLabel(), 1+int(r.byte()%16)
			for range n {
				in := jeq(value(), to, "")
				if r.byte()%8 == 0 {
					in.jt = tailLabel()
				}
				body = append(body, in)
			}
		case 5:
			body = append(body, instruction{code: opJgt, k: value(), jt: tailLabel()})
		case 6:
			// A jump a few instructions on, into what comes next.
			name := fmt.Sprintf("skip%d", skips)
			skips++
			body = append(body, jeq(value(), tailLabel(), name))
			for range int(r.byte() % 4) {
				body = append(body, jeq(value(), tailLabel(), ""))
			}
			body = append(body, label(name))
		case 7:
			body = append(body, ret(rets[r.byte()%5]))
		}
	}
	prog := append([]instruction{ldNr()}, body...)
	for i, in := range tail {
		prog = append(prog, label(fmt.Sprintf("tail%d", i)), in)
	}
	return assembleTest(prog)
}

func FuzzCompact(f *testing.F) {
	f.Add([]byte{2, 0, 2, 3, 8, 1, 0, 2, 0, 3, 0, 4, 0, 9, 0, 10})
	f.Add([]byte{4, 4, 1, 0, 3, 2, 12, 1, 1, 0, 4, 0, 8, 1, 2, 3, 4, 5, 0, 0, 0, 3, 1, 6, 5, 2, 1, 9})
	f.Add([]byte{5, 2, 3, 9, 1, 6, 7, 3, 4, 2, 2, 2, 8, 0, 0, 0, 255, 2, 14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Fuzz(func(t *testing.T, data []byte) {
		long, err := fuzzProgram(data)
		if err != nil {
			t.Fatalf("fuzzProgram: %v", err)
		}
		short, err := compactProgram(long)
		if err != nil {
			t.Fatalf("%v\n%s", err, disassemble(long))
		}
		if len(short) > len(long) {
			t.Fatalf("compacted to %d bytes from %d", len(short), len(long))
		}
		vals := around(long)
		with := vals
		if len(vals) > 24 {
			with = []uint32{0, vals[len(vals)/3], vals[len(vals)/2], vals[2*len(vals)/3], math.MaxUint32}
		}
		equivalent(t, long, short, pairs(vals, with))
		if t.Failed() {
			t.Logf("original:\n%s\ncompacted:\n%s", disassemble(long), disassemble(short))
		}
	})
}

// disassemble lists a raw program, one instruction a line.
func disassemble(filter []byte) string {
	var s []byte
	for off := 0; off+instructionSize <= len(filter); off += instructionSize {
		raw := bpf.RawInstruction{
			Op: binary.NativeEndian.Uint16(filter[off:]),
			Jt: filter[off+2],
			Jf: filter[off+3],
			K:  binary.NativeEndian.Uint32(filter[off+4:]),
		}
		s = fmt.Appendf(s, "%3d: %v\n", off/instructionSize, raw.Disassemble())
	}
	return string(s)
}
