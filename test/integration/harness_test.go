// Package integration holds the rootless integration tests: real
// containers run by an unprivileged user (privilege tier: rootless
// integration). `make test-integration` builds this package's test binary
// and runs it as the test user; run as root, the tests refuse to start.
//
// The harness (TestMain) gives every run its own store (--root and
// --runroot under temporary directories), imports the busybox image built
// offline from the host's busybox-static, and starts Debian's
// docker-registry on a free loopback port. With SANDBOX_TEST_STRICT=1 (set
// by the Makefile) a missing requirement fails the run instead of skipping.
package integration

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var env struct {
	bin      string // the sandbox binary
	repo     string // the repository root
	root     string // --root of this run
	runroot  string // --runroot of this run
	registry string // host:port of the test registry
	tarball  string // the busybox root filesystem tarball
}

// probe, -sandbox.probe=cgroup: print whether cgroup v2 is delegated here
// ("delegated" or "none") and run no test. The tiers ask it to select the
// cgroup tests that apply (cgroup_test.go).
var probe = flag.String("sandbox.probe", "", "print `cgroup` delegation (delegated|none) and exit")

func TestMain(m *testing.M) {
	flag.Parse()
	if *probe != "" {
		os.Exit(probeHere(*probe))
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		if strict() {
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "integration: SKIPPED every test (set SANDBOX_TEST_STRICT=1 to make this a failure)")
		os.Exit(0)
	}
	os.Exit(code)
}

func probeHere(what string) int {
	if what != "cgroup" {
		fmt.Fprintf(os.Stderr, "integration: -sandbox.probe=%q: want cgroup\n", what)
		return 2
	}
	d, err := delegatedHere()
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	if d {
		fmt.Println("delegated")
	} else {
		fmt.Println("none")
	}
	return 0
}

// strict: SANDBOX_TEST_STRICT=1, as the Makefile's tiers run the tests.
func strict() bool { return os.Getenv("SANDBOX_TEST_STRICT") == "1" }

// notHere ends a test that does not apply on this machine: a skip, or in
// a strict run a failure, for the tiers select only the tests that apply
// (a strict run that would skip chose the wrong ones, and CI must not
// pass with a test that did not run).
func notHere(t *testing.T, why string) {
	t.Helper()
	if strict() {
		t.Fatalf("selected where it does not apply: %s", why)
	}
	t.Skip(why)
}

func setup(m *testing.M) (int, error) {
	if os.Geteuid() == 0 {
		return 0, errors.New("the rootless tests must run as an unprivileged user (make test-integration runs them as the test user)")
	}
	_, file, _, _ := runtime.Caller(0)
	env.repo = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	if dir := os.Getenv("SANDBOX_REPO"); dir != "" {
		env.repo = dir
	}
	env.bin = filepath.Join(env.repo, "bin", "sandbox")
	if b := os.Getenv("SANDBOX_BIN"); b != "" {
		env.bin = b
	}
	if _, err := os.Stat(env.bin); err != nil {
		return 0, fmt.Errorf("sandbox binary: %w (run make build)", err)
	}
	for _, tool := range []string{"newuidmap", "newgidmap", "docker-registry"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 0, fmt.Errorf("%s not found: run hack/setup.sh as root", tool)
		}
	}
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		return 0, errors.New("XDG_RUNTIME_DIR is not set")
	}
	tmp, err := os.MkdirTemp("", "sandbox-it-")
	if err != nil {
		return 0, err
	}
	env.root = filepath.Join(tmp, "root")
	env.runroot, err = os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "sandbox-it-")
	if err != nil {
		return 0, err
	}
	env.tarball = filepath.Join(tmp, "busybox.tar")
	if out, err := exec.Command(filepath.Join(env.repo, "hack", "mkimage-busybox.sh"), env.tarball).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build busybox tarball: %v: %s", err, out)
	}
	// The first command of a run makes the keeper and the store: slow in
	// the VM (TCG) on a loaded host.
	if r := sbRaw(&cmdOpts{timeout: 5 * time.Minute}, "import", "--change", `CMD ["sh"]`, env.tarball, "busybox"); r.code != 0 {
		return 0, fmt.Errorf("import busybox: %s", r)
	}
	stopRegistry, err := startRegistry(tmp)
	if err != nil {
		return 0, err
	}
	code := m.Run()
	stopRegistry()
	cleanupPodman()
	// Remove what the run left: pods (with their infra containers),
	// containers, then the store, whose files belong to subordinate ids
	// and so are removed from inside.
	if r := sbRaw(nil, "pod", "ps", "-q", "--no-trunc"); r.code == 0 {
		for _, id := range strings.Fields(r.stdout) {
			if rr := sbRaw(nil, "pod", "rm", "-f", id); rr.code != 0 {
				fmt.Fprintf(os.Stderr, "integration: cleanup: %s\n", rr)
				code = 1
			}
		}
	}
	if r := sbRaw(nil, "ps", "-aq", "--no-trunc"); r.code == 0 {
		for _, id := range strings.Fields(r.stdout) {
			if rr := sbRaw(nil, "rm", "-f", id); rr.code != 0 {
				fmt.Fprintf(os.Stderr, "integration: cleanup: %s\n", rr)
				code = 1
			}
		}
	}
	sbRaw(nil, "unshare", "rm", "-rf", env.root)
	os.RemoveAll(tmp)
	os.RemoveAll(env.runroot)
	return code, nil
}

