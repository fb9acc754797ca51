package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dockerCLI is Debian's docker client (docker.io), which hack/setup.sh
// installs; only the client is used.
const dockerCLI = "/usr/bin/docker"

// apiService is a running `sandbox system service` on this run's store.
type apiService struct {
	sock string
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan error
}

// startService starts `sandbox system service` on a socket of its own
// and stops it (SIGTERM) when the test ends.
func startService(t *testing.T, idle string) *apiService {
	t.Helper()
	dir, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "sandbox-api-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &apiService{sock: filepath.Join(dir, "api.sock"), logs: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(env.bin, append(globalArgs(), "system", "service", "--time", idle, "unix://"+s.sock)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			t.Errorf("the service did not stop on SIGTERM; its log:\n%s", s.logs)
		}
	})
	eventually(t, 15*time.Second, func() error {
		c, err := net.Dial("unix", s.sock)
		if err != nil {
			return fmt.Errorf("service socket: %v; log:\n%s", err, s.logs)
		}
		return c.Close()
	})
	return s
}

// client is an HTTP client on the service's socket.
func (s *apiService) client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", s.sock)
	}}}
}

// request sends one API request and returns the status and body.
func (s *apiService) request(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://sandbox"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// docker runs Debian's docker client against the service.
func (s *apiService) docker(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+s.sock, "DOCKER_CONFIG="+t.TempDir())
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: append([]string{"(docker)"}, args...), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.stderr += err.Error()
	}
	if ctx.Err() != nil {
		r.code = -1
		r.stderr += "\n(timed out)"
	}
	return r
}

func (s *apiService) dockerOK(t *testing.T, args ...string) string {
	t.Helper()
	r := s.docker(t, "", args...)
	if r.code != 0 {
		t.Fatalf("%s\nservice log:\n%s", r, s.logs)
	}
	return r.stdout
}

func needDockerCLI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dockerCLI); err != nil {
		notHere(t, "Debian's docker client is not installed (hack/setup.sh installs docker.io)")
	}
}

