package seccomp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Kernel tests (unit tier: no privileges needed). Each runs the probes in
// a child process twice, with the compiled program loaded and without it:
// the filter's answer is told apart from the kernel's by comparing.

// probeRun runs the probes named in only (or all) in a child and returns
// what each got; prog nil runs them unfiltered. The error is the child's,
// with what it printed up to then.
func probeRun(t *testing.T, prog *Program, only ...string) (map[string]unix.Errno, error) {
	t.Helper()
	file := ""
	if prog != nil {
		file = filepath.Join(t.TempDir(), "filter.bpf")
		if err := os.WriteFile(file, prog.Filter, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+file, childDirEnv+"="+t.TempDir(),
		childOnlyEnv+"="+strings.Join(only, ","))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("probe child: %w: %s", err, stderr.String())
	}
	got := map[string]unix.Errno{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, n, ok := strings.Cut(sc.Text(), " ")
		errno, aerr := strconv.Atoi(n)
		if !ok || aerr != nil {
			t.Fatalf("probe child printed %q", sc.Text())
		}
		got[name] = unix.Errno(errno)
	}
	return got, err
}

func mustProbe(t *testing.T, prog *Program, only ...string) map[string]unix.Errno {
	t.Helper()
	got, err := probeRun(t, prog, only...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func compileFor(t *testing.T, o Options) *Program {
	t.Helper()
	p, err := Compile(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lastX86_64 is the largest x86_64 syscall number the default profile
// names, as this libseccomp knows them.
func lastX86_64(t *testing.T) uint32 {
	t.Helper()
	c, err := condition(Options{Capabilities: defaultCaps})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range abiTables(c.spec.Syscalls, []libseccomp.ScmpArch{libseccomp.ArchAMD64}) {
		return tb.last
	}
	t.Fatal("no x86_64 table")
	return 0
}

func TestKernelDefaultProfile(t *testing.T) {
	plain := mustProbe(t, nil)
	got := mustProbe(t, compileFor(t, Options{Capabilities: defaultCaps}))
	for _, name := range slices.Sorted(maps.Keys(got)) {
		t.Logf("%-18s unfiltered %-30v filtered %v", name, plain[name], got[name])
	}
	want := map[string]unix.Errno{
		"keyctl": unix.EPERM, "add_key": unix.EPERM, "bpf": unix.EPERM, "userfaultfd": unix.EPERM,
		"perf_event_open": unix.EPERM, "io_uring_setup": unix.EPERM,
		"unshare_newuser": unix.EPERM, "unshare_newuts": unix.EPERM,
		"clone3":            unix.ENOSYS, // the profile's own errnoRet, so glibc falls back to clone
		"mkdir":             0,
		"personality_query": 0, "personality_set": unix.EPERM,
		// Above the profile's last syscall: the stub's ENOSYS, not the
		// profile's EPERM.
		"nr1000": unix.ENOSYS, "x32_nr1000": unix.ENOSYS,
	}
	if last := lastX86_64(t); last >= 1000 {
		t.Fatalf("the profile names syscall %d: pick a larger number for nr1000", last)
	} else if last < unix.SYS_STATMOUNT {
		// statmount (Linux 6.8) is in docker's profile, but this
		// libseccomp does not know it: newer than the profile.
		want["statmount"] = unix.ENOSYS
		t.Logf("x86_64 syscalls above %d answer ENOSYS", last)
	}
	for name, errno := range want {
		if got[name] != errno {
			t.Errorf("%s: got %v (%d), want %v (%d); unfiltered: %v", name, got[name], got[name], errno, errno, plain[name])
		}
	}
	if plain["unshare_newuser"] == unix.EPERM || plain["clone3"] == unix.ENOSYS {
		t.Errorf("unfiltered unshare(CLONE_NEWUSER) %v, clone3 %v: the probes no longer tell the filter from the kernel",
			plain["unshare_newuser"], plain["clone3"])
	}
}

func TestKernelSysAdmin(t *testing.T) {
	plain := mustProbe(t, nil)
	caps := append([]string{"CAP_SYS_ADMIN"}, defaultCaps...)
	got := mustProbe(t, compileFor(t, Options{Capabilities: caps}))
	// CAP_SYS_ADMIN opens these as docker's profile does: the filter lets
	// them through, whatever the kernel then says.
	for _, name := range []string{"unshare_newuser", "unshare_newuts", "clone3", "bpf", "perf_event_open"} {
		if got[name] != plain[name] {
			t.Errorf("%s with CAP_SYS_ADMIN: got %v, unfiltered %v", name, got[name], plain[name])
		}
	}
	for _, name := range []string{"keyctl", "add_key", "io_uring_setup"} {
		if got[name] != unix.EPERM {
			t.Errorf("%s with CAP_SYS_ADMIN: got %v, want EPERM", name, got[name])
		}
	}
}

func TestKernelCustomProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deny-mkdir.json")
	profile := `{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`
	if err := os.WriteFile(path, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	p := compileFor(t, Options{Profile: path, Capabilities: defaultCaps})
	if p.Name != path {
		t.Errorf("name %q, want %q", p.Name, path)
	}
	// Everything else is allowed, new syscalls included: no stub.
	others := []string{"keyctl", "add_key", "personality_query", "statmount", "nr1000", "unshare_newuser"}
	plain := mustProbe(t, nil, others...)
	got := mustProbe(t, p, append(others, "mkdir")...)
	if got["mkdir"] != unix.EPERM {
		t.Errorf("mkdir: got %v, want EPERM", got["mkdir"])
	}
	for _, name := range others {
		if got[name] != plain[name] {
			t.Errorf("%s: got %v, unfiltered %v", name, got[name], plain[name])
		}
	}

	// The profile names no architectures, so it has x86_64 alone: an x32
	// call is from a bad architecture and kills the whole process (a
	// killed thread alone would leave the others running, a process with
	// no main thread that never exits).
	_, err := probeRun(t, p, "mkdir", "x32_nr1000")
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("x32 call: got %v, want the child killed", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || ws.Signal() != unix.SIGSYS {
		t.Errorf("x32 call: child ended by %v, want SIGSYS", exit.ProcessState)
	}
}
