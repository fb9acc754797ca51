package integration

// Rootless integration tests of images: import, load, save, push, pull
// (against the harness's docker-registry on loopback), images, tag, rmi.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestImport(t *testing.T) {
	t.Parallel()
	out := ok(t, "import", "--change", "ENV IMPORTED=yes", "--change", `CMD ["sh", "-c", "echo $IMPORTED"]`, "--message", "test import", env.tarball, "imp/one:v1")
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("import printed %q", out)
	}
	if got := run(t, "imp/one:v1"); got != "yes\n" {
		t.Errorf("imported image ran %q", got)
	}
	// From standard input, without a name.
	data, err := os.ReadFile(env.tarball)
	if err != nil {
		t.Fatal(err)
	}
	r := sbWith(t, cmdOpts{stdin: string(data)}, "import", "-")
	if r.code != 0 {
		t.Fatal(r)
	}
	id := strings.TrimPrefix(strings.TrimSpace(r.stdout), "sha256:")
	if got := run(t, id[:12], "echo", "by-id"); got != "by-id\n" {
		t.Errorf("run by id prefix: %q", got)
	}
	if !strings.Contains(ok(t, "images"), "<none>") {
		t.Error("an unnamed import is not listed as <none>")
	}
	fails(t, 125, []string{"FROM nothing", "CMD, ENTRYPOINT"}, "import", "--change", "FROM nothing", env.tarball, "imp/bad")
	fails(t, 125, []string{"/no/such.tar"}, "import", "/no/such.tar", "imp/bad")
}

func TestImagesFormat(t *testing.T) {
	t.Parallel()
	imageWith(t, "fmt/img:t1")
	table := ok(t, "images")
	if !strings.HasPrefix(table, "REPOSITORY") || !regexp.MustCompile(`(?m)^fmt/img\s+t1\s+[0-9a-f]{12}\s+.* ago\s+2\.\d+MB$`).MatchString(table) {
		t.Errorf("images table:\n%s", table)
	}
	if out := ok(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, "fmt/img:t1\n") || !strings.Contains(out, "busybox:latest\n") {
		t.Errorf("images --format: %q", out)
	}
	for _, id := range strings.Fields(ok(t, "images", "-q")) {
		if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(id) {
			t.Errorf("images -q printed %q", id)
		}
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "images", "--format", "json")), &list); err != nil || len(list) == 0 {
		t.Errorf("images --format json: %v", err)
	}
	fails(t, 125, []string{"{{.Nope"}, "images", "--format", "{{.Nope")
}

func TestSaveLoad(t *testing.T) {
	t.Parallel()
	imageWith(t, "saved/img:v1", "ENV SAVED=1")
	dir := t.TempDir()
	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, format+".tar")
			ok(t, "save", "--format", format, "-o", file, "saved/img:v1")
			if st, err := os.Stat(file); err != nil || st.Size() < 1<<20 {
				t.Fatalf("archive %s: %v", file, err)
			}
			ok(t, "rmi", "saved/img:v1")
			out := ok(t, "load", "-i", file)
			if out != "Loaded image: saved/img:v1\n" {
				t.Errorf("load printed %q", out)
			}
			if got := run(t, "saved/img:v1", "sh", "-c", "echo $SAVED"); got != "1\n" {
				t.Errorf("loaded image ran %q", got)
			}
		})
	}
	fails(t, 125, []string{"not a docker-archive or oci-archive"}, "load", "-i", env.tarball)
}

func TestPushPull(t *testing.T) {
	t.Parallel()
	ref := env.registry + "/it/busybox:pushed"
	imageWith(t, "it/topush:1", "ENV PUSHED=1")
	ok(t, "tag", "it/topush:1", ref)
	ok(t, "push", "-q", ref)
	ok(t, "rmi", ref, "it/topush:1")
	if strings.Contains(ok(t, "images"), "it/busybox") {
		t.Fatal("image still present after rmi")
	}
	// --pull=never refuses to fetch what is missing.
	fails(t, 125, []string{"no such image", "never"}, "run", "--rm", "--pull=never", ref, "true")
	out := ok(t, "pull", "-q", ref)
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(out) {
		t.Errorf("pull printed %q", out)
	}
	if got := run(t, ref, "sh", "-c", "echo $PUSHED"); got != "1\n" {
		t.Errorf("pulled image ran %q", got)
	}
	// run pulls a missing image by itself.
	ok(t, "rmi", ref)
	if got := run(t, ref, "echo", "auto-pulled"); got != "auto-pulled\n" {
		t.Errorf("run with a missing image: %q", got)
	}
	if got := run(t, "--pull=always", ref, "echo", "again"); got != "again\n" {
		t.Errorf("--pull=always: %q", got)
	}
	fails(t, 125, []string{env.registry + "/it/missing"}, "pull", env.registry+"/it/missing:1")
}

