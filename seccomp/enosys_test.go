package seccomp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// marker stands for libseccomp's program behind the stub: a return the
// stub itself never gives.
const marker = unix.SECCOMP_RET_TRACE | 0x1234

func withMarker(t *testing.T, tables []abiTable) []byte {
	t.Helper()
	stub, err := enosysStub(tables)
	if err != nil {
		t.Fatal(err)
	}
	ret := binary.NativeEndian.AppendUint16(nil, opRet)
	ret = append(ret, 0, 0)
	ret = binary.NativeEndian.AppendUint32(ret, marker)
	return append(stub, ret...)
}

func TestENOSYSStub(t *testing.T) {
	x86 := []abiTable{
		{auditArch: unix.AUDIT_ARCH_X86_64, last: 456},
		{auditArch: unix.AUDIT_ARCH_X86_64, x32: true, last: x32BitNr | 547},
		{auditArch: unix.AUDIT_ARCH_I386, last: 450},
	}
	noX32 := []abiTable{{auditArch: unix.AUDIT_ARCH_X86_64, last: 456}}
	onlyX32 := []abiTable{{auditArch: unix.AUDIT_ARCH_X86_64, x32: true, last: x32BitNr | 547}}
	aarch64 := []abiTable{{auditArch: unix.AUDIT_ARCH_AARCH64, last: 462}}
	enosys := retErrno(unix.ENOSYS)
	tests := []struct {
		name   string
		tables []abiTable
		arch   uint32
		nr     uint32
		want   uint32
	}{
		{"x86_64 known", x86, unix.AUDIT_ARCH_X86_64, 0, marker},
		{"x86_64 last", x86, unix.AUDIT_ARCH_X86_64, 456, marker},
		{"x86_64 newer", x86, unix.AUDIT_ARCH_X86_64, 457, enosys},
		{"x86_64 far", x86, unix.AUDIT_ARCH_X86_64, 1000, enosys},
		{"x86_64 below x32 bit", x86, unix.AUDIT_ARCH_X86_64, x32BitNr - 1, enosys},
		{"x86_64 -1", x86, unix.AUDIT_ARCH_X86_64, 0xffffffff, enosys},
		{"x32 known", x86, unix.AUDIT_ARCH_X86_64, x32BitNr | 83, marker},
		{"x32 last", x86, unix.AUDIT_ARCH_X86_64, x32BitNr | 547, marker},
		{"x32 newer", x86, unix.AUDIT_ARCH_X86_64, x32BitNr | 548, enosys},
		{"i386 known", x86, unix.AUDIT_ARCH_I386, 450, marker},
		{"i386 newer", x86, unix.AUDIT_ARCH_I386, 451, enosys},
		{"other arch", x86, unix.AUDIT_ARCH_AARCH64, 1000, marker},
		{"x32 not in profile", noX32, unix.AUDIT_ARCH_X86_64, x32BitNr | 1000, marker},
		{"x86_64 not in profile", onlyX32, unix.AUDIT_ARCH_X86_64, 1000, marker},
		{"only x32: x32 newer", onlyX32, unix.AUDIT_ARCH_X86_64, x32BitNr | 1000, enosys},
		{"aarch64 newer", aarch64, unix.AUDIT_ARCH_AARCH64, 463, enosys},
		{"aarch64 known", aarch64, unix.AUDIT_ARCH_AARCH64, 462, marker},
		{"no tables", nil, unix.AUDIT_ARCH_X86_64, 1000, marker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := withMarker(t, tt.tables)
			got := run(t, prog, seccompData{nr: int32(tt.nr), arch: tt.arch})
			if got != tt.want {
				t.Errorf("arch %#x nr %#x: got %#x, want %#x", tt.arch, tt.nr, got, tt.want)
			}
		})
	}
}

// The stub is the same whatever the order of the tables.
func TestENOSYSStubOrder(t *testing.T) {
	a, err := enosysStub([]abiTable{
		{auditArch: unix.AUDIT_ARCH_I386, last: 1},
		{auditArch: unix.AUDIT_ARCH_X86_64, last: 2},
		{auditArch: unix.AUDIT_ARCH_X86_64, x32: true, last: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := enosysStub([]abiTable{
		{auditArch: unix.AUDIT_ARCH_X86_64, x32: true, last: 3},
		{auditArch: unix.AUDIT_ARCH_X86_64, last: 2},
		{auditArch: unix.AUDIT_ARCH_I386, last: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("stub depends on the order of the tables")
	}
}

func TestENOSYSStubX32Elsewhere(t *testing.T) {
	if _, err := enosysStub([]abiTable{{auditArch: unix.AUDIT_ARCH_I386, x32: true}}); err == nil {
		t.Error("x32 numbering on i386: no error")
	}
}
