package integration

// Integration tests of cgroup v2 limits, pause, stats and update. Which
// apply depends on the machine, as cgroupv2.Detect (the code sandbox
// itself uses) finds it, and the tiers select them by name (the harness
// asks the test binary with -sandbox.probe=cgroup):
//
//   - TestCgroup*: delegated cgroup v2 (the VM of make test-vm, where
//     SANDBOX_TEST_CGROUP is set): the limits must hold;
//     TestCgroupSystemdScope only in the VM's second pass, with a user
//     systemd running and SANDBOX_TEST_CGROUP_MANAGER=systemd, where every
//     container's cgroup is in a systemd scope made for its monitor;
//   - TestLimitsRefused: anything else (this project's hybrid host):
//     every limit, pause, stats and update is refused with the one-line
//     message that names the controller, why and the fix;
//   - TestLimitsBadInput, TestScopeRollback: anywhere.
//
// A test run where it does not apply skips, or fails in a strict run
// (notHere): there the tier chose the wrong tests.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sandbox/cgroupv2"
	"sandbox/cgroupv2/systemd"
)

// delegated reports whether every controller sandbox uses is delegated
// to this user here.
func delegated(t *testing.T) bool {
	t.Helper()
	d, err := delegatedHere()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func delegatedHere() (bool, error) {
	st, err := cgroupv2.Detect()
	if err != nil {
		return false, fmt.Errorf("detect cgroups: %w", err)
	}
	return len(st.Delegated()) == len(cgroupv2.Controllers), nil
}

// inVM: run by hack/vm, where cgroup v2 must be there.
func inVM() bool { return os.Getenv("SANDBOX_TEST_CGROUP") != "" }

// needLimits skips a test of limits that hold where there are none, and
// fails it in the VM, which exists to have them.
func needLimits(t *testing.T) {
	t.Helper()
	if delegated(t) {
		return
	}
	st, _ := cgroupv2.Detect()
	if inVM() {
		t.Fatalf("the VM gives no delegated cgroup v2 controllers (%+v): the VM tier is broken", st)
	}
	notHere(t, "no delegated cgroup v2 here (TestLimitsRefused checks the refusal; make test-vm runs this)")
}

// cgroupDir is a running container's cgroup directory.
func cgroupDir(t *testing.T, id string) string {
	t.Helper()
	p := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.CgroupPath}}", id))
	if p == "" {
		t.Fatalf("container %.12s has no cgroup", id)
	}
	return path.Join(cgroupv2.Root, p)
}

