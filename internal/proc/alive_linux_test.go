// Unit tests (privilege tier: none) of Alive on real processes: the test
// binary runs itself as a child whose thread-group leader has ended while
// another thread runs, which is how a process looks while a thread other
// than the leader runs execve (a monitor becoming its cleanup), and as a
// child that does run execve from a thread other than its leader.

package proc

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	zombieLeaderEnv = "SANDBOX_PROC_TEST_ZOMBIE_LEADER"
	// execThreadEnv is 1 in a child that runs execve from a thread other
	// than its leader, and 2 in the program it executes, which exits.
	execThreadEnv = "SANDBOX_PROC_TEST_EXEC_THREAD"
)

// init holds the main goroutine on the leader thread in the child that
// executes from another thread (LockOSThread in an init function does).
func init() {
	if os.Getenv(execThreadEnv) == "1" {
		runtime.LockOSThread()
	}
}

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(zombieLeaderEnv) == "1":
		zombieLeader()
	case os.Getenv(execThreadEnv) == "1":
		execFromThread()
	case os.Getenv(execThreadEnv) == "2":
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// execFromThread runs execve on a thread of its own while the main
// goroutine holds the leader: the kernel ends the leader first, and the
// executing thread then takes over the process's pid. It begins when its
// standard input ends (the parent has its start time by then).
func execFromThread() {
	io.Copy(io.Discard, os.Stdin)
	go func() {
		runtime.LockOSThread()
		env := []string{execThreadEnv + "=2"}
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, execThreadEnv+"=") {
				env = append(env, e)
			}
		}
		err := unix.Exec(os.Args[0], []string{os.Args[0], "-test.run=^$"}, env)
		os.Stderr.WriteString("exec: " + err.Error() + "\n")
		os.Exit(1)
	}()
	time.Sleep(time.Hour)
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

// TestAliveThroughExecFromAThread polls Alive as fast as it can on
// children that run execve from a thread other than their leader, and
// checks that whenever it says a child has ended, the child has: a start
// that took the word of a monitor's liveness while the monitor became its
// cleanup went on, and the cleanup then unmounted the new run's root
// ("mask /proc/keys: no such file or directory"). Reading /proc alone
// said ended in about 1 child in 7 here: 200 children find it.
func TestAliveThroughExecFromAThread(t *testing.T) {
	const children = 200
	for i := range children {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		p, err := os.StartProcess(os.Args[0], []string{os.Args[0], "-test.run=^$"}, &os.ProcAttr{
			Env:   append(os.Environ(), execThreadEnv+"=1"),
			Files: []*os.File{r, nil, os.Stderr},
		})
		r.Close()
		if err != nil {
			w.Close()
			t.Fatal(err)
		}
		start, err := StartTime(p.Pid)
		w.Close() // the child goes on
		if err != nil {
			p.Kill()
			p.Wait()
			t.Fatal(err)
		}
		for Alive(p.Pid, start) {
		}
		// Said ended: the kernel must have the exit status for us.
		var ws unix.WaitStatus
		pid, err := unix.Wait4(p.Pid, &ws, unix.WNOHANG, nil)
		if err != nil {
			t.Fatalf("child %d: wait: %v", i, err)
		}
		if pid == 0 {
			st, _ := ReadStat(p.Pid)
			unix.Kill(p.Pid, unix.SIGKILL)
			unix.Wait4(p.Pid, &ws, 0, nil)
			t.Fatalf("child %d of %d: Alive false while it runs (state %c, start %d, was %d)", i+1, children, st.State, st.StartTime, start)
		}
		if !ws.Exited() || ws.ExitStatus() != 0 {
			t.Fatalf("child %d: %v, want the executed program's exit 0", i, ws)
		}
	}
}

// TestAwaitEnd: AwaitEnd waits for a process that runs until it ends, and
// no longer than its timeout; one that is gone, or whose pid names
// another start, has ended.
func TestAwaitEnd(t *testing.T) {
	cmd := exec.Command("sleep", "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start, err := StartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if AwaitEnd(pid, start, 20*time.Millisecond) {
		t.Fatal("AwaitEnd: true within 20ms for a process that sleeps 0.3s")
	}
	if !AwaitEnd(pid, start+1, time.Second) {
		t.Fatal("AwaitEnd: false for another start time")
	}
	// Reaped by its parent while AwaitEnd waits.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	begun := time.Now()
	if !AwaitEnd(pid, start, 10*time.Second) {
		t.Fatal("AwaitEnd: false for a process that ends within its timeout")
	}
	if d := time.Since(begun); d > 5*time.Second {
		t.Fatalf("AwaitEnd returned %v after the process's end", d)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !AwaitEnd(pid, start, time.Second) {
		t.Fatal("AwaitEnd: false for a reaped process")
	}
}