// TestAPIDockerCLI drives the service with the docker client: the
// commands a user types, their output and exit codes.
func TestAPIDockerCLI(t *testing.T) {
	needDockerCLI(t)
	s := startService(t, "0")
	st, err := os.Stat(s.sock)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", st.Mode().Perm())
	}

	t.Run("version", func(t *testing.T) {
		out := s.dockerOK(t, "version", "--format", "{{.Server.Platform.Name}} {{.Server.APIVersion}}")
		if !strings.HasPrefix(out, "sandbox 1.") {
			t.Errorf("docker version: %q", out)
		}
	})
	t.Run("run", func(t *testing.T) {
		r := s.docker(t, "", "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
		if r.code != 3 || r.stdout != "out\n" || !strings.Contains(r.stderr, "err") {
			t.Errorf("want exit 3, out on stdout and err on stderr:\n%s", r)
		}
		if out := s.dockerOK(t, "ps", "-aq"); out != "" {
			t.Errorf("run --rm left containers: %q", out)
		}
		r = s.docker(t, "hello from stdin\n", "run", "--rm", "-i", "busybox", "sh", "-c", "cat; exit 4")
		if r.code != 4 || r.stdout != "hello from stdin\n" {
			t.Errorf("run -i: want the input back and exit 4:\n%s", r)
		}
		out := s.dockerOK(t, "run", "--rm", "-t", "busybox", "tty")
		if !strings.HasPrefix(out, "/dev/pts/") {
			t.Errorf("run -t: tty says %q", out)
		}
		r = s.docker(t, "", "run", "--rm", "busybox", "nosuchcommand")
		if r.code != 127 {
			t.Errorf("a command that is not there: want exit 127:\n%s", r)
		}
	})
	// A short container may exit and be removed while the server is
	// still returning from its start: the client's wait (sent before the
	// start) must still get the status, never "No such container".
	t.Run("run-rm-short", func(t *testing.T) {
		for i := range 30 {
			if r := s.docker(t, "", "run", "--rm", "busybox", "sh", "-c", fmt.Sprintf("exit %d", i%5)); r.code != i%5 || r.stderr != "" {
				t.Fatalf("run %d: want exit %d and no error:\n%s", i, i%5, r)
			}
		}
	})
	t.Run("detached", func(t *testing.T) {
		id := strings.TrimSpace(s.dockerOK(t, "run", "-d", "--name", "apid", "-e", "FOO=bar", "-p", "127.0.0.1::80", "busybox",
			"sh", "-c", "echo start; echo $FOO; trap 'exit 0' TERM; while :; do sleep 0.1; done"))
		if len(id) != 64 {
			t.Fatalf("run -d printed %q, want an id", id)
		}
		if out := s.dockerOK(t, "ps", "--format", "{{.Names}} {{.Image}} {{.Ports}}"); !strings.Contains(out, "apid busybox 127.0.0.1:") || !strings.Contains(out, "->80/tcp") {
			t.Errorf("docker ps: %q", out)
		}
		if out := s.dockerOK(t, "port", "apid", "80"); !strings.HasPrefix(out, "127.0.0.1:") {
			t.Errorf("docker port: %q", out)
		}
		eventually(t, 10*time.Second, func() error {
			if out := s.dockerOK(t, "logs", "apid"); out != "start\nbar\n" {
				return fmt.Errorf("logs: %q", out)
			}
			return nil
		})
		r := s.docker(t, "one\ntwo\n", "exec", "-i", "apid", "sh", "-c", "cat; exit 5")
		if r.code != 5 || r.stdout != "one\ntwo\n" {
			t.Errorf("exec -i: want the input back and exit 5:\n%s", r)
		}
		if out := s.dockerOK(t, "inspect", "--format", "{{.State.Status}} {{.Name}} {{.Config.Image}}", "apid"); out != "running /apid busybox\n" {
			t.Errorf("inspect: %q", out)
		}
		s.dockerOK(t, "stop", "-t", "5", "apid")
		if out := s.dockerOK(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "apid"); out != "exited 0\n" {
			t.Errorf("inspect after stop: %q", out)
		}
		s.dockerOK(t, "rm", "apid")
		r = s.docker(t, "", "inspect", "apid")
		if r.code != 1 || !strings.Contains(r.stderr, "No such") {
			t.Errorf("inspect of a removed container:\n%s", r)
		}
	})
	t.Run("logs-follow", func(t *testing.T) {
		s.dockerOK(t, "run", "-d", "--name", "apilogs", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done")
		out := s.dockerOK(t, "logs", "-f", "apilogs")
		if out != "line1\nline2\nline3\n" {
			t.Errorf("logs -f: %q", out)
		}
		s.dockerOK(t, "rm", "-f", "apilogs")
	})
	t.Run("lifecycle", func(t *testing.T) {
		since := time.Now().Add(-time.Second).Unix()
		s.dockerOK(t, "run", "-d", "--name", "apilife", "busybox", "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
		if out := s.dockerOK(t, "top", "apilife"); !strings.Contains(out, "sleep") && !strings.Contains(out, "sh -c") {
			t.Errorf("top: %q", out)
		}
		// pause needs a delegated cgroup v2 (the VM tier has one): without
		// it, the engine's refusal comes through as docker's error.
		paused := []string{"create apilife", "start apilife"}
		if r := s.docker(t, "", "pause", "apilife"); r.code == 0 {
			if out := s.dockerOK(t, "inspect", "--format", "{{.State.Status}}", "apilife"); out != "paused\n" {
				t.Errorf("after pause: %q", out)
			}
			s.dockerOK(t, "unpause", "apilife")
			paused = append(paused, "pause apilife", "unpause apilife")
		} else if r.code != 1 || !strings.Contains(r.stderr, "Error response from daemon: pause needs a delegated cgroup v2") {
			t.Errorf("pause: want docker's error with the engine's refusal:\n%s", r)
		}
		s.dockerOK(t, "rename", "apilife", "apilife2")
		s.dockerOK(t, "restart", "-t", "5", "apilife2")
		if out := s.dockerOK(t, "inspect", "--format", "{{.State.Status}}", "apilife2"); out != "running\n" {
			t.Errorf("after restart: %q", out)
		}
		s.dockerOK(t, "kill", "apilife2")
		if out := s.dockerOK(t, "wait", "apilife2"); out != "137\n" {
			t.Errorf("wait after kill: %q", out)
		}
		until := time.Now().Add(time.Second).Unix()
		out := s.dockerOK(t, "events", "--since", fmt.Sprint(since), "--until", fmt.Sprint(until),
			"--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
		// The monitor records died under the name the container started
		// with; the name is not what this test is about.
		for _, want := range append(paused, "rename apilife2", "kill apilife2", "die apilife") {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("events: no %q in:\n%s", want, out)
			}
		}
		s.dockerOK(t, "rm", "apilife2")
		if out := s.dockerOK(t, "info", "--format", "{{.Driver}} {{.OSType}}"); !strings.HasSuffix(out, " linux\n") {
			t.Errorf("info: %q", out)
		}
		if out := s.dockerOK(t, "system", "df"); !strings.Contains(out, "Images") {
			t.Errorf("system df: %q", out)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		// script(1) gives the client a terminal of 33 rows and 77
		// columns: run -it and exec -it pass its size on (resize). The
		// client resizes once the process runs, as docker's does: the
		// command reads the size a moment later, as a user would.
		line := fmt.Sprintf("stty rows 33 cols 77; %s run -d --name apitty -it busybox sh >/dev/null; %s run --rm -it busybox sh -c 'sleep 0.5; stty size'; %s exec -it apitty sh -c 'sleep 0.5; stty size'; %s rm -f apitty >/dev/null",
			dockerCLI, dockerCLI, dockerCLI, dockerCLI)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "script", "-qec", line, "/dev/null")
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+s.sock, "DOCKER_CONFIG="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("script: %v: %q", err, out)
		}
		if got := strings.Count(string(out), "33 77\r\n"); got != 2 {
			t.Errorf("want the terminal's size twice (run -it, exec -it), got %q", out)
		}
	})
	t.Run("images", func(t *testing.T) {
		if out := s.dockerOK(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, "busybox:latest") {
			t.Errorf("docker images: %q", out)
		}
		ref := env.registry + "/api/busybox:1"
		s.dockerOK(t, "tag", "busybox", ref)
		if out := s.dockerOK(t, "push", ref); !strings.Contains(out, "digest: sha256:") {
			t.Errorf("push: %q", out)
		}
		s.dockerOK(t, "rmi", ref)
		if out := s.dockerOK(t, "pull", ref); !strings.Contains(out, "Downloaded newer image") {
			t.Errorf("pull: %q", out)
		}
		if out := s.dockerOK(t, "run", "--rm", ref, "echo", "pulled"); out != "pulled\n" {
			t.Errorf("run of the pulled image: %q", out)
		}
		s.dockerOK(t, "rmi", ref)
	})
}

// TestAPIErrors checks docker's error answers: status and message.
func TestAPIErrors(t *testing.T) {
	s := startService(t, "0")
	cases := []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/v1.41/nosuch", "", 404, "page not found"},
		{"GET", "/v1.41/containers/nosuch/json", "", 404, "No such container: nosuch"},
		{"GET", "/images/nosuch/json", "", 404, "No such image: nosuch"},
		{"POST", "/containers/create", "{bad json", 400, "invalid JSON"},
		{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"Sysctls":{"net.ipv4.ip_forward":"1"}}}`, 400, "Sysctls"},
		{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"Devices":[{"PathOnHost":"/dev/null"}]}}`, 400, "Devices"},
		{"POST", "/containers/create", `{"Image":"nosuchimage"}`, 404, "No such image"},
		{"GET", "/v9.99/version", "", 400, "too new"},
		{"GET", "/swarm", "", 503, "not a swarm manager"},
		{"GET", "/plugins", "", 501, "not supported"},
		{"POST", "/containers/create", `{"Image":"busybox","Labels":{"x":"` + strings.Repeat("y", 5<<20) + `"}}`, 400, "larger than"},
	}
	for _, c := range cases {
		code, body := s.request(t, c.method, c.path, c.body)
		var msg struct{ Message string }
		if err := json.Unmarshal([]byte(body), &msg); err != nil {
			t.Errorf("%s %s: not docker's JSON error: %q", c.method, c.path, body)
			continue
		}
		if code != c.code || !strings.Contains(msg.Message, c.want) {
			t.Errorf("%s %s: got %d %q, want %d naming %q", c.method, c.path, code, msg.Message, c.code, c.want)
		}
	}
	// A name in use is a conflict, and nothing half-made stays.
	code, body := s.request(t, "POST", "/containers/create?name=apidup", `{"Image":"busybox","Cmd":["true"]}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body = s.request(t, "POST", "/containers/create?name=apidup", `{"Image":"busybox","Cmd":["true"]}`); code != 409 {
		t.Errorf("create with a name in use: %d %s, want 409", code, body)
	}
	if code, body = s.request(t, "DELETE", "/containers/apidup", ""); code != 204 {
		t.Errorf("delete: %d %s", code, body)
	}
	if ids := containerIDs(t); len(ids) != 0 {
		t.Errorf("containers left: %v", ids)
	}
	if code, _ := s.request(t, "HEAD", "/_ping", ""); code != 200 {
		t.Errorf("HEAD /_ping: %d", code)
	}
}

// TestAPIStreams runs many clients at once and leaves streams half-way:
// the service answers on, and the containers end as they should.
func TestAPIStreams(t *testing.T) {
	s := startService(t, "0")
	code, body := s.request(t, "POST", "/containers/create?name=apistream", `{"Image":"busybox","Cmd":["sh","-c","while :; do echo tick; sleep 0.05; done"]}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body = s.request(t, "POST", "/containers/apistream/start", ""); code != 204 {
		t.Fatalf("start: %d %s", code, body)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A follower that leaves after the first bytes.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://sandbox/containers/apistream/logs?follow=1&stdout=1", nil)
			resp, err := s.client().Do(req)
			if err != nil {
				errs <- err
				return
			}
			buf := make([]byte, 64)
			if _, err := io.ReadAtLeast(resp.Body, buf, 9); err != nil {
				errs <- fmt.Errorf("logs -f: %v", err)
			}
			resp.Body.Close()
			// And a plain request.
			resp, err = s.client().Get("http://sandbox/containers/json")
			if err != nil {
				errs <- err
				return
			}
			var list []map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) != 1 {
				errs <- fmt.Errorf("containers/json: %v %v", err, list)
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if code, body = s.request(t, "POST", "/containers/apistream/kill", ""); code != 204 {
		t.Errorf("kill: %d %s", code, body)
	}
	code, body = s.request(t, "POST", "/containers/apistream/wait", "")
	if code != 200 || !strings.Contains(body, `"StatusCode":137`) {
		t.Errorf("wait after kill: %d %s", code, body)
	}
	if code, body = s.request(t, "DELETE", "/containers/apistream", ""); code != 204 {
		t.Errorf("delete: %d %s", code, body)
	}
}

// TestAPIIdle: --time ends the service after that many idle seconds.
func TestAPIIdle(t *testing.T) {
	s := startService(t, "1")
	s.request(t, "GET", "/_ping", "")
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		if err != nil {
			t.Errorf("the idle service exited with %v; log:\n%s", err, s.logs)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("the service with --time 1 still runs after 15 s")
	}
	if _, err := os.Stat(s.sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket is left behind: %v", err)
	}
}

// TestAPITestcontainers runs testcontainers-go's test (test/testcontainers,
// built by hack/test-integration.sh) against the service: a container
// started, waited for by log line and HTTP port, an exec, terminated.
func TestAPITestcontainers(t *testing.T) {
	bin := filepath.Join(env.repo, "bin", "testcontainers.test")
	if _, err := os.Stat(bin); err != nil {
		notHere(t, "bin/testcontainers.test is not built (hack/test-integration.sh builds it)")
	}
	s := startService(t, "0")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.v", "-test.count=1")
	cmd.Dir = t.TempDir()
	// The published ports are on this host's loopback. Without the
	// override, testcontainers on a machine that is itself a container
	// (/.dockerenv) would look for them at the default gateway.
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+s.sock, "TESTCONTAINERS_RYUK_DISABLED=true",
		"TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1", "DOCKER_CONFIG="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("testcontainers: %v\n%s\nservice log:\n%s", err, out, s.logs)
	}
	if !strings.Contains(string(out), "--- PASS: TestBusyboxHTTPD") {
		t.Errorf("testcontainers: the test did not pass:\n%s", out)
	}
	if ids := containerIDs(t); len(ids) != 0 {
		t.Errorf("containers left after Terminate: %v", ids)
	}
}