func readCgroup(t *testing.T, dir, file string) string {
	t.Helper()
	data, err := os.ReadFile(path.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func keyedCgroup(t *testing.T, dir, file string) map[string]uint64 {
	t.Helper()
	m, err := cgroupv2.ParseKeyed([]byte(readCgroup(t, dir, file)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// limitFlags are one limit per controller, each refused without it.
var limitFlags = []struct {
	flags      []string
	controller string
}{
	{[]string{"--memory", "64m"}, "memory"},
	{[]string{"--memory-swap", "-1"}, "memory"},
	{[]string{"--cpus", "0.5"}, "cpu"},
	{[]string{"--cpu-shares", "512"}, "cpu"},
	{[]string{"--cpuset-cpus", "0"}, "cpuset"},
	{[]string{"--pids-limit", "10"}, "pids"},
	{[]string{"--blkio-weight", "500"}, "io"},
}

func TestLimitsBadInput(t *testing.T) {
	t.Parallel()
	cpus := strconv.Itoa(len(mustList(t, "/sys/devices/system/cpu/present")) + 97)
	fails(t, 125, []string{`--cgroup-manager "cgroupv1"`, "auto, systemd or cgroupfs"}, "--cgroup-manager", "cgroupv1", "run", "--rm", "busybox", "true")
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--memory", "10x"}, `"10x"`},
		{[]string{"--cpus", "-1"}, `"-1"`},
		{[]string{"--cpuset-cpus", cpus}, `"` + cpus + `"`},
		{[]string{"--pids-limit", "abc"}, `"abc"`},
		{[]string{"--cpus", "1", "--cpu-quota", "50000"}, "conflict"},
		{[]string{"--device-read-bps", "/dev/null:1m"}, "not a block device"},
	} {
		name := "bad-" + strings.TrimLeft(tt.flags[0], "-")
		args := append(append([]string{"run", "--rm", "--name", name}, tt.flags...), "busybox", "true")
		fails(t, 125, []string{tt.flags[0], tt.want}, args...)
		// Checked before anything is made.
		if r := sb(t, "inspect", name); r.code == 0 {
			t.Errorf("%v left container %s behind", tt.flags, name)
		}
	}
}

func mustList(t *testing.T, file string) []int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cgroupv2.ParseList(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestLimitsRefused(t *testing.T) {
	if delegated(t) {
		notHere(t, "cgroup v2 is delegated here: the limits apply (the TestCgroup tests)")
	}
	t.Parallel()
	for _, l := range limitFlags {
		name := "refused-" + strings.TrimLeft(l.flags[0], "-")
		args := append(append([]string{"run", "--rm", "--name", name}, l.flags...), "busybox", "true")
		fails(t, 125, []string{l.flags[0], "cgroup v2 " + l.controller + " controller", "fix:", "Delegate=cpu cpuset io memory pids"}, args...)
		if r := sb(t, "inspect", name); r.code == 0 {
			t.Errorf("%v left container %s behind", l.flags, name)
		}
	}
	fails(t, 125, []string{"--memory", "memory controller"}, "create", "--memory", "64m", "busybox")
	// A systemd scope would not help: the same refusal, which also says
	// why there is no scope when there is no user bus.
	want := []string{"--memory", "memory controller", "fix:", "--cgroup-manager=systemd"}
	if _, err := os.Stat(path.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus")); err != nil && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		want = append(want, "no user D-Bus")
	}
	fails(t, 125, want, "--cgroup-manager", "systemd", "run", "--rm", "--name", "refused-systemd", "--memory", "64m", "busybox", "true")
	if r := sb(t, "inspect", "refused-systemd"); r.code == 0 {
		t.Errorf("--cgroup-manager=systemd left container refused-systemd behind")
	}
	// Without limits, containers run as always; what needs their cgroup is
	// refused with the reason.
	id := detached(t, "busybox", "sleep", "100")
	for _, args := range [][]string{{"pause", id}, {"unpause", id}, {"stats", "--no-stream", id}, {"stats", "--no-stream"}} {
		fails(t, 125, []string{args[0] + " needs a delegated cgroup v2", "fix:"}, args...)
	}
	fails(t, 125, []string{"--pids-limit", "pids controller"}, "update", "--pids-limit", "10", id)
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.Status}} {{.HostConfig.PidsLimit}}", id)); got != "running <nil>" {
		t.Errorf("after the refused update: %q", got)
	}
	ok(t, "exec", id, "true")
}

func TestCgroupOOMKilled(t *testing.T) {
	needLimits(t)
	t.Parallel()
	name := "oom"
	removeAfter(t, name)
	// No swap either (--memory-swap equal to --memory), whatever the host has.
	r := sb(t, "run", "--name", name, "--memory", "32m", "--memory-swap", "32m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	if r.code != 137 {
		t.Fatalf("want exit 137 (SIGKILL by the OOM killer)\n%s", r)
	}
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", name)); got != "true 137 33554432 33554432" {
		t.Errorf("inspect: %q, want OOMKilled true, exit 137, the limits", got)
	}
	// A container that stays under its limit is not marked.
	other := "no-oom"
	removeAfter(t, other)
	ok(t, "run", "--name", other, "--memory", "32m", "busybox", "true")
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.OOMKilled}}", other)); got != "false" {
		t.Errorf("OOMKilled %s for a container under its limit", got)
	}
}

func TestCgroupPidsLimit(t *testing.T) {
	needLimits(t)
	t.Parallel()
	// A fork bomb: sleeps in the background until fork fails, then pid 1
	// becomes one more sleep (exec, no fork) so the container stays.
	id := detached(t, "--pids-limit", "10", "busybox", "sh", "-c",
		`(while :; do sleep 300 & done) 2>/dev/null; echo stopped; exec sleep 300`)
	dir := cgroupDir(t, id)
	if got := readCgroup(t, dir, "pids.max"); got != "10" {
		t.Errorf("pids.max = %q", got)
	}
	eventually(t, 30*time.Second, func() error {
		if out := ok(t, "logs", id); !strings.Contains(out, "stopped") {
			return fmt.Errorf("the fork bomb has not stopped: logs %q", out)
		}
		return nil
	})
	if n, _ := strconv.Atoi(readCgroup(t, dir, "pids.current")); n > 10 || n < 9 {
		t.Errorf("pids.current = %d, want the limit (10) or just below", n)
	}
	if ev := keyedCgroup(t, dir, "pids.events"); ev["max"] == 0 {
		t.Errorf("pids.events %v: no fork was refused", ev)
	}
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.HostConfig.PidsLimit}}", id)); got != "10" {
		t.Errorf("inspect PidsLimit %q", got)
	}
}

