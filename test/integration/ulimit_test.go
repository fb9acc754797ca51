package integration

// Rootless integration tests of --ulimit (the limits a container's command
// starts with) and of what every sandbox command says when the user's
// process limit is reached (a fork bomb in a container).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// noContainerNamed fails if a container of that name exists.
func noContainerNamed(t *testing.T, name string) {
	t.Helper()
	if out := ok(t, "ps", "-a", "--filter", "name=^"+name+"$", "--format", "{{.Names}}"); strings.TrimSpace(out) != "" {
		t.Errorf("container %s was left behind: %q", name, out)
	}
}

func TestUlimit(t *testing.T) {
	t.Parallel()
	t.Run("nofile", func(t *testing.T) {
		t.Parallel()
		if got := run(t, "--ulimit", "nofile=512:1024", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"); got != "512\n1024\n" {
			t.Errorf("--ulimit nofile=512:1024: got %q, want 512 and 1024", got)
		}
		if got := run(t, "--ulimit", "nofile=300", "--ulimit", "nofile=200", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"); got != "200\n200\n" {
			t.Errorf("--ulimit nofile=300 --ulimit nofile=200: got %q, want the last: 200 and 200", got)
		}
	})
	t.Run("nproc", func(t *testing.T) {
		t.Parallel()
		// As a user of its own (uid 1234 has no other process here), so
		// that the count is the container's: the shell and two sleeps
		// fit under 3, a third fork is refused.
		r := sb(t, "run", "--rm", "--ulimit", "nproc=3", "-u", "1234", "busybox", "sh", "-c",
			"ulimit -u; ulimit -Hu; sleep 30 & sleep 30 & echo two; sleep 30 & echo three")
		if !strings.HasPrefix(r.stdout, "3\n3\ntwo\n") || strings.Contains(r.stdout, "three") || !strings.Contains(r.stderr, "can't fork") {
			t.Errorf("--ulimit nproc=3: want 3, 3, two forks and a refused third\n%s", r)
		}
		if got := run(t, "--ulimit", "nproc=100", "-u", "1234", "busybox", "sh", "-c", "sleep 1 & sleep 1 & sleep 1 & wait; echo ok"); got != "ok\n" {
			t.Errorf("--ulimit nproc=100: got %q", got)
		}
	})
	t.Run("core", func(t *testing.T) {
		t.Parallel()
		var own unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &own); err != nil {
			t.Fatal(err)
		}
		if own.Max == unix.RLIM_INFINITY {
			if got := run(t, "--ulimit", "core=-1", "busybox", "sh", "-c", "ulimit -c; ulimit -Hc"); got != "unlimited\nunlimited\n" {
				t.Errorf("--ulimit core=-1: got %q, want unlimited twice", got)
			}
		} else {
			fails(t, 125, []string{"--ulimit core=-1:-1: the hard limit cannot be raised above " + strconv.FormatUint(own.Max, 10)},
				"run", "--rm", "--name", "ulimit-core", "--ulimit", "core=-1", "busybox", "true")
			noContainerNamed(t, "ulimit-core")
		}
		if got := run(t, "--ulimit", "core=0", "busybox", "sh", "-c", "ulimit -c; ulimit -Hc"); got != "0\n0\n" {
			t.Errorf("--ulimit core=0: got %q", got)
		}
	})
	t.Run("above own hard limit", func(t *testing.T) {
		t.Parallel()
		var own unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &own); err != nil {
			t.Fatal(err)
		}
		above := fmt.Sprintf("nofile=1024:%d", own.Max+1)
		want := fmt.Sprintf("--ulimit %s: the hard limit cannot be raised above %d, your own hard limit", above, own.Max)
		for _, cmd := range []string{"run", "create"} {
			fails(t, 125, []string{want}, cmd, "--name", "ulimit-above-"+cmd, "--ulimit", above, "busybox", "true")
			noContainerNamed(t, "ulimit-above-"+cmd)
		}
	})
	t.Run("start under a lower hard limit", func(t *testing.T) {
		t.Parallel()
		// Created within the caller's limits, started by a command whose
		// own hard limit is lower: the init refuses, in the same words.
		id := strings.TrimSpace(ok(t, "create", "--ulimit", "nofile=1024:1024", "busybox", "true"))
		t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := command(ctx, nil, "start", "-a", id)
		cmd.Args = append([]string{"sh", "-c", `ulimit -n 512 && exec "$@"`, "sh"}, cmd.Args...)
		cmd.Path = "/bin/sh"
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 125 || !strings.Contains(stderr.String(), "--ulimit nofile=1024:1024: the hard limit cannot be raised above 512, your own hard limit") {
			t.Errorf("start with a hard limit below the container's: %v\n%s", err, stderr.String())
		}
	})
	t.Run("inspect", func(t *testing.T) {
		t.Parallel()
		id := strings.TrimSpace(ok(t, "create", "--ulimit", "nofile=1024:2048", "--ulimit", "core=0:-1", "busybox", "true"))
		t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
		got := strings.TrimSpace(ok(t, "inspect", "--format", "{{json .HostConfig.Ulimits}}", id))
		if want := `[{"Name":"nofile","Hard":2048,"Soft":1024},{"Name":"core","Hard":-1,"Soft":0}]`; got != want {
			t.Errorf("HostConfig.Ulimits = %s, want %s", got, want)
		}
		plain := strings.TrimSpace(ok(t, "create", "busybox", "true"))
		t.Cleanup(func() { sbRaw(nil, "rm", "-f", plain) })
		var in []struct{ HostConfig struct{ Ulimits []any } }
		if err := json.Unmarshal([]byte(ok(t, "inspect", plain)), &in); err != nil || len(in) != 1 || in[0].HostConfig.Ulimits == nil {
			t.Errorf("inspect of a container without --ulimit: want HostConfig.Ulimits [], got %+v (%v)", in, err)
		}
	})
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		id := detached(t, "--ulimit", "nofile=256:512", "busybox", "sleep", "60")
		if got := ok(t, "exec", id, "sh", "-c", "ulimit -n; ulimit -Hn"); got != "256\n512\n" {
			t.Errorf("exec in a container with --ulimit nofile=256:512: got %q", got)
		}
	})
	t.Run("bad values", func(t *testing.T) {
		t.Parallel()
		for i, c := range []struct{ v, why string }{
			{"nofile", "no '='"},
			{"files=10", `unknown type "files"`},
			{"nofile=2048:1024", "the soft limit 2048 is above the hard limit 1024"},
			{"nofile=abc", `soft limit "abc": not a whole number`},
			{"nofile=1:-2", `hard limit "-2": not a whole number`},
		} {
			name := "ulimit-bad-" + strconv.Itoa(i)
			fails(t, 125, []string{strconv.Quote(c.v), c.why, "want TYPE=SOFT[:HARD]"}, "run", "--rm", "--name", name, "--ulimit", c.v, "busybox", "true")
			noContainerNamed(t, name)
		}
	})
}

