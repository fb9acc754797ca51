package seccomp

import (
	"math"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzLoadProfile feeds arbitrary JSON to the parsing, conditioning and
// compiling of a custom profile: an error or a program, never a panic.
func FuzzLoadProfile(f *testing.F) {
	// Small seeds: each input compiles in libseccomp, and a seed as large
	// as docker's whole profile (20 ms a run) makes minimizing what the
	// fuzzer finds take its full minute.
	for _, seed := range []string{
		`{}`,
		`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
		  "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
		    "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
		   {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
		    "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
		    "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
		   {"name": "reboot", "action": "SCMP_ACT_KILL_PROCESS", "includes": {"minKernel": "4.8", "arches": ["amd64"]}}]}`,
		`{"defaultAction": "SCMP_ACT_TRAP", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
		  "syscalls": [{"names": ["read", "no_such_call"], "action": "SCMP_ACT_LOG"}]}`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "open", "close", "stat", "fstat",
		  "lstat", "poll", "lseek", "mmap", "munmap", "brk", "getpid", "socket"], "action": "SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [null]}`,
		`  x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := parseProfile(data, defaultCaps)
		if err != nil || spec == nil {
			return
		}
		if _, err := digestOf(spec); err != nil {
			t.Fatal(err)
		}
		prog, err := compileBPF(spec)
		if err != nil {
			return
		}
		if err := checkProgram(prog); err != nil {
			t.Fatalf("compiled %q to a bad program: %v", data, err)
		}
		// The compacted program answers as libseccomp's did.
		long, err := compileLong(spec)
		if err != nil {
			t.Fatalf("compiled %q, then not: %v", data, err)
		}
		equivalent(t, long, prog, sampleInputs(long))
	})
}

// sampleInputs are a few inputs that tell apart most branches of a
// compiled profile: its constants as syscall numbers, on x86's ABIs and an
// architecture it does not know, with plain arguments and with its
// argument constants.
func sampleInputs(filter []byte) []seccompData {
	args := [][6]uint64{{}, {math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64}}
	words := argWords(filter)
	for i := 0; i < len(words); i += 1 + len(words)/32 {
		w := words[i]
		args = append(args, [6]uint64{w, w, w, w, w, w})
	}
	var out []seccompData
	for _, arch := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64} {
		for _, nr := range around(filter) {
			for _, a := range args {
				out = append(out, seccompData{nr: int32(nr), arch: arch, args: a})
			}
		}
	}
	return out
}
