package integration

// Rootless integration tests of the seccomp filter, no_new_privs and the
// masked paths: what a container can do by default and with each
// --security-opt, checked with the test helper's system call probe.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deniedByDefault are the probes docker's default profile answers with
// EPERM for a container with the default capabilities.
var deniedByDefault = []string{"unshare-user", "unshare-uts", "keyctl", "add_key", "bpf", "userfaultfd", "perf_event_open", "io_uring_setup"}

// probeArgs run the helper's probe of the names that follow them, after
// printing the filter's state.
func probeArgs() []string {
	return []string{"sh", "-c", `grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; exec /helper probe "$@"`, "sh"}
}

// probeResults maps each probe (and Seccomp, NoNewPrivs) to its result.
func probeResults(t *testing.T, out string) map[string]string {
	t.Helper()
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("probe printed %q", line)
		}
		res[strings.TrimSuffix(f[0], ":")] = f[1]
	}
	return res
}

// runProbe runs the probe of names in a new container with flags.
func runProbe(t *testing.T, flags []string, names ...string) map[string]string {
	t.Helper()
	args := append([]string{"run", "--rm", "-v", helperBin(t) + ":/helper:ro"}, flags...)
	args = append(append(args, "busybox"), probeArgs()...)
	return probeResults(t, ok(t, append(args, names...)...))
}

func TestSeccompDefaultDenies(t *testing.T) {
	t.Parallel()
	names := append(append([]string{}, deniedByDefault...), "mkdir", "nosys")
	check := func(how string, res map[string]string) {
		if res["Seccomp"] != "2" {
			t.Errorf("%s: Seccomp %q, want 2 (a filter)", how, res["Seccomp"])
		}
		for _, n := range deniedByDefault {
			if res[n] != "EPERM" {
				t.Errorf("%s: %s gave %q, want EPERM from the filter", how, n, res[n])
			}
		}
		if res["mkdir"] != "ok" {
			t.Errorf("%s: mkdir gave %q, want ok", how, res["mkdir"])
		}
		if res["nosys"] != "ENOSYS" {
			t.Errorf("%s: a system call the profile does not know gave %q, want ENOSYS", how, res["nosys"])
		}
	}
	check("run", runProbe(t, nil, names...))
	// exec's process is under the same filter.
	id := detached(t, "-v", helperBin(t)+":/helper:ro", "busybox", "sleep", "300")
	waitState(t, id, "running")
	check("exec", probeResults(t, ok(t, append(append([]string{"exec", id}, probeArgs()...), names...)...)))
	// Without the filter the same calls are not all refused: the EPERMs
	// above are the filter's, not the kernel's.
	free := runProbe(t, []string{"--security-opt", "seccomp=unconfined"}, "keyctl", "add_key", "unshare-user")
	if free["keyctl"] != "ok" || free["add_key"] != "ok" || free["unshare-user"] == "EPERM" {
		t.Errorf("unconfined: %v, want keyctl and add_key ok and unshare not EPERM", free)
	}
}

func TestSeccompFollowsCaps(t *testing.T) {
	t.Parallel()
	if res := runProbe(t, nil, "unshare-uts"); res["unshare-uts"] != "EPERM" {
		t.Errorf("default: unshare(CLONE_NEWUTS) gave %q, want EPERM", res["unshare-uts"])
	}
	// CAP_SYS_ADMIN opens unshare, as in docker's profile.
	if res := runProbe(t, []string{"--cap-add", "SYS_ADMIN"}, "unshare-uts", "keyctl"); res["unshare-uts"] != "ok" || res["Seccomp"] != "2" {
		t.Errorf("--cap-add SYS_ADMIN: %v, want unshare(CLONE_NEWUTS) ok under a filter", res)
	}
}

func TestSeccompCustomProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	profile := filepath.Join(dir, "no-mkdir.json")
	data, _ := json.Marshal(map[string]any{
		"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": []map[string]any{
			{"names": []string{"mkdir", "mkdirat"}, "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
		},
	})
	if err := os.WriteFile(profile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res := runProbe(t, []string{"--security-opt", "seccomp=" + profile}, "mkdir", "keyctl")
	if res["Seccomp"] != "2" || res["mkdir"] != "EPERM" || res["keyctl"] != "ok" {
		t.Errorf("custom profile: %v, want mkdir EPERM and keyctl ok under a filter", res)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"defaultAction": SCMP_ACT_ALLOW}`), 0o644)
	// Other tests make and remove containers meanwhile: the refused ones
	// carry a label of their own.
	const mark = "seccomp-refused=yes"
	fails(t, 125, []string{bad, "invalid character"}, "run", "--rm", "--label", mark, "--security-opt", "seccomp="+bad, "busybox", "true")
	missing := filepath.Join(dir, "missing.json")
	fails(t, 125, []string{missing}, "run", "--rm", "--label", mark, "--security-opt", "seccomp="+missing, "busybox", "true")
	fails(t, 125, []string{"bogus", "want seccomp="}, "run", "--rm", "--label", mark, "--security-opt", "bogus", "busybox", "true")
	fails(t, 125, []string{"apparmor"}, "create", "--label", mark, "--security-opt", "apparmor=docker-default", "busybox", "true")
	if left := strings.Fields(ok(t, "ps", "-aq", "--filter", "label="+mark)); len(left) != 0 {
		t.Errorf("a refused security option left containers behind: %v", left)
	}
}

func TestSeccompUnconfined(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]string{{"--security-opt", "seccomp=unconfined"}, {"--privileged"}} {
		if res := runProbe(t, flags, "keyctl"); res["Seccomp"] != "0" || res["keyctl"] != "ok" {
			t.Errorf("%v: %v, want no filter", flags, res)
		}
	}
	// --privileged drops the masks too; unmask=ALL only those.
	for _, c := range []struct {
		flags  []string
		masked bool
	}{
		{nil, true},
		{[]string{"--privileged"}, false},
		{[]string{"--security-opt", "unmask=ALL"}, false},
		{[]string{"--security-opt", "unmask=/proc/keys"}, false},
		{[]string{"--security-opt", "unmask=/proc/timer_list"}, true},
	} {
		out := run(t, append(c.flags, "busybox", "sh", "-c", "grep -c ' /proc/keys ' /proc/self/mountinfo || true")...)
		if masked := strings.TrimSpace(out) != "0"; masked != c.masked {
			t.Errorf("%v: /proc/keys masked %v, want %v", c.flags, masked, c.masked)
		}
	}
	if out := run(t, "--security-opt", "mask=/etc/hostname", "busybox", "cat", "/etc/hostname"); out != "" {
		t.Errorf("mask=/etc/hostname: the file reads %q, want nothing", out)
	}
}

// TestNoNewPrivileges: a setuid-root program in the image raises a user to
// root inside, unless no-new-privileges is set (for run, or for one exec).
func TestNoNewPrivileges(t *testing.T) {
	t.Parallel()
	setuid := "cp /helper /bin/suid-ids && chmod 4755 /bin/suid-ids && exec sleep 300"
	plain := detached(t, "-v", helperBin(t)+":/helper:ro", "busybox", "sh", "-c", setuid)
	nnp := detached(t, "--security-opt", "no-new-privileges", "-v", helperBin(t)+":/helper:ro", "busybox", "sh", "-c", setuid)
	for _, id := range []string{plain, nnp} {
		waitState(t, id, "running")
		eventually(t, 5*time.Second, func() error {
			if r := sb(t, "exec", id, "test", "-u", "/bin/suid-ids"); r.code != 0 {
				return fmt.Errorf("no setuid program yet: %s", r)
			}
			return nil
		})
	}
	for _, c := range []struct {
		id    string
		flags []string
		want  string
		nnp   string
	}{
		{plain, nil, "uid=65534 euid=0", "0"},
		{nnp, nil, "uid=65534 euid=65534", "1"},
		{plain, []string{"--security-opt", "no-new-privileges"}, "uid=65534 euid=65534", "1"},
	} {
		args := append(append([]string{"exec", "-u", "nobody"}, c.flags...), c.id, "sh", "-c", "/bin/suid-ids ids; grep NoNewPrivs /proc/self/status")
		out := ok(t, args...)
		if !strings.Contains(out, c.want) || !strings.Contains(out, "NoNewPrivs:\t"+c.nnp) {
			t.Errorf("%v: %q, want %q and NoNewPrivs %s", args, out, c.want, c.nnp)
		}
	}
	if out := run(t, "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status"); !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("run --security-opt no-new-privileges: %q", out)
	}
	fails(t, 125, []string{"no-new-privileges only"}, "exec", "--security-opt", "seccomp=unconfined", plain, "true")
}

// TestSecurityInspect: inspect and info show the filter, the options as
// given and what they left masked.
func TestSecurityInspect(t *testing.T) {
	t.Parallel()
	def := strings.TrimSpace(ok(t, "create", "busybox", "true"))
	open := strings.TrimSpace(ok(t, "create", "--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges", "--security-opt", "unmask=ALL", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", def, open) })
	format := "{{.Seccomp.Profile}} {{.Seccomp.Digest}} {{json .HostConfig.SecurityOpt}} {{len .HostConfig.MaskedPaths}}"
	info := strings.Fields(ok(t, "info", "--format", "{{.Host.Security.SECCOMPEnabled}} {{.Host.Security.SeccompProfileDigest}}"))
	if len(info) != 2 || info[0] != "true" || !strings.HasPrefix(info[1], "sha256:") {
		t.Fatalf("info shows the filter as %q", info)
	}
	if got := strings.TrimSpace(ok(t, "inspect", "--format", format, def)); got != "default "+info[1]+" null 12" {
		t.Errorf("inspect of a default container: %q, want the default profile with info's digest and 12 masked paths", got)
	}
	if got := strings.TrimSpace(ok(t, "inspect", "--format", format, open)); got != `unconfined  ["seccomp=unconfined","no-new-privileges","unmask=ALL"] 0` {
		t.Errorf("inspect of an unconfined container: %q", got)
	}
}
