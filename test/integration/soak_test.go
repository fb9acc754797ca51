// Rootless integration tests (privilege tier: unprivileged user) under
// load: a soak of random operations with random kills from 8 workers, and
// 200 idle containers. make test runs the short soak (SANDBOX_SOAK_OPS,
// default 100); make soak runs 2000.

package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// envInt reads a positive count from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// soak is the state the workers share.
type soak struct {
	s      storeCmd
	ops    atomic.Int64
	kills  atomic.Int64
	mu     sync.Mutex
	procs  map[*os.Process]bool // sandbox commands running now
	counts map[string]int       // operations done, by kind
	failed map[string]int       // and failed, not killed
	killed map[string]int       // and killed by another worker
	// psErrors are the failures of ps (not killed): there should be none.
	psErrors []string
}

// cmd runs one sandbox command that a kill may end.
func (k *soak) cmd(args ...string) result {
	c := exec.Command(env.bin, append(append([]string{}, k.s.args...), args...)...)
	var stdout, stderr strings.Builder
	c.Stdout, c.Stderr = &stdout, &stderr
	r := result{args: args}
	if err := c.Start(); err != nil {
		r.code, r.stderr = -1, err.Error()
		return r
	}
	k.mu.Lock()
	k.procs[c.Process] = true
	k.mu.Unlock()
	err := c.Wait()
	k.mu.Lock()
	delete(k.procs, c.Process)
	k.mu.Unlock()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if err != nil {
		r.code = c.ProcessState.ExitCode()
	}
	return r
}

// kill sends SIGKILL to a random sandbox process of this store: a command
// of another worker, or a container's monitor.
func (k *soak) kill(rng *rand.Rand) {
	var victims []int
	k.mu.Lock()
	for p := range k.procs {
		victims = append(victims, p.Pid)
	}
	k.mu.Unlock()
	for _, p := range storeProcesses(k.s.runroot()) {
		if pid, err := strconv.Atoi(strings.SplitN(p, ":", 2)[0]); err == nil {
			victims = append(victims, pid)
		}
	}
	if len(victims) == 0 {
		return
	}
	if syscall.Kill(victims[rng.IntN(len(victims))], syscall.SIGKILL) == nil {
		k.kills.Add(1)
	}
}

func (k *soak) done(kind string, r result) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.counts[kind]++
	switch {
	case r.code == -1:
		k.killed[kind]++
	case r.code != 0:
		k.failed[kind]++
		if kind == "ps" {
			// Other commands fail for what others did (a name taken, a
			// container gone); ps has no reason to.
			k.psErrors = append(k.psErrors, r.String())
		}
	}
}

