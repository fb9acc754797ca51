package integration

// Rootless integration tests of exec's short way: the pre-runtime hook
// executes sandbox-exec in sandbox's place, which runs an exec it can take
// from the run root's links alone and executes the whole command for the
// rest.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sandbox/spec"
)

// execBinary runs `sandbox exec ARGS...` (ARGS ending in a command that
// touches marker in the container, then sleeps) and returns the base name
// of the binary that the exec command runs as once the exec'd command
// has started: sandbox-exec for the short way, sandbox for the whole
// command.
func execBinary(t *testing.T, id, marker string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmdArgs := append(append([]string{"exec"}, args...), "sh", "-c", "touch "+marker+"; sleep 2")
	cmd := command(ctx, nil, cmdArgs...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	eventually(t, 10*time.Second, func() error {
		if r := sb(t, "exec", id, "test", "-e", marker); r.code != 0 {
			return fmt.Errorf("the exec'd command has not started: %s\n%s", r, out.String())
		}
		return nil
	})
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sandbox %s: %v\n%s", strings.Join(cmdArgs, " "), err, out.String())
	}
	return filepath.Base(exe)
}

func TestExecShortWay(t *testing.T) {
	t.Parallel()
	name := fmt.Sprintf("short-%d", time.Now().UnixNano())
	id := detached(t, "--name", name, "busybox", "sleep", "300")
	waitState(t, id, "running")

	// Taken: by name or id, with -i, -t, -d, -e, -w, -u; and its result is
	// the whole command's (TestExecTTY runs -it the short way).
	for i, args := range [][]string{{name}, {id}, {"-e", "A=1", "-w", "/tmp", name}, {"-i", id}, {"-u", "nobody", name}, {"-t", "--detach-keys", "ctrl-a", name}} {
		if got := execBinary(t, id, fmt.Sprintf("/tmp/taken-%d", i), args...); got != "sandbox-exec" {
			t.Errorf("exec %q ran as %s, want the short way (sandbox-exec)", args, got)
		}
	}
	r := sbWith(t, cmdOpts{env: []string{"FROMHOST=h"}}, "exec", "-e", "A=1", "-e", "FROMHOST", "-w", "/tmp", name, "sh", "-c", "echo $A $FROMHOST $HOME; pwd; exit 7")
	if r.code != 7 || r.stdout != "1 h /root\n/tmp\n" {
		t.Errorf("short exec: want exit 7 and %q, got %s", "1 h /root\n/tmp\n", r)
	}
	// Its events, as the engine records them: the exec, and its end with
	// the command's status.
	var died []map[string]any
	for _, e := range jsonEvents(t, ok(t, "events", "--stream=false", "--format", "json", "--filter", "container="+id, "--filter", "event=exec_died")) {
		if e["ContainerExitCode"] == float64(7) {
			died = append(died, e)
		}
	}
	if len(died) != 1 || died[0]["Name"] != name || died[0]["ID"] != id {
		t.Errorf("exec_died events of the short exec that exited 7: %v, want one naming %s", died, name)
	}
	if out := ok(t, "exec", "-u", "nobody", name, "sh", "-c", "id -u; echo $HOME"); out != "65534\n/home\n" {
		t.Errorf("short exec -u nobody printed %q, want nobody's uid and home", out)
	}
	r = sb(t, "exec", name, "/no/such/command")
	if r.code != 127 || !strings.Contains(r.stderr, "/no/such/command") {
		t.Errorf("short exec of a missing command: want exit 127 naming it, got %s", r)
	}
	// --env-file, --privileged and --security-opt no-new-privileges are
	// taken too, with the whole command's result: an id prefix (which the
	// links do not know) sends the same exec to the whole command.
	envFile := filepath.Join(t.TempDir(), "exec.env")
	if err := os.WriteFile(envFile, []byte("# c\nF=file\nA=0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, args := range [][]string{{"--env-file", envFile, name}, {"--privileged", name}, {"--security-opt", "no-new-privileges", id}} {
		if got := execBinary(t, id, fmt.Sprintf("/tmp/taken-more-%d", i), args...); got != "sandbox-exec" {
			t.Errorf("exec %q ran as %s, want the short way (sandbox-exec)", args, got)
		}
	}
	for _, tc := range []struct {
		flags   []string
		command string
	}{
		{[]string{"--env-file", envFile, "-e", "A=1"}, "echo $F $A"},
		{[]string{"--privileged"}, "grep -E 'Cap(Eff|Bnd)' /proc/self/status"},
		{[]string{"--security-opt", "no-new-privileges"}, "grep NoNewPrivs /proc/self/status"},
		{nil, "grep -E 'NoNewPrivs|CapEff' /proc/self/status"},
	} {
		short := ok(t, append(append(append([]string{"exec"}, tc.flags...), name), "sh", "-c", tc.command)...)
		whole := ok(t, append(append(append([]string{"exec"}, tc.flags...), id[:12]), "sh", "-c", tc.command)...)
		if short != whole || short == "" {
			t.Errorf("exec %q %q: the short way printed %q, the whole command %q; want the same", tc.flags, tc.command, short, whole)
		}
	}
	if out := ok(t, "exec", "--env-file", envFile, "-e", "A=1", name, "sh", "-c", "echo $F $A"); out != "file 1\n" {
		t.Errorf("exec --env-file with -e printed %q, want the file's F and -e's A", out)
	}
	if out := ok(t, "exec", "--security-opt", "no-new-privileges", name, "grep", "NoNewPrivs", "/proc/self/status"); !strings.Contains(out, "1") {
		t.Errorf("exec --security-opt no-new-privileges: %q, want NoNewPrivs 1", out)
	}
	// Left to the whole command: an id prefix, a --security-opt form the
	// short way does not read.
	for i, args := range [][]string{{id[:12]}, {"--security-opt", "no-new-privileges=false", id}} {
		if got := execBinary(t, id, fmt.Sprintf("/tmp/whole-%d", i), args...); got != "sandbox" {
			t.Errorf("exec %q ran as %s, want the whole command (sandbox)", args, got)
		}
	}

	// A user the image does not have: the whole command says so.
	fails(t, 125, []string{"nosuchuser"}, "exec", "-u", "nosuchuser", name, "true")

	// Renamed: the new name is taken the short way, the old one names
	// nothing.
	renamed := name + "-renamed"
	ok(t, "rename", name, renamed)
	if got := execBinary(t, id, "/tmp/renamed", renamed); got != "sandbox-exec" {
		t.Errorf("exec by the new name ran as %s, want the short way", got)
	}
	// Its events name it by the new name, by name or by id.
	for _, ref := range []string{id, renamed} {
		if r := sb(t, "exec", ref, "sh", "-c", "exit 9"); r.code != 9 {
			t.Errorf("exec by %s: want exit 9, got %s", ref, r)
		}
	}
	died = nil
	for _, e := range jsonEvents(t, ok(t, "events", "--stream=false", "--format", "json", "--filter", "container="+id, "--filter", "event=exec_died")) {
		if e["ContainerExitCode"] == float64(9) && e["Name"] == renamed {
			died = append(died, e)
		}
	}
	if len(died) != 2 {
		t.Errorf("exec_died events of the renamed container's exits 9: %d named %s, want 2", len(died), renamed)
	}
	fails(t, 125, []string{fmt.Sprintf("no container with name or ID %q found", name)}, "exec", name, "true")

	// Without the run root's links (a container made before them): the
	// whole command finds it in the store.
	runDirs := filepath.Join(env.runroot, "sandbox-containers")
	for _, link := range []string{filepath.Join(runDirs, spec.NamesDir, renamed), filepath.Join(runDirs, id, spec.ConfigLink)} {
		if err := os.Remove(link); err != nil {
			t.Fatal(err)
		}
	}
	if got := execBinary(t, id, "/tmp/unlinked", renamed); got != "sandbox" {
		t.Errorf("exec of a container without links ran as %s, want the whole command", got)
	}
	if out := ok(t, "exec", renamed, "echo", "found"); out != "found\n" {
		t.Errorf("exec of a container without links printed %q", out)
	}

	// Started again (as after a reboot, whose run root has no links): the
	// start links it again.
	ok(t, "rename", renamed, name)
	ok(t, "stop", "-t", "0", name)
	ok(t, "start", name)
	waitState(t, id, "running")
	if got := execBinary(t, id, "/tmp/restarted", name); got != "sandbox-exec" {
		t.Errorf("exec of a container started again ran as %s, want the short way", got)
	}

	// Stopped: the whole command says why not (pause, which needs a
	// delegated cgroup v2, is left to the unit tests of spec).
	ok(t, "stop", "-t", "0", name)
	fails(t, 125, []string{"exec needs a running container"}, "exec", name, "true")

	// Removed: its name link goes with it.
	ok(t, "rm", name)
	if _, err := os.Lstat(filepath.Join(runDirs, spec.NamesDir, name)); !os.IsNotExist(err) {
		t.Errorf("the name link of a removed container: %v, want none", err)
	}
	fails(t, 125, []string{fmt.Sprintf("no container with name or ID %q found", name)}, "exec", name, "true")
}
