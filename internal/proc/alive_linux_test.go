// Unit tests (privilege tier: none) of Alive on real processes: the test
// binary runs itself as a child whose thread-group leader has ended while
// another thread runs, which is how a process looks while a thread other
// than the leader runs execve (a monitor becoming its cleanup).

package proc

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const zombieLeaderEnv = "SANDBOX_PROC_TEST_ZOMBIE_LEADER"

func TestMain(m *testing.M) {
	if os.Getenv(zombieLeaderEnv) == "1" {
		zombieLeader()
	}
	os.Exit(m.Run())
}

// zombieLeader ends the main thread alone (exit, not exit_group) while a
// goroutine on another thread sleeps: the leader reads 'Z', the process
// lives on.
func zombieLeader() {
	runtime.LockOSThread()
	go func() {
		for {
			time.Sleep(time.Hour)
		}
	}()
	os.Stdout.WriteString("ready\n")
	unix.RawSyscall(unix.SYS_EXIT, 0, 0, 0)
}

func TestAliveLeaderZombieWhileAThreadRuns(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), zombieLeaderEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	var st Stat
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if st, err = ReadStat(pid); err != nil {
			t.Fatal(err)
		}
		if st.State == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child's leader never read as a zombie (state %c)", st.State)
		}
	}
	if !Alive(pid, st.StartTime) {
		t.Fatal("Alive: false for a process whose leader is a zombie but which has a running thread")
	}
	if Alive(pid, st.StartTime+1) {
		t.Fatal("Alive: true for another start time")
	}
	cmd.Process.Kill()
	// Not reaped yet: every thread a zombie.
	for deadline := time.Now().Add(10 * time.Second); Alive(pid, st.StartTime); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Alive: true 10s after SIGKILL (an unreaped zombie is not alive)")
		}
	}
	cmd.Wait()
	if Alive(pid, st.StartTime) {
		t.Fatal("Alive: true after the process was reaped")
	}
}