// TestCgroupCPUs runs alone (not in parallel): it measures CPU time.
func TestCgroupCPUs(t *testing.T) {
	needLimits(t)
	id := detached(t, "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done")
	dir := cgroupDir(t, id)
	if got := readCgroup(t, dir, "cpu.max"); got != "50000 100000" {
		t.Errorf("cpu.max = %q, want 50000 100000", got)
	}
	time.Sleep(500 * time.Millisecond) // past the start
	u0, t0 := keyedCgroup(t, dir, "cpu.stat")["usage_usec"], time.Now()
	time.Sleep(3 * time.Second)
	u1, t1 := keyedCgroup(t, dir, "cpu.stat")["usage_usec"], time.Now()
	ratio := float64(u1-u0) / float64(t1.Sub(t0).Microseconds())
	t.Logf("busy loop under --cpus 0.5: %.3f CPUs", ratio)
	// Generous: the VM is emulated (TCG), and others may compete.
	if ratio < 0.25 || ratio > 0.6 {
		t.Errorf("a busy loop used %.3f CPUs under --cpus 0.5", ratio)
	}
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.HostConfig.NanoCpus}}", id)); got != "500000000" {
		t.Errorf("inspect NanoCpus %q", got)
	}
}

func TestCgroupFiles(t *testing.T) {
	needLimits(t)
	t.Parallel()
	args := []string{"--memory", "64m", "--memory-reservation", "32m", "--cpu-shares", "512", "--cpuset-cpus", "0",
		"--pids-limit", "30", "--blkio-weight", "500"}
	loop := "/dev/loop0"
	if _, err := os.Stat(loop); err == nil {
		args = append(args, "--device-read-bps", loop+":1m", "--device-write-bps", loop+":2m")
	} else if inVM() {
		t.Errorf("the VM has no %s (hack/vm/build.sh loads the loop module): io.max goes untested", loop)
	}
	id := detached(t, append(args, "busybox", "sleep", "300")...)
	dir := cgroupDir(t, id)
	for file, want := range map[string]string{
		"memory.max": "67108864", "memory.swap.max": "67108864", "memory.low": "33554432",
		"cpu.weight": "59", "cpuset.cpus": "0", "pids.max": "30", "cpu.max": "max 100000",
	} {
		if got := readCgroup(t, dir, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if got := readCgroup(t, dir, "io.weight"); !strings.Contains(got, "default 4950") {
		t.Errorf("io.weight = %q, want default 4950", got)
	}
	if _, err := os.Stat(loop); err == nil {
		if got := readCgroup(t, dir, "io.max"); !strings.HasPrefix(got, "7:0 rbps=1048576 wbps=2097152") {
			t.Errorf("io.max = %q", got)
		}
	}
	// The container sees itself at the root of its cgroup namespace, bound
	// to its CPU; an exec'd process joins its cgroup.
	if out := ok(t, "exec", id, "cat", "/proc/self/cgroup"); out != "0::/\n" {
		t.Errorf("/proc/self/cgroup in an exec: %q", out)
	}
	if out := ok(t, "exec", id, "grep", "Cpus_allowed_list", "/proc/self/status"); !strings.HasSuffix(strings.TrimSpace(out), "\t0") {
		t.Errorf("exec'd process may use CPUs %q, want 0", out)
	}
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} {{.HostConfig.BlkioWeight}}", id)); got != "512 0 500" {
		t.Errorf("inspect: %q", got)
	}
}

func TestCgroupNoLimits(t *testing.T) {
	needLimits(t)
	t.Parallel()
	// Where cgroup v2 is delegated every container gets a cgroup, without
	// limits, so that pause, stats and update work on it.
	id := detached(t, "busybox", "sleep", "300")
	dir := cgroupDir(t, id)
	for _, f := range []string{"memory.max", "pids.max"} {
		if got := readCgroup(t, dir, f); got != "max" {
			t.Errorf("%s = %q, want max", f, got)
		}
	}
	if out := run(t, "busybox", "cat", "/proc/self/cgroup"); out != "0::/\n" {
		t.Errorf("/proc/self/cgroup = %q", out)
	}
}