// startRegistry runs Debian's docker-registry on a free loopback port.
func startRegistry(dir string) (func(), error) {
	addr, stop, err := registry(dir, "")
	env.registry = addr
	return stop, err
}

// registry starts a docker-registry keeping its data in dir, with basic
// authentication from the htpasswd file when one is given, and returns its
// address.
func registry(dir, htpasswd string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "registry.yml")
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "registry"), addr)
	if htpasswd != "" {
		conf += fmt.Sprintf("auth:\n  htpasswd:\n    realm: sandbox-test\n    path: %s\n", htpasswd)
	}
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return "", nil, err
	}
	var logs syncBuffer
	start := func() (*exec.Cmd, error) {
		cmd := exec.Command("docker-registry", "serve", cfg)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start docker-registry: %w", err)
		}
		return cmd, nil
	}
	cmd, err := start()
	if err != nil {
		return "", nil, err
	}
	// A registry killed from outside (a host set-up run meanwhile that
	// stops registries) is started again on its address, until stop.
	var mu sync.Mutex
	stopped := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			cmd.Wait()
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			if stopped {
				mu.Unlock()
				return
			}
			next, err := start()
			if err != nil {
				mu.Unlock()
				return
			}
			cmd = next
			mu.Unlock()
		}
	}()
	stop := func() {
		mu.Lock()
		stopped = true
		cmd.Process.Kill()
		mu.Unlock()
		<-done
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("docker-registry did not listen on %s: %s", addr, logs.String())
}

// result is what a sandbox command did.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("sandbox %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// cmdOpts tune one command.
type cmdOpts struct {
	stdin   string
	env     []string // added to the environment
	timeout time.Duration
	bin     string // the sandbox binary, if not the build's
}

// globalArgs select this run's store, and the cgroup manager that
// SANDBOX_TEST_CGROUP_MANAGER names (the VM's second pass: systemd).
func globalArgs() []string {
	args := []string{"--root", env.root, "--runroot", env.runroot}
	if m := os.Getenv("SANDBOX_TEST_CGROUP_MANAGER"); m != "" {
		args = append(args, "--cgroup-manager", m)
	}
	return args
}

// command prepares a sandbox command against this run's store.
func command(ctx context.Context, o *cmdOpts, args ...string) *exec.Cmd {
	bin := env.bin
	if o != nil && o.bin != "" {
		bin = o.bin
	}
	cmd := exec.CommandContext(ctx, bin, append(globalArgs(), args...)...)
	cmd.Env = os.Environ()
	if o != nil {
		cmd.Env = append(cmd.Env, o.env...)
		if o.stdin != "" {
			cmd.Stdin = strings.NewReader(o.stdin)
		}
	}
	return cmd
}

func sbRaw(o *cmdOpts, args ...string) result {
	timeout := 60 * time.Second
	if o != nil && o.timeout > 0 {
		timeout = o.timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := command(ctx, o, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
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

// sb runs a sandbox command.
func sb(t *testing.T, args ...string) result {
	t.Helper()
	return sbRaw(nil, args...)
}

// sbWith runs a sandbox command with options.
func sbWith(t *testing.T, o cmdOpts, args ...string) result {
	t.Helper()
	return sbRaw(&o, args...)
}

// ok runs a sandbox command that must succeed and returns its stdout.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := sb(t, args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

// fails runs a command that must exit with code and print one line naming
// every one of want.
func fails(t *testing.T, code int, want []string, args ...string) result {
	t.Helper()
	r := sb(t, args...)
	if r.code != code {
		t.Fatalf("want exit %d\n%s", code, r)
	}
	msg := strings.TrimSpace(r.stderr)
	if code == 125 && strings.Count(msg, "\n") != 0 {
		t.Errorf("want a one-line error, got:\n%s", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not name %q", msg, w)
		}
	}
	return r
}

// run runs a container with --rm and returns its output.
func run(t *testing.T, args ...string) string {
	t.Helper()
	return ok(t, append([]string{"run", "--rm"}, args...)...)
}

// containerIDs lists every container of this run's store.
func containerIDs(t *testing.T) []string {
	t.Helper()
	return strings.Fields(ok(t, "ps", "-aq", "--no-trunc"))
}

// storeMounts lists the mounts under this run's store in the keeper's
// mount namespace.
func storeMounts(t *testing.T) []string {
	t.Helper()
	out := ok(t, "unshare", "cat", "/proc/self/mountinfo")
	var ms []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		// containers/storage binds its overlay directory onto itself.
		if len(f) > 4 && strings.HasPrefix(f[4], env.root) && f[4] != filepath.Join(env.root, "overlay") {
			ms = append(ms, f[4])
		}
	}
	return ms
}

// eventually retries check until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer that processes may write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