// TestAPISocketActivation: the service serves the socket that systemd
// passes (LISTEN_FDS), as contrib/systemd/sandbox.socket does;
// systemd-socket-activate plays systemd's part.
func TestAPISocketActivation(t *testing.T) {
	tool, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		notHere(t, "systemd-socket-activate is not installed (Debian's systemd package)")
	}
	dir, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "sandbox-api-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s := &apiService{sock: filepath.Join(dir, "api.sock"), logs: &bytes.Buffer{}}
	s.cmd = exec.Command(tool, append([]string{"-l", s.sock, "--", env.bin}, append(globalArgs(), "system", "service", "--time", "1")...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	defer func() {
		s.cmd.Process.Kill()
		<-done
	}()
	eventually(t, 10*time.Second, func() error {
		_, err := os.Stat(s.sock)
		return err
	})
	if code, body := s.request(t, "GET", "/v1.41/version", ""); code != 200 || !strings.Contains(body, `"Name":"sandbox"`) {
		t.Fatalf("version through the activated socket: %d %s\nlog:\n%s", code, body, s.logs)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Errorf("the activated service exited with %v\nlog:\n%s", err, s.logs)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("the activated service with --time 1 still runs after 15 s")
	}
}

// TestAPIEvents: events without since are those from now on, followed
// until the client leaves.
func TestAPIEvents(t *testing.T) {
	s := startService(t, "0")
	// An older event, which the stream must not show.
	if code, body := s.request(t, "POST", "/containers/create?name=apiev-old", `{"Image":"busybox","Cmd":["true"]}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", `http://sandbox/v1.41/events?filters={"type":["container"]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if code, body := s.request(t, "POST", "/containers/create?name=apiev-new", `{"Image":"busybox","Cmd":["true"]}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var ev struct {
		Type, Action string
		Actor        struct{ Attributes map[string]string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		t.Fatalf("events: %v", err)
	}
	if ev.Type != "container" || ev.Action != "create" || ev.Actor.Attributes["name"] != "apiev-new" {
		t.Errorf("first event: %+v, want the create of apiev-new", ev)
	}
	cancel()
	for _, n := range []string{"apiev-old", "apiev-new"} {
		if code, body := s.request(t, "DELETE", "/containers/"+n, ""); code != 204 {
			t.Errorf("delete %s: %d %s", n, code, body)
		}
	}
}