func TestCgroupPause(t *testing.T) {
	needLimits(t)
	t.Parallel()
	id := detached(t, "busybox", "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done")
	dir := cgroupDir(t, id)
	lines := func() int { return strings.Count(ok(t, "logs", id), "\n") }
	eventually(t, 10*time.Second, func() error {
		if n := lines(); n < 3 {
			return fmt.Errorf("counter at %d", n)
		}
		return nil
	})
	ok(t, "pause", id)
	if got := keyedCgroup(t, dir, "cgroup.events")["frozen"]; got != 1 {
		t.Errorf("cgroup.events frozen = %d after pause", got)
	}
	if e := stateOf(t, id); e.State != "paused" {
		t.Errorf("ps state %q, want paused", e.State)
	}
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", id)); got != "paused true true" {
		t.Errorf("inspect state %q", got)
	}
	if out := ok(t, "ps", "--format", "{{.Status}}", "--filter", "id="+id); !strings.Contains(out, "(Paused)") {
		t.Errorf("ps status %q", out)
	}
	before := lines()
	time.Sleep(time.Second)
	if after := lines(); after != before {
		t.Errorf("the counter went on while paused: %d lines, then %d", before, after)
	}
	fails(t, 125, []string{"paused", "unpause"}, "exec", id, "true")
	fails(t, 125, []string{"paused already"}, "pause", id)
	ok(t, "unpause", id)
	eventually(t, 10*time.Second, func() error {
		if n := lines(); n <= before {
			return fmt.Errorf("the counter stays at %d after unpause", n)
		}
		return nil
	})
	if e := stateOf(t, id); e.State != "running" {
		t.Errorf("state %q after unpause", e.State)
	}
	fails(t, 125, []string{"not paused"}, "unpause", id)
	// A paused container stops (thawed first), and is removed with rm -f.
	ok(t, "pause", id)
	ok(t, "stop", "-t", "1", id)
	if e := stateOf(t, id); e.State != "exited" {
		t.Errorf("state %q after stopping a paused container", e.State)
	}
	ok(t, "start", id)
	ok(t, "pause", id)
	dir = cgroupDir(t, id)
	ok(t, "rm", "-f", id)
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("cgroup %s of a paused container is still there after rm -f", dir)
	}
}

func TestCgroupStats(t *testing.T) {
	needLimits(t)
	t.Parallel()
	id := detached(t, "--memory", "64m", "busybox", "sh", "-c", "sleep 300 & sleep 300 & wait")
	dir := cgroupDir(t, id)
	eventually(t, 10*time.Second, func() error {
		if n := readCgroup(t, dir, "pids.current"); n != "3" {
			return fmt.Errorf("pids.current %s, want 3", n)
		}
		return nil
	})
	out := ok(t, "stats", "--no-stream", "--format", "{{.ID}}|{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.BlockIO}}|{{.PIDs}}", id)
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) != 7 {
		t.Fatalf("stats printed %q", out)
	}
	if f[0] != id[:12] || f[6] != "3" || f[2] != "0.00%" && !strings.HasSuffix(f[2], "%") {
		t.Errorf("stats %q", out)
	}
	usage, limit, found := strings.Cut(f[3], " / ")
	if !found || limit != "64MiB" {
		t.Errorf("MEM USAGE / LIMIT %q, want a limit of 64MiB", f[3])
	}
	mem := keyedCgroup(t, dir, "memory.stat")
	cur, _ := strconv.ParseUint(readCgroup(t, dir, "memory.current"), 10, 64)
	want := float64(cur - mem["inactive_file"])
	if got := parseBinarySize(t, usage); got < want*0.7-(512<<10) || got > want*1.3+(512<<10) {
		t.Errorf("stats memory %s (%.0f bytes), memory.current less inactive_file is %.0f", usage, got, want)
	}
	var rd, wr uint64
	if devs, err := cgroupv2.ParseIOStat([]byte(readCgroup(t, dir, "io.stat"))); err == nil {
		rd, wr = cgroupv2.IOTotals(devs)
	}
	if rd == 0 && wr == 0 && f[5] != "0B / 0B" {
		t.Errorf("BLOCK I/O %q, io.stat sums to 0", f[5])
	}
	// The table, for every running container, as docker's.
	table := ok(t, "stats", "--no-stream")
	if !strings.HasPrefix(table, "CONTAINER ID") || !strings.Contains(table, "MEM USAGE / LIMIT") || !strings.Contains(table, id[:12]) {
		t.Errorf("stats table:\n%s", table)
	}
}