// TestSoak runs random operations from 8 workers, with random SIGKILLs of
// sandbox processes; then every container must be listed and removable,
// no monitor or mount may remain, and system check must find the store
// clean.
func TestSoak(t *testing.T) {
	t.Parallel()
	total := envInt(t, "SANDBOX_SOAK_OPS", 100)
	const workers = 8
	k := &soak{s: newStoreCmd(t), procs: map[*os.Process]bool{}, counts: map[string]int{}, failed: map[string]int{}, killed: map[string]int{}}
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprintf("soak%d", i)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for k.ops.Add(1) <= int64(total) {
				name := names[rng.IntN(len(names))]
				switch op := rng.IntN(10); op {
				case 0:
					k.done("run -d", k.cmd("run", "-d", "--name", name, "busybox", "sleep", "1000"))
				case 1:
					k.done("run --rm", k.cmd("run", "--rm", "busybox", "true"))
				case 2:
					k.done("exec", k.cmd("exec", name, "true"))
				case 3:
					k.done("stop", k.cmd("stop", "-t", "0", name))
				case 4:
					k.done("kill", k.cmd("kill", name))
				case 5:
					k.done("rm -f", k.cmd("rm", "-f", name))
				case 6:
					r := k.cmd("create", "--name", name, "busybox", "sleep", "1000")
					if r.code == 0 {
						r = k.cmd("start", name)
					}
					k.done("create+start", r)
				case 7:
					r := k.cmd("ps", "-a")
					k.done("ps", r)
				default:
					k.kill(rng)
					k.done("SIGKILL", result{})
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	// Every container is listed and removable.
	ids := strings.Fields(k.s.ok(t, "ps", "-aq"))
	for _, id := range ids {
		k.s.ok(t, "rm", "-f", id)
	}
	if left := strings.Fields(k.s.ok(t, "ps", "-aq")); len(left) > 0 {
		t.Errorf("containers left after rm -f of all: %v", left)
	}
	if probes, err := filepath.Glob(filepath.Join(k.s.root, "overlay", "volatile-check*")); err != nil || len(probes) > 0 {
		t.Errorf("probe directories left after the soak: %v %v", probes, err)
	}
	// Strict: even a layer of seconds ago that nothing refers to counts.
	r := k.s.sb(t, "system", "check", "--max", "0s")
	problems := 0
	if r.code != 0 {
		// A probe of containers/storage's (overlay/volatile-check*) left
		// by a kill is a problem like any other: the open that records
		// its answer cleans it (storage/probe.go).
		problems = len(strings.Split(strings.TrimSpace(r.stdout), "\n"))
		t.Logf("system check --max 0s after the soak found %d problems:\n%s", problems, r.stdout)
		k.s.sb(t, "system", "check", "--max", "0s", "--repair", "-f")
	}
	assertStoreClean(t, k.s)
	var kinds []string
	for kind := range k.counts {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for _, kind := range kinds {
		fmt.Fprintf(&b, " %s %d (%d failed, %d killed);", kind, k.counts[kind], k.failed[kind], k.killed[kind])
	}
	t.Logf("soak: %d operations from %d workers in %v, %d processes killed, %d containers at the end, %d problems for system check; by kind:%s",
		total, workers, elapsed.Round(time.Millisecond), k.kills.Load(), len(ids), problems, b.String())
	if problems > 0 {
		t.Errorf("system check found %d problems after the soak", problems)
	}
	for _, e := range k.psErrors {
		t.Errorf("ps failed during the soak: %s", e)
	}
}

// TestScale starts 200 idle containers, 4 at a time: all are listed, the
// 137th takes an exec, all stop; the monitors' memory per container is
// logged.
func TestScale(t *testing.T) {
	t.Parallel()
	n := envInt(t, "SANDBOX_SCALE_N", 200)
	s := newStoreCmd(t)
	start := time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	errs := make(chan string, n)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if r := s.sb(t, "run", "-d", "--network", "none", "--name", fmt.Sprintf("scale%d", i), "busybox", "sleep", "100000"); r.code != 0 {
					errs <- r.String()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("run -d: %s", e)
	}
	startAll := time.Since(start)
	var psTimes []time.Duration
	for range 5 {
		t0 := time.Now()
		out := s.ok(t, "ps", "--format", "{{.Names}}")
		psTimes = append(psTimes, time.Since(t0))
		if got := len(strings.Fields(out)); got != n {
			t.Fatalf("ps lists %d running containers, want %d", got, n)
		}
	}
	sort.Slice(psTimes, func(i, j int) bool { return psTimes[i] < psTimes[j] })
	if out := s.ok(t, "exec", "scale137", "hostname"); strings.TrimSpace(out) == "" {
		t.Errorf("exec into the 137th: %q", out)
	}
	var rss int64
	monitors := 0
	for _, p := range storeProcesses(s.runroot()) {
		pid := strings.SplitN(p, ":", 2)[0]
		data, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil || !strings.Contains(p, "sandbox-monitor") {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				rss += kb
				monitors++
			}
		}
	}
	t0 := time.Now()
	s.ok(t, "stop", "-a", "-t", "0")
	stopAll := time.Since(t0)
	if out := s.ok(t, "ps", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("running after stop -a: %q", out)
	}
	if monitors == 0 {
		t.Fatal("no monitor found")
	}
	t.Logf("scale: %d containers started 4 at a time in %v; ps: median %v (min %v, max %v over 5); stop -a: %v; monitor RSS %.2f MiB per container (%d monitors)",
		n, startAll.Round(time.Millisecond), psTimes[2], psTimes[0], psTimes[4], stopAll.Round(time.Millisecond), float64(rss)/1024/float64(monitors), monitors)
	s.ok(t, "rm", "-a", "-f")
}
