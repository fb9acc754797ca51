package seccomp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func ptr(u uint) *uint { return &u }

// nativeData is seccomp_data for the named syscall on this host.
func nativeData(t *testing.T, name string, args ...uint64) seccompData {
	t.Helper()
	arch, err := libseccomp.GetNativeArch()
	if err != nil {
		t.Fatal(err)
	}
	abi, ok := stubArches[arch]
	if !ok || abi.x32 {
		t.Skipf("no audit arch known for %s", arch)
	}
	nr, err := libseccomp.GetSyscallFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	d := seccompData{nr: int32(nr), arch: abi.auditArch}
	copy(d.args[:], args)
	return d
}

// denyAllBut is a profile denying everything with EPERM but calls.
func denyAllBut(calls ...specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: calls}
}

func allowArgs(args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActAllow, Args: args}
}

func TestConvert(t *testing.T) {
	eperm := retErrno(unix.EPERM)
	type probe struct {
		call string
		args []uint64
		want uint32
	}
	tests := []struct {
		name   string
		spec   *specs.LinuxSeccomp
		probes []probe
	}{
		{"default errno is EPERM", denyAllBut(), []probe{{"mkdir", nil, eperm}}},
		{"defaultErrnoRet", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: ptr(uint(unix.EACCES))},
			[]probe{{"mkdir", nil, retErrno(unix.EACCES)}}},
		{"allow", denyAllBut(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActAllow}),
			[]probe{{"mkdir", nil, retAllow}, {"read", nil, eperm}, {"rmdir", nil, retErrno(unix.ENOSYS)}}},
		{"errnoRet", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(unix.ENOSYS))},
			{Names: []string{"rmdir"}, Action: specs.ActErrno}}},
			[]probe{{"mkdir", nil, retErrno(unix.ENOSYS)}, {"rmdir", nil, eperm}, {"getpid", nil, retAllow}}},
		{"errno 0", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: ptr(0)}}},
			[]probe{{"mkdir", nil, retErrno(0)}}},
		{"kill, kill_thread, kill_process, trap, log, trace", denyAllBut(
			specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActKill},
			specs.LinuxSyscall{Names: []string{"rmdir"}, Action: specs.ActKillThread},
			specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActKillProcess},
			specs.LinuxSyscall{Names: []string{"getppid"}, Action: specs.ActTrap},
			specs.LinuxSyscall{Names: []string{"getuid"}, Action: specs.ActLog},
			specs.LinuxSyscall{Names: []string{"getgid"}, Action: specs.ActTrace},
			specs.LinuxSyscall{Names: []string{"geteuid"}, Action: specs.ActTrace, ErrnoRet: ptr(7)}),
			[]probe{
				{"mkdir", nil, retKill}, {"rmdir", nil, retKill},
				{"getpid", nil, unix.SECCOMP_RET_KILL_PROCESS}, {"getppid", nil, unix.SECCOMP_RET_TRAP},
				{"getuid", nil, unix.SECCOMP_RET_LOG}, {"getgid", nil, unix.SECCOMP_RET_TRACE | uint32(unix.EPERM)},
				{"geteuid", nil, unix.SECCOMP_RET_TRACE | 7},
			}},
		{"unknown names skipped", denyAllBut(specs.LinuxSyscall{Names: []string{"no_such_syscall", "mkdir"}, Action: specs.ActAllow}),
			[]probe{{"mkdir", nil, retAllow}}},
		{"rule with the default action", denyAllBut(
			specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(unix.EPERM))}),
			[]probe{{"mkdir", nil, eperm}}},
		{"SCMP_CMP_NE", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 1, Value: 5, Op: specs.OpNotEqual})),
			[]probe{{"mkdir", []uint64{0, 4}, retAllow}, {"mkdir", []uint64{0, 5}, eperm}}},
		{"SCMP_CMP_LT", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 1, Value: 5, Op: specs.OpLessThan})),
			[]probe{{"mkdir", []uint64{0, 4}, retAllow}, {"mkdir", []uint64{0, 5}, eperm}}},
		{"SCMP_CMP_LE", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 1, Value: 5, Op: specs.OpLessEqual})),
			[]probe{{"mkdir", []uint64{0, 5}, retAllow}, {"mkdir", []uint64{0, 6}, eperm}}},
		{"SCMP_CMP_EQ", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 0, Value: 1 << 40, Op: specs.OpEqualTo})),
			[]probe{{"mkdir", []uint64{1 << 40}, retAllow}, {"mkdir", []uint64{0}, eperm}, {"mkdir", []uint64{1<<40 | 1}, eperm}}},
		{"SCMP_CMP_GE", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 1, Value: 5, Op: specs.OpGreaterEqual})),
			[]probe{{"mkdir", []uint64{0, 5}, retAllow}, {"mkdir", []uint64{0, 4}, eperm}}},
		{"SCMP_CMP_GT", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 1, Value: 5, Op: specs.OpGreaterThan})),
			[]probe{{"mkdir", []uint64{0, 6}, retAllow}, {"mkdir", []uint64{0, 5}, eperm}}},
		{"SCMP_CMP_MASKED_EQ", denyAllBut(allowArgs(specs.LinuxSeccompArg{
			Index: 0, Value: unix.CLONE_NEWUSER | unix.CLONE_NEWNS, ValueTwo: 0, Op: specs.OpMaskedEqual})),
			[]probe{
				{"mkdir", []uint64{unix.CLONE_VM | unix.CLONE_FS}, retAllow},
				{"mkdir", []uint64{unix.CLONE_VM | unix.CLONE_NEWUSER}, eperm},
				{"mkdir", []uint64{unix.CLONE_NEWNS}, eperm},
			}},
		{"conditions on two args: all must hold", denyAllBut(allowArgs(
			specs.LinuxSeccompArg{Index: 0, Value: 1, Op: specs.OpEqualTo},
			specs.LinuxSeccompArg{Index: 1, Value: 2, Op: specs.OpEqualTo})),
			[]probe{{"mkdir", []uint64{1, 2}, retAllow}, {"mkdir", []uint64{1, 3}, eperm}, {"mkdir", []uint64{0, 2}, eperm}}},
		{"conditions on one arg: any suffices", denyAllBut(allowArgs(
			specs.LinuxSeccompArg{Index: 0, Value: 1, Op: specs.OpEqualTo},
			specs.LinuxSeccompArg{Index: 0, Value: 2, Op: specs.OpEqualTo})),
			[]probe{{"mkdir", []uint64{1}, retAllow}, {"mkdir", []uint64{2}, retAllow}, {"mkdir", []uint64{3}, eperm}}},
		{"architectures", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}},
			[]probe{{"mkdir", nil, eperm}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := compileBPF(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.probes {
				if got := run(t, prog, nativeData(t, p.call, p.args...)); got != p.want {
					t.Errorf("%s%v: got %#x, want %#x", p.call, p.args, got, p.want)
				}
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name string
		spec *specs.LinuxSeccomp
		want string
	}{
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_MAYBE"}, `defaultAction: unknown action "SCMP_ACT_MAYBE"`},
		{"no default action", denyAllBut(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: ""}), `unknown action ""`},
		{"unknown action", denyAllBut(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: "SCMP_ACT_MAYBE"}),
			`syscalls[0] [mkdir]: unknown action "SCMP_ACT_MAYBE"`},
		{"notify", denyAllBut(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActNotify}), "SCMP_ACT_NOTIFY: not supported"},
		{"errnoRet on allow", denyAllBut(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActAllow, ErrnoRet: ptr(1)}),
			"action SCMP_ACT_ALLOW takes no errnoRet"},
		{"errnoRet too large", denyAllBut(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: ptr(70000)}),
			"errnoRet 70000: above the largest errno"},
		{"unknown operator", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 0, Op: "SCMP_CMP_ABOUT"})),
			`syscalls[0] [mkdir]: args: unknown operator "SCMP_CMP_ABOUT"`},
		{"argument index", denyAllBut(allowArgs(specs.LinuxSeccompArg{Index: 6, Op: specs.OpEqualTo})), "args: index 6"},
		{"unknown architecture", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{"SCMP_ARCH_Z80"}},
			`unknown architecture "SCMP_ARCH_Z80"`},
		{"flags", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}},
			"flags [SECCOMP_FILTER_FLAG_LOG]: not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileBPF(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseProfileErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"syntax", "  x", "invalid character 'x' looking for beginning of value at offset 3"},
		{"type", `{"defaultAction": 1}`, "at offset 19"},
		{"null rule", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [null]}`, "syscalls[0] is null"},
		{"name and names", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "a", "names": ["b"]}]}`, "both 'name' and 'names'"},
		{"kernel version", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "includes": {"minKernel": "x"}}]}`,
			"invalid kernel version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseProfile([]byte(tt.json), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCompileCustomProfileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "p.json")
	if err := os.WriteFile(bad, []byte("  x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Compile(Options{Profile: bad})
	want := "seccomp profile " + bad + ": invalid character 'x' looking for beginning of value at offset 3"
	if err == nil || err.Error() != want {
		t.Errorf("malformed: got %v, want %q", err, want)
	}
	missing := filepath.Join(dir, "missing.json")
	_, err = Compile(Options{Profile: missing})
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "seccomp profile "+missing+": ") {
		t.Errorf("missing: got %v", err)
	}
	unknown := filepath.Join(dir, "unknown.json")
	if err := os.WriteFile(unknown, []byte(`{"defaultAction": "SCMP_ACT_SOMETIMES"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Compile(Options{Profile: unknown})
	if err == nil || err.Error() != "seccomp profile "+unknown+`: defaultAction: unknown action "SCMP_ACT_SOMETIMES"` {
		t.Errorf("unknown action: got %v", err)
	}
}