// underNproc runs a sandbox command with the soft and hard RLIMIT_NPROC
// limit set to limit before it starts: through a shell that waits until
// its own limit is set (prlimit from here), then execs the command (an
// exec makes no new process, so it starts under a limit already reached).
func underNproc(t *testing.T, limit uint64, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, nil, args...)
	cmd.Args = append([]string{"sh", "-c", `read _ && exec "$@"`, "sh"}, cmd.Args...)
	cmd.Path = "/bin/sh"
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lim := unix.Rlimit{Cur: limit, Max: limit}
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_NPROC, &lim, nil); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("prlimit: %v", err)
	}
	fmt.Fprintln(in)
	in.Close()
	err = cmd.Wait()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code, r.stderr = -1, r.stderr+err.Error()
	}
	return r
}

// userTasks counts the tasks (threads included) of this user, what
// RLIMIT_NPROC counts.
func userTasks(t *testing.T) uint64 {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(os.Getuid())
	var n uint64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue // gone since
		}
		var mine bool
		var threads uint64
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
				mine = f[1] == uid
			} else if len(f) > 1 && f[0] == "Threads:" {
				threads, _ = strconv.ParseUint(f[1], 10, 64)
			}
		}
		if mine {
			n += threads
		}
	}
	return n
}

// TestForkBombMessage: with the user's process limit reached (a fork bomb
// in a container reaches it, for a container's processes are the user's),
// every sandbox command says so in one line and exits 125, where the Go
// runtime would die with a dump of its goroutines; with room, nothing is
// said.
func TestForkBombMessage(t *testing.T) {
	t.Parallel()
	user, err := osuser.Current()
	if err != nil {
		t.Fatal(err)
	}
	// A limit of 1: the waiting shell is a process of the user already,
	// so not one more task (thread) can be made, whatever else runs.
	want := fmt.Sprintf("Error: cannot start: the process limit of user %s (ulimit -u 1) is reached; a container may be running a fork bomb: limit containers with --pids-limit or --ulimit nproc=N", user.Username)
	for _, args := range [][]string{{"--version"}, {"ps", "-a"}, {"run", "--rm", "busybox", "true"}, {"inspect", "nothing"}} {
		r := underNproc(t, 1, args...)
		if r.code != 125 || strings.TrimSpace(r.stderr) != want || strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "runtime:") {
			t.Errorf("under a process limit already reached: want exit 125 and\n%s\ngot %s", want, r)
		}
	}
	// Room enough: the check must not misfire.
	limit := userTasks(t) + 200
	if r := underNproc(t, limit, "ps", "-a"); r.code != 0 || r.stderr != "" {
		t.Errorf("under a process limit of %d with room: want ps to work\n%s", limit, r)
	}
	if r := underNproc(t, limit, "run", "--rm", "busybox", "echo", "hi"); r.code != 0 || r.stdout != "hi\n" {
		t.Errorf("under a process limit of %d with room: want run to work\n%s", limit, r)
	}
}