// parseBinarySize reads "1.445MiB" back into bytes.
func parseBinarySize(t *testing.T, s string) float64 {
	t.Helper()
	for i, u := range []string{"KiB", "MiB", "GiB", "B"} {
		if num, ok := strings.CutSuffix(s, u); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				t.Fatalf("size %q", s)
			}
			return v * float64([]uint64{1 << 10, 1 << 20, 1 << 30, 1}[i])
		}
	}
	t.Fatalf("size %q has no unit", s)
	return 0
}

func TestCgroupUpdate(t *testing.T) {
	needLimits(t)
	t.Parallel()
	id := detached(t, "--memory", "64m", "busybox", "sleep", "300")
	dir := cgroupDir(t, id)
	ok(t, "update", "--memory", "128m", "--pids-limit", "40", "--cpus", "1.5", id)
	for file, want := range map[string]string{"memory.max": "134217728", "memory.swap.max": "134217728", "pids.max": "40", "cpu.max": "150000 100000"} {
		if got := readCgroup(t, dir, file); got != want {
			t.Errorf("%s = %q after update, want %q", file, got, want)
		}
	}
	fails(t, 125, []string{`"10x"`}, "update", "--memory", "10x", id)
	if got := readCgroup(t, dir, "memory.max"); got != "134217728" {
		t.Errorf("a refused update changed memory.max to %s", got)
	}
	// Kept for the next start.
	ok(t, "stop", "-t", "0", id)
	ok(t, "start", id)
	dir = cgroupDir(t, id)
	if got := readCgroup(t, dir, "memory.max") + " " + readCgroup(t, dir, "pids.max"); got != "134217728 40" {
		t.Errorf("after a restart: %q", got)
	}
	ok(t, "update", "--pids-limit", "-1", id)
	if got := readCgroup(t, dir, "pids.max"); got != "max" {
		t.Errorf("pids.max = %q after lifting it", got)
	}
}

func TestCgroupRemoved(t *testing.T) {
	needLimits(t)
	t.Parallel()
	id := detached(t, "--memory", "64m", "busybox", "sleep", "300")
	dir := cgroupDir(t, id)
	ok(t, "rm", "-f", id)
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("cgroup %s is still there after rm -f", dir)
	}
	// A stopped container keeps none, and --rm leaves none.
	id = detached(t, "busybox", "sleep", "300")
	dir = cgroupDir(t, id)
	ok(t, "stop", "-t", "0", id)
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("cgroup %s is still there after stop", dir)
	}
	// The host name is the id's first 12 digits.
	short := strings.TrimSpace(run(t, "--pids-limit", "10", "busybox", "hostname"))
	parent := path.Dir(dir)
	eventually(t, 10*time.Second, func() error {
		entries, err := os.ReadDir(parent)
		if errors.Is(err, fs.ErrNotExist) && os.Getenv("SANDBOX_TEST_CGROUP_MANAGER") == "systemd" {
			// The stopped container's scope went with its parent (and the
			// --rm one had its own: TestCgroupSystemdScope checks it goes).
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), short) {
				return fmt.Errorf("run --rm left %s in %s", e.Name(), parent)
			}
		}
		return nil
	})
}

// scopeRE is the systemd scope a container's cgroup is in with
// --cgroup-manager=systemd: sandbox-ID12-MONITORPID.scope.
var scopeRE = regexp.MustCompile(`^sandbox-([0-9a-f]{12})-[1-9][0-9]*\.scope$`)

