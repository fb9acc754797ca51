package prerun

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// teardownRole makes the test binary the exiting command of
// TestHandOffTeardown: it hands off its teardown, prints the holder's pid,
// waits for a line on stdin and exits with status 7.
const teardownRole = "SANDBOX_PRERUN_TEST_TEARDOWN"

func init() {
	if os.Getenv(teardownRole) != "1" {
		return
	}
	pid := HandOffTeardown()
	fmt.Println(pid)
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(7)
}

// Unit (no privileges): the command exits with its own status, and the
// holder shares its address space, holds no descriptor, blocks every
// signal, and is killed when the command ends: its parent, here a child
// subreaper, adopts it and reaps it at once.
func TestHandOffTeardown(t *testing.T) {
	// Only this test binary's own orphans come to it: no other test here
	// starts processes.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), teardownRole+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("read the holder's pid: %v", err)
	}
	holder, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || holder <= 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no holder: %q", line)
	}
	// Whatever fails below, neither is left behind.
	t.Cleanup(func() {
		cmd.Process.Kill()
		unix.Kill(holder, unix.SIGKILL)
	})
	// While the command lives: the holder is its child, with its memory.
	eventually(t, func() error { return checkHolder(cmd.Process.Pid, holder) })

	stdin.Close()
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("command: %v, want exit status 7", err)
	}
	// The holder, adopted by this process, is killed by its parent's exit.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(holder, &ws, unix.WNOHANG, nil)
		if err != nil {
			t.Fatalf("wait for the holder %d: %v", holder, err)
		}
		if pid == holder {
			if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
				t.Fatalf("holder ended with %v, want killed by SIGKILL", ws)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("holder %d still there 5 s after the command's exit", holder)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkHolder checks the holder from outside: a child of command, named,
// sharing command's address space, with no descriptors and every signal
// but the two that cannot be blocked blocked.
func checkHolder(command, holder int) error {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", holder))
	if err != nil {
		return err
	}
	fields := map[string]string{}
	for _, l := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	if fields["Name"] != "sandbox-exit" {
		return fmt.Errorf("holder's name %q, want sandbox-exit", fields["Name"])
	}
	if fields["PPid"] != strconv.Itoa(command) {
		return fmt.Errorf("holder's parent %s, want %d", fields["PPid"], command)
	}
	// Every signal but SIGKILL and SIGSTOP, and glibc's own two (32, 33),
	// which no program may block.
	const all = 0xfffffffe7ffbfeff
	if blk, err := strconv.ParseUint(fields["SigBlk"], 16, 64); err != nil || blk&all != all {
		return fmt.Errorf("holder blocks signals %s, want all (%x)", fields["SigBlk"], uint64(all))
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", holder))
	if err != nil {
		return err
	}
	if len(fds) != 0 {
		return fmt.Errorf("holder holds %d descriptors, want none", len(fds))
	}
	same, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(command), uintptr(holder), kcmpVM, 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("kcmp: %w", errno)
	}
	if same != 0 {
		return fmt.Errorf("holder does not share the command's address space")
	}
	return nil
}

// kcmpVM is KCMP_VM of kcmp(2), which x/sys/unix does not name.
const kcmpVM = 1

func eventually(t *testing.T, check func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if err = check(); err == nil {
			return
		}
	}
	t.Fatal(err)
}
