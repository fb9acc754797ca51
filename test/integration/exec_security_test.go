package integration

// Security regression tests of sandbox exec, each named after the attack
// it replays: an attacker runs as a container's first process (the test
// helper, attack.go) while a series of execs enters the container, and
// must find no way to the host.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sbexec "sandbox/nsenter"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// attackRounds is how many execs each attack is given.
const attackRounds = 15

// attacker starts a container whose first process is the test helper
// running attack for secs seconds, with extra flags for run; it returns
// the container's id once it runs.
func attacker(t *testing.T, o *cmdOpts, flags []string, attack ...string) string {
	t.Helper()
	args := append([]string{"run", "-d"}, flags...)
	args = append(args, "-v", helperBin(t)+":/helper:ro", "busybox", "/helper")
	r := sbRaw(o, append(args, attack...)...)
	if r.code != 0 {
		t.Fatal(r)
	}
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { sbRaw(o, "rm", "-f", id) })
	waitState(t, id, "running")
	return id
}

// attackReport waits for the attacker to end and returns its output,
// which must hold its summary.
func attackReport(t *testing.T, o *cmdOpts, id string) string {
	t.Helper()
	if r := sbRaw(o, "wait", id); r.code != 0 || strings.TrimSpace(r.stdout) != "0" {
		t.Fatalf("attacker did not end well: %s\n%s", r, sbRaw(o, "logs", id))
	}
	r := sbRaw(o, "logs", id)
	if !strings.Contains(r.stdout, "summary:") {
		t.Fatalf("attacker printed no summary: %s", r)
	}
	t.Logf("attacker: %s", strings.TrimSpace(r.stdout))
	return r.stdout
}