// scopeUnits lists the loaded units of the user's systemd named like the
// scopes of container id.
func scopeUnits(t *testing.T, id string) string {
	t.Helper()
	out, err := exec.Command("systemctl", "--user", "list-units", "--all", "--plain", "--no-legend", "sandbox-"+id[:12]+"-*").CombinedOutput()
	if err != nil {
		t.Fatalf("systemctl --user list-units: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestCgroupSystemdScope checks, in the VM's pass with a user systemd,
// that a container's cgroup is in a transient scope of its own, as the
// host sees it, and that the scope goes with the container.
func TestCgroupSystemdScope(t *testing.T) {
	if os.Getenv("SANDBOX_TEST_CGROUP_MANAGER") != "systemd" {
		notHere(t, "runs with SANDBOX_TEST_CGROUP_MANAGER=systemd and a user systemd (the second pass of make test-vm)")
	}
	needLimits(t)
	t.Parallel()
	id := detached(t, "--memory", "64m", "busybox", "sleep", "300")
	dir := cgroupDir(t, id)
	scopeDir := path.Dir(path.Dir(dir))
	m := scopeRE.FindStringSubmatch(path.Base(scopeDir))
	if m == nil || m[1] != id[:12] || path.Base(path.Dir(dir)) != cgroupv2.ParentName {
		t.Fatalf("cgroup %s is not SCOPE/%s/ID in a scope sandbox-%.12s-PID.scope", dir, cgroupv2.ParentName, id)
	}
	if got := readCgroup(t, dir, "memory.max"); got != "67108864" {
		t.Errorf("memory.max %s in the scope, want 67108864", got)
	}
	// The container's first process, seen from outside.
	pid := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.Pid}}", id))
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(data)), "0::"+strings.TrimPrefix(dir, cgroupv2.Root); got != want {
		t.Errorf("/proc/%s/cgroup: %q, want %q", pid, got, want)
	}
	if units := scopeUnits(t, id); !strings.Contains(units, path.Base(scopeDir)+" loaded active running") {
		t.Errorf("systemctl --user list-units: %q, want %s active", units, path.Base(scopeDir))
	}
	// What exec falls back on when the kernel will not let it move its
	// process (from outside the user manager's subtree): systemd attaches
	// a process to the container's cgroup below the scope.
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	sub := strings.TrimPrefix(dir, scopeDir)
	err = systemd.Attach(context.Background(), systemd.AttachOptions{Bus: systemd.BusAddress(os.Getenv), UID: os.Getuid(),
		Unit: path.Base(scopeDir), Subcgroup: sub, PID: sleeper.Process.Pid})
	if err != nil {
		t.Errorf("attach a process to %s%s: %v", path.Base(scopeDir), sub, err)
	} else if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", sleeper.Process.Pid)); err != nil || strings.TrimSpace(string(data)) != "0::"+strings.TrimPrefix(dir, cgroupv2.Root) {
		t.Errorf("attached process's cgroup: %q (%v), want %s", data, err, dir)
	}
	sleeper.Process.Kill()
	sleeper.Wait()
	ok(t, "pause", id)
	ok(t, "unpause", id)
	ok(t, "update", "--memory", "96m", id)
	if got := readCgroup(t, dir, "memory.max"); got != "100663296" {
		t.Errorf("memory.max %s after update, want 100663296", got)
	}
	ok(t, "rm", "-f", id)
	// The leaf first, then the whole scope when the monitor's cleanup ends.
	eventually(t, 10*time.Second, func() error {
		if _, err := os.Stat(scopeDir); err == nil {
			return fmt.Errorf("scope cgroup %s is still there after rm -f", scopeDir)
		}
		if units := scopeUnits(t, id); units != "" {
			return fmt.Errorf("units left after rm -f: %s", units)
		}
		return nil
	})
	// run --rm leaves no scope either. The host name is the id's first 12
	// digits.
	short := strings.TrimSpace(run(t, "busybox", "hostname"))
	eventually(t, 10*time.Second, func() error {
		if units := scopeUnits(t, short); units != "" {
			return fmt.Errorf("units left after run --rm: %s", units)
		}
		return nil
	})
}

// TestScopeRollback checks that a scope that cannot be made (a bus
// address that is there but answers nothing) fails the start with 125,
// naming what failed, and leaves no container behind, with run and with
// start.
func TestScopeRollback(t *testing.T) {
	t.Parallel()
	bad := cmdOpts{env: []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/dev/null"}}
	check := func(r result, what string) {
		t.Helper()
		msg := strings.TrimSpace(r.stderr)
		if r.code != 125 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "systemd scope") || !strings.Contains(msg, "/dev/null") {
			t.Errorf("%s: want exit 125 and one line naming the scope and the bus\n%s", what, r)
		}
	}
	name := "scope-rollback"
	check(sbWith(t, bad, "--cgroup-manager", "systemd", "run", "--rm", "--name", name, "busybox", "true"), "run --rm")
	check(sbWith(t, bad, "--cgroup-manager", "systemd", "run", "-d", "--name", name, "busybox", "true"), "run -d")
	if r := sb(t, "inspect", name); r.code == 0 {
		t.Errorf("a failed scope left container %s behind", name)
	}
	// A created container stays created.
	removeAfter(t, name)
	ok(t, "--cgroup-manager", "cgroupfs", "create", "--name", name, "busybox", "true")
	check(sbWith(t, bad, "--cgroup-manager", "systemd", "start", name), "start")
	if got := strings.TrimSpace(ok(t, "inspect", "--format", "{{.State.Status}}", name)); got != "created" {
		t.Errorf("after the failed start: status %q, want created", got)
	}
}