func TestCompileNoFilter(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.json")
	if err := os.WriteFile(empty, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{Unconfined, empty} {
		p, err := Compile(Options{Profile: profile})
		if p != nil || err != nil {
			t.Errorf("%s: got %v, %v; want no program", profile, p, err)
		}
	}
}

func TestCompileDefault(t *testing.T) {
	for _, profile := range []string{"", Default} {
		p, err := Compile(Options{Profile: profile, Capabilities: defaultCaps})
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != Default || !strings.HasPrefix(p.Digest, "sha256:") || len(p.Digest) != len("sha256:")+64 {
			t.Errorf("name %q, digest %q", p.Name, p.Digest)
		}
		if err := checkProgram(p.Filter); err != nil {
			t.Error(err)
		}
	}
	plain, err := Compile(Options{Capabilities: defaultCaps})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := Compile(Options{Capabilities: append([]string{"CAP_SYS_ADMIN"}, defaultCaps...)})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Digest == admin.Digest {
		t.Error("CAP_SYS_ADMIN does not change the digest")
	}
	// The conditioning follows docker's: unshare is CAP_SYS_ADMIN's.
	unshare := nativeData(t, "unshare", unix.CLONE_NEWUTS)
	if got := run(t, plain.Filter, unshare); got != retErrno(unix.EPERM) {
		t.Errorf("unshare, default caps: %#x", got)
	}
	if got := run(t, admin.Filter, unshare); got != retAllow {
		t.Errorf("unshare, CAP_SYS_ADMIN: %#x", got)
	}
}