// execRounds runs attackRounds execs of args in the container id with o,
// each of which must succeed.
func execRounds(t *testing.T, o *cmdOpts, id string, args ...string) {
	t.Helper()
	for i := 0; i < attackRounds; i++ {
		if r := sbRaw(o, append([]string{"exec", id}, args...)...); r.code != 0 {
			t.Errorf("exec %d under attack: %s", i, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestExecPtraceBeforeMountNS: a container with CAP_SYS_PTRACE attaches
// to every new process as soon as its pid is taken; the process that
// enters the container must never be found with the host's root.
func TestExecPtraceBeforeMountNS(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "only-on-the-host")
	if err := os.WriteFile(marker, []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := attacker(t, nil, []string{"--cap-add", "SYS_PTRACE"}, "ptrace-race", "4", marker)
	execRounds(t, nil, id, "true")
	if out := attackReport(t, nil, id); strings.Contains(out, "ESCAPED") {
		t.Errorf("a process entering the container was seen with the host's root:\n%s", out)
	}
}

// TestCVE2019_5736ExecBinaryNotWritable: with the user's own copy of the
// binaries (as a build in a checkout or ~/bin is), a container holds on to
// /proc/PID/exe of every process that enters it and reopens it for writing
// once it no longer runs; no binary of the user may change.
func TestCVE2019_5736ExecBinaryNotWritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sums := map[string]string{}
	for _, name := range []string{"sandbox", "sandbox-monitor", "sandbox-cleanup", "sandbox-nsenter", "sandbox-exec", "sandbox-image"} {
		src := filepath.Join(filepath.Dir(env.bin), name)
		dst := filepath.Join(dir, name)
		copyFile(t, src, dst, 0o755)
		sums[dst] = fileSum(t, dst)
	}
	o := &cmdOpts{bin: filepath.Join(dir, "sandbox")}
	// With CAP_SYS_PTRACE the attacker may open /proc/PID/exe even of a
	// process that is not dumpable.
	id := attacker(t, o, []string{"--cap-add", "SYS_PTRACE"}, "watch-exe", "5")
	execRounds(t, o, id, "true")
	out := attackReport(t, o, id)
	if strings.Contains(out, "WROTE") {
		t.Errorf("a host binary was written from the container:\n%s", out)
	}
	for path, sum := range sums {
		if got := fileSum(t, path); got != sum {
			t.Errorf("%s changed while the container ran", path)
		}
	}
}

// TestCVE2024_21626CallerFdNotReachable: the caller of sandbox exec holds
// a host directory open (`exec 9<dir` in a shell); neither the exec'd
// process nor anything else in the container may reach it.
func TestCVE2024_21626CallerFdNotReachable(t *testing.T) {
	t.Parallel()
	hostDir := filepath.Join(t.TempDir(), "callers-dir")
	if err := os.Mkdir(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	held, err := os.Open(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	id := attacker(t, nil, nil, "fd-grab", "4")
	// The directory as fds 3 to 9 of the caller.
	extra := []*os.File{held, held, held, held, held, held, held}
	execWithFds := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := command(ctx, nil, append([]string{"exec", id}, args...)...)
		cmd.ExtraFiles = extra
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for i := 0; i < attackRounds; i++ {
		if out, err := execWithFds("true"); err != nil {
			t.Errorf("exec %d under attack: %v: %s", i, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := execWithFds("sh", "-c", "for f in /proc/$$/fd/*; do echo $f $(readlink $f); done")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, "callers-dir") || !strings.Contains(line, "/fd/") {
			t.Errorf("the exec'd process holds a descriptor of the caller: %q", line)
		}
	}
	report := attackReport(t, nil, id)
	if strings.Contains(report, "WROTE") {
		t.Errorf("the caller's directory was written from the container:\n%s", report)
	}
	if entries, err := os.ReadDir(hostDir); err != nil || len(entries) != 0 {
		t.Errorf("the caller's directory holds %v (%v), want nothing", entries, err)
	}
}

// TestExecEnvironmentNotLeaked: the caller's environment (tokens, keys)
// is not readable in the container, neither from the exec'd process nor
// from /proc/PID/environ of the process that enters it.
func TestExecEnvironmentNotLeaked(t *testing.T) {
	t.Parallel()
	b := make([]byte, 12)
	rand.Read(b)
	secret := "tok-" + hex.EncodeToString(b)
	o := &cmdOpts{env: []string{"SANDBOX_TEST_SECRET=" + secret}}
	id := attacker(t, nil, nil, "environ-grab", "4", secret)
	execRounds(t, o, id, "true")
	if r := sbRaw(o, "exec", id, "env"); r.code != 0 || strings.Contains(r.stdout, secret) {
		t.Errorf("exec passed the caller's environment on: %s", r)
	}
	if out := attackReport(t, nil, id); strings.Contains(out, "LEAKED") {
		t.Errorf("the caller's environment was read in the container:\n%s", out)
	}
	// Named with -e, a variable goes in, as docker passes it (once the
	// attacker is gone: this one is meant to be seen).
	target := execTarget(t)
	if r := sbRaw(o, "exec", "-e", "SANDBOX_TEST_SECRET", target, "env"); r.code != 0 || !strings.Contains(r.stdout, "SANDBOX_TEST_SECRET="+secret) {
		t.Errorf("exec -e NAME did not pass NAME: %s", r)
	}
}

// TestExecStdioRelayed: without -t the exec'd process gets pipes of
// sandbox exec, never the caller's own files: a process it leaves behind
// cannot write to the caller's terminal or file once exec has returned.
func TestExecStdioRelayed(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	outFile := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(outFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "exec", id, "sh", "-c", "for n in 0 1 2; do echo $n $(readlink /proc/$$/fd/$n); done; (sleep 1; echo left-behind) &")
	cmd.Stdout, cmd.Stderr = f, f
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("exec waited %v for a process it left behind", d)
	}
	time.Sleep(1500 * time.Millisecond)
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	out := string(data)
	for _, want := range []string{"0 /dev/null\n", "1 pipe:[", "2 pipe:["} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in the exec'd process's streams:\n%s", want, out)
		}
	}
	if strings.Contains(out, outFile) || strings.Contains(out, "left-behind") {
		t.Errorf("the exec'd process reached the caller's own file:\n%s", out)
	}
	// With -i, standard input is a pipe too, and what is typed reaches it.
	r := sbWith(t, cmdOpts{stdin: "typed\n"}, "exec", "-i", id, "sh", "-c", "readlink /proc/$$/fd/0; cat")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "pipe:[") || !strings.HasSuffix(r.stdout, "typed\n") {
		t.Errorf("exec -i: %s", r)
	}
}

// TestExecReusedPid drives sandbox-nsenter with a start time that is not
// the container process's: it must refuse to enter anything.
func TestExecReusedPid(t *testing.T) {
	t.Parallel()
	id := execTarget(t)
	req := &sbexec.Request{
		Target:  spec.ProcessRef{Pid: stateOf(t, id).Pid, Start: 12345},
		Process: spec.Process{Args: []string{"true"}, Cwd: "/"},
	}
	data, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "ours"), os.NewFile(uintptr(pair[1]), "theirs")
	defer ours.Close()
	cmd := exec.Command(filepath.Join(filepath.Dir(env.bin), "sandbox-nsenter"))
	cmd.ExtraFiles = []*os.File{theirs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	ours.Write(data)
	reply, _ := io.ReadAll(ours)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 125 {
		t.Errorf("sandbox-nsenter with a wrong start time: %v, want exit 125", err)
	}
	if len(reply) < 6 || reply[0] != 'E' || int(binary.NativeEndian.Uint32(reply[1:5])) != len(reply)-5 ||
		reply[5] != 125 || !bytes.Contains(reply, []byte("gone")) {
		t.Errorf("sandbox-nsenter's reply %q, want an error that the process is gone", reply)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}
