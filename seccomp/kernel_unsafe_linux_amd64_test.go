package seccomp

// The child side of the kernel tests: the test binary, run again with
// childEnv set, loads a program on one thread and makes raw syscalls from
// that thread. unsafe is for the pointers those syscalls take.

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	childEnv     = "SANDBOX_SECCOMP_TEST_PROGRAM" // the program's file, or "" for none
	childDirEnv  = "SANDBOX_SECCOMP_TEST_DIR"     // where the child may mkdir
	childOnlyEnv = "SANDBOX_SECCOMP_TEST_ONLY"    // the probes to run, by name; "" for all
)

func TestMain(m *testing.M) {
	if program, ok := os.LookupEnv(childEnv); ok {
		os.Exit(probeChild(program, os.Getenv(childDirEnv), os.Getenv(childOnlyEnv)))
	}
	os.Exit(m.Run())
}

// probe is one raw syscall the child makes.
type probe struct {
	name string
	nr   uintptr
	args [6]uintptr
}

// probes are the syscalls the kernel tests look at; none harms the test
// process when it runs unfiltered.
func probes(dir string) ([]probe, error) {
	path, err := unix.BytePtrFromString(filepath.Join(dir, "probe"))
	if err != nil {
		return nil, err
	}
	keySession := int32(unix.KEY_SPEC_SESSION_KEYRING)
	return []probe{
		{name: "keyctl", nr: unix.SYS_KEYCTL, args: [6]uintptr{unix.KEYCTL_GET_KEYRING_ID, uintptr(uint32(keySession))}},
		{name: "add_key", nr: unix.SYS_ADD_KEY},
		{name: "bpf", nr: unix.SYS_BPF, args: [6]uintptr{unix.BPF_PROG_LOAD}},
		{name: "userfaultfd", nr: unix.SYS_USERFAULTFD, args: [6]uintptr{unix.O_CLOEXEC}},
		{name: "perf_event_open", nr: unix.SYS_PERF_EVENT_OPEN, args: [6]uintptr{0, 0, ^uintptr(0), ^uintptr(0)}},
		{name: "io_uring_setup", nr: unix.SYS_IO_URING_SETUP},
		// A process of more than one thread cannot unshare its user
		// namespace: unfiltered, this is EINVAL, not EPERM.
		{name: "unshare_newuser", nr: unix.SYS_UNSHARE, args: [6]uintptr{unix.CLONE_NEWUSER}},
		{name: "unshare_newuts", nr: unix.SYS_UNSHARE, args: [6]uintptr{unix.CLONE_NEWUTS}},
		{name: "clone3", nr: unix.SYS_CLONE3},
		{name: "mkdir", nr: unix.SYS_MKDIR, args: [6]uintptr{uintptr(unsafe.Pointer(path)), 0o700}},
		{name: "personality_query", nr: unix.SYS_PERSONALITY, args: [6]uintptr{0xffffffff}},
		{name: "personality_set", nr: unix.SYS_PERSONALITY, args: [6]uintptr{0x0040000}}, // ADDR_NO_RANDOMIZE
		{name: "statmount", nr: unix.SYS_STATMOUNT},
		{name: "nr1000", nr: 1000},
		{name: "x32_nr1000", nr: x32BitNr | 1000},
	}, nil
}

// probeChild loads program (if any) on this thread and prints, for each
// probe (those named in only, comma-separated, or all), its name and the
// errno it got (0 for success), one line as each returns.
func probeChild(program, dir, only string) int {
	ps, err := probes(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The filter holds for this thread only, and the probes run on it.
	runtime.LockOSThread()
	if program != "" {
		data, err := os.ReadFile(program)
		if err == nil {
			err = loadFilter(data)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	for _, p := range ps {
		if only != "" && !slices.Contains(strings.Split(only, ","), p.name) {
			continue
		}
		_, _, errno := unix.RawSyscall6(p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5])
		if _, err := fmt.Printf("%s %d\n", p.name, uintptr(errno)); err != nil {
			return 1
		}
	}
	return 0
}

// loadFilter loads a raw program on the calling thread, as the container's
// init will: no_new_privs, then seccomp(2) without SECCOMP_FILTER_FLAG_TSYNC.
func loadFilter(filter []byte) error {
	if err := checkProgram(filter); err != nil {
		return err
	}
	insns := make([]unix.SockFilter, len(filter)/instructionSize)
	for i := range insns {
		b := filter[i*instructionSize:]
		insns[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(insns)
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	return nil
}