func TestRmi(t *testing.T) {
	t.Parallel()
	imageWith(t, "rmi/a:1")
	ok(t, "tag", "rmi/a:1", "rmi/b:1")
	// A name of an image with more names only untags.
	if out := ok(t, "rmi", "rmi/b:1"); out != "Untagged: rmi/b:1\n" {
		t.Errorf("rmi of one name printed %q", out)
	}
	ok(t, "create", "--name", "rmi-user", "rmi/a:1", "true")
	fails(t, 2, []string{"image used by", "image is in use by a container"}, "rmi", "rmi/a:1")
	out := ok(t, "rmi", "-f", "rmi/a:1")
	if !strings.Contains(out, "Untagged: rmi/a:1\n") || !strings.Contains(out, "Deleted: sha256:") {
		t.Errorf("rmi -f printed %q", out)
	}
	if strings.Contains(ok(t, "ps", "-a"), "rmi-user") {
		t.Error("rmi -f left the container that used the image")
	}
	fails(t, 1, []string{"rmi/a:1: image not known"}, "rmi", "rmi/a:1")
}

// TestRmiAfterRunRm: as after docker's run --rm, which returns once the
// container is gone, the commands that follow do not meet a --rm container
// whose command has ended: they wait for its removal. The container's
// monitor is held stopped so that the wait is certain to be needed.
func TestRmiAfterRunRm(t *testing.T) {
	t.Parallel()
	imageWith(t, "rmirm/img:1")
	id := detached(t, "--rm", "--name", "rmirm", "rmirm/img:1", "sleep", "30")
	var pids struct{ Pid, MonitorPid int }
	if err := json.Unmarshal([]byte(ok(t, "inspect", "--format", "{{json .State}}", id)), &pids); err != nil || pids.Pid <= 0 || pids.MonitorPid <= 0 {
		t.Fatalf("inspect: %+v, %v", pids, err)
	}
	if err := syscall.Kill(pids.MonitorPid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			syscall.Kill(pids.MonitorPid, syscall.SIGCONT)
		}
	}()
	// The monitor stops when it next runs: until then, a command killed
	// now could still be reaped by it, and never be seen a zombie.
	for deadline := time.Now().Add(10 * time.Second); procState(pids.MonitorPid) != 'T'; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("monitor %d did not stop (state %q)", pids.MonitorPid, procState(pids.MonitorPid))
		}
	}
	if err := syscall.Kill(pids.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// A signal is delivered when the process next runs: the command has
	// ended once it is a zombie, which its stopped monitor cannot reap.
	for deadline := time.Now().Add(10 * time.Second); !zombie(pids.Pid); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not die of SIGKILL", pids.Pid)
		}
	}
	rmi := make(chan result, 1)
	go func() { rmi <- sbRaw(nil, "rmi", "rmirm/img:1") }()
	select {
	case r := <-rmi:
		t.Fatalf("rmi did not wait for the --rm container to go: %s", r)
	case <-time.After(500 * time.Millisecond):
	}
	syscall.Kill(pids.MonitorPid, syscall.SIGCONT)
	stopped = false
	if r := <-rmi; r.code != 0 {
		t.Fatalf("rmi after the --rm container went: %s", r)
	}
	// Its name is free again.
	ok(t, "run", "--rm", "--name", "rmirm", "busybox", "true")
}

// zombie reports whether process pid has exited and waits to be reaped.
func zombie(pid int) bool { return procState(pid) == 'Z' }

// procState is process pid's state as /proc/PID/stat gives it ('R', 'S',
// 'T', 'Z'...), or 0 if there is no such process.
func procState(pid int) byte {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i <= 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}
