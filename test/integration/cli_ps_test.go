// Rootless integration tests of ps's flags, filters and --format
// templates, compared with rootless podman (the reference) where the
// two should print the same.

package integration

import (
	"encoding/json"
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// newPodman is the reference with the busybox image, its store removed
// when the test ends.
func newPodman(t *testing.T) *reference {
	t.Helper()
	p := newReference(t)
	p.withBusybox(t)
	return p
}

// psFixture makes, in sandbox and in podman, PREFIX-run (running, label
// tier=web, a bind mount of dir on /data), PREFIX-exit (exited 3 after
// writing three bytes) and PREFIX-new (created, --network none), in that
// order.
func psFixture(t *testing.T, p *reference, prefix, dir string) {
	t.Helper()
	runArgs := []string{"run", "-d", "--name", prefix + "-run", "--label", "tier=web", "-v", dir + ":/data", "busybox", "sleep", "60"}
	exitArgs := []string{"run", "--name", prefix + "-exit", "busybox", "sh", "-c", "echo hi > /f; exit 3"}
	newArgs := []string{"create", "--name", prefix + "-new", "--network", "none", "busybox", "true"}
	for _, n := range []string{"-run", "-exit", "-new"} {
		removeAfter(t, prefix+n)
	}
	ok(t, runArgs...)
	p.ok(t, runArgs...)
	if r := sb(t, exitArgs...); r.code != 3 {
		t.Fatalf("want exit 3\n%s", r)
	}
	var ee *exec.ExitError
	if err := p.cmd(exitArgs...).Run(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("podman %q: %v, want exit 3", exitArgs, err)
	}
	ok(t, newArgs...)
	p.ok(t, newArgs...)
}

// psOut runs sandbox ps with args, which must succeed.
func psOut(t *testing.T, args ...string) string {
	t.Helper()
	return ok(t, append([]string{"ps"}, args...)...)
}

// both runs ps with args in sandbox and podman and returns their outputs.
func both(t *testing.T, p *reference, args ...string) (string, string) {
	t.Helper()
	return ok(t, append([]string{"ps"}, args...)...), p.ok(t, append([]string{"ps"}, args...)...)
}

func TestPsFlags(t *testing.T) {
	t.Parallel()
	p := newPodman(t)
	psFixture(t, p, "psx", t.TempDir())
	mine := []string{"-a", "--filter", "name=^psx-"}

	// Sorted by each key whose order the fixture decides, the same order.
	for _, key := range []string{"names", "created", "command", "status"} {
		sbOut, pmOut := both(t, p, append(mine, "--sort", key, "--format", "{{.Names}}")...)
		if sbOut != pmOut {
			t.Errorf("ps --sort %s: %q, podman %q", key, sbOut, pmOut)
		}
	}
	if got := psOut(t, append(mine, "--sort", "names", "--format", "{{.Names}}")...); got != "psx-exit\npsx-new\npsx-run\n" {
		t.Errorf("ps --sort names: %q", got)
	}
	fails(t, 125, []string{"--sort", "bogus", "names"}, "ps", "--sort", "bogus")

	// --noheading: the table without its header row.
	sbOut, pmOut := both(t, p, append(mine, "--noheading")...)
	for tool, out := range map[string]string{"sandbox": sbOut, "podman": pmOut} {
		if strings.Contains(out, "CONTAINER ID") || strings.Count(out, "\n") != 3 {
			t.Errorf("%s ps --noheading: want three rows and no header:\n%s", tool, out)
		}
	}

	// --size: a SIZE column last, "NB (virtual N.NNMB)".
	size := regexp.MustCompile(`^\d+B \(virtual [0-9.]+[kM]B\)$`)
	sbOut, pmOut = both(t, p, append(mine, "--size")...)
	for tool, out := range map[string]string{"sandbox": sbOut, "podman": pmOut} {
		header, _, _ := strings.Cut(out, "\n")
		if !strings.HasSuffix(strings.TrimSpace(header), "SIZE") {
			t.Errorf("%s ps --size: the header does not end with SIZE: %q", tool, header)
		}
	}
	sbOut, pmOut = both(t, p, append(mine, "--size", "--sort", "names", "--format", "{{.Size}}")...)
	for tool, out := range map[string]string{"sandbox": sbOut, "podman": pmOut} {
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if !size.MatchString(line) {
				t.Errorf("%s ps --size --format {{.Size}}: %q", tool, line)
			}
		}
	}
	// The exited container wrote "hi\n"; a template with .Size measures
	// it without --size, as docker's does.
	if got := ok(t, "ps", "-a", "--filter", "name=^psx-exit$", "--format", "{{.Size}}"); !strings.HasPrefix(got, "3B (virtual ") {
		t.Errorf("ps --format {{.Size}} of a container that wrote 3 bytes: %q", got)
	}
	// --external: accepted, nothing more listed.
	sbOut, pmOut = both(t, p, append(mine, "--external", "--sort", "names", "--format", "{{.Names}}")...)
	if sbOut != pmOut {
		t.Errorf("ps --external: %q, podman %q", sbOut, pmOut)
	}
}

func TestPsFilterKeys(t *testing.T) {
	t.Parallel()
	p := newPodman(t)
	dir := t.TempDir()
	psFixture(t, p, "psk", dir)
	mine := []string{"-a", "--filter", "name=^psk-", "--sort", "names", "--format", "{{.Names}}"}
	// The same in both.
	for _, c := range []struct{ filter, want string }{
		{"exited=3", "psk-exit"},
		{"exited=0", ""},
		{"before=psk-exit", "psk-run"},
		{"since=psk-exit", "psk-new"},
		{"since=psk-run", "psk-exit\npsk-new"},
		{"volume=" + dir, "psk-run"},
		{"volume=/nowhere", ""},
	} {
		sbOut, pmOut := both(t, p, append(mine, "--filter", c.filter)...)
		if strings.TrimSpace(sbOut) != c.want || sbOut != pmOut {
			t.Errorf("ps --filter %s: %q, podman %q, want %q", c.filter, sbOut, pmOut, c.want)
		}
	}
	// Where sandbox differs on purpose: volume= also matches a
	// destination, network= the --network mode (podman's names networks),
	// health=none every container (docker's; podman's matches none).
	for _, c := range []struct{ filter, want string }{
		{"volume=/data", "psk-run"},
		{"network=none", "psk-new"},
		{"network=slirp4netns", "psk-exit\npsk-run"},
		{"health=none", "psk-exit\npsk-new\npsk-run"},
		{"health=healthy", ""},
	} {
		if got := strings.TrimSpace(psOut(t, append(mine, "--filter", c.filter)...)); got != c.want {
			t.Errorf("ps --filter %s: %q, want %q", c.filter, got, c.want)
		}
	}
	// Without -a, only running containers, as podman.
	sbOut, pmOut := both(t, p, "--filter", "name=^psk-", "--filter", "exited=3", "--format", "{{.Names}}")
	if sbOut != "" || pmOut != "" {
		t.Errorf("ps --filter exited=3 without -a: %q, podman %q", sbOut, pmOut)
	}
	for _, c := range []struct{ filter, want string }{
		{"exited=x", "exited=x"}, {"since=psk-nosuch", "since=psk-nosuch"}, {"health=bogus", "health=bogus"}, {"bogus=1", "volume"},
	} {
		fails(t, 125, []string{"invalid filter", c.want}, "ps", "--filter", c.filter)
		if err := p.cmd("ps", "--filter", c.filter).Run(); err == nil && c.filter != "health=bogus" {
			t.Errorf("podman ps --filter %s succeeds", c.filter)
		}
	}
}

func TestFormatTemplates(t *testing.T) {
	t.Parallel()
	p := newPodman(t)
	psFixture(t, p, "pst", t.TempDir())
	one := []string{"-a", "--filter", "name=^pst-run$"}

	// Fields both name alike print alike.
	for _, f := range []string{"{{.Names}}", "{{json .Names}}", "{{.Labels.tier}}", "{{json .Labels}}", "{{.ExitCode}} {{.Exited}}",
		"{{len .ID}}"} {
		sbOut, pmOut := both(t, p, append(one, "--format", f)...)
		if sbOut != pmOut {
			t.Errorf("ps --format %s: %q, podman %q", f, sbOut, pmOut)
		}
	}
	id := strings.TrimSpace(psOut(t, append(one, "--format", "{{.Id}}")...))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) || psOut(t, append(one, "--format", "{{.ID}}")...) != id[:12]+"\n" {
		t.Errorf("ps {{.Id}} %q and {{.ID}} disagree", id)
	}
	// A label a container lacks prints "" (podman: "<no value>").
	if got := ok(t, "ps", "-a", "--filter", "name=^pst-new$", "--format", "[{{.Labels.tier}}]"); got != "[]\n" {
		t.Errorf("ps {{.Labels.tier}} of a container without it: %q", got)
	}
	// Docker's over podman's where they differ: Labels prints k=v, State is the state.
	if got := psOut(t, append(one, "--format", "{{.Labels}} {{.State}} {{.Command}}")...); got != "tier=web running \"sleep 60\"\n" {
		t.Errorf("ps {{.Labels}} {{.State}} {{.Command}}: %q", got)
	}

	// table TEMPLATE: a header row, the same as podman's.
	sbOut, pmOut := both(t, p, append(one, "--format", `table {{.ID}}\t{{.Names}}\t{{.ExitCode}}`)...)
	sbHead, _, _ := strings.Cut(sbOut, "\n")
	pmHead, _, _ := strings.Cut(pmOut, "\n")
	if strings.Join(strings.Fields(sbHead), " ") != "CONTAINER ID NAMES EXIT CODE" || strings.Join(strings.Fields(sbHead), " ") != strings.Join(strings.Fields(pmHead), " ") {
		t.Errorf("ps --format table: header %q, podman's %q", sbHead, pmHead)
	}
	if strings.Count(sbOut, "\n") != 2 || !strings.Contains(sbOut, id[:12]) {
		t.Errorf("ps --format table: %q", sbOut)
	}
	if out := psOut(t, append(one, "--format", `table {{.Names}}`, "--noheading")...); out != "pst-run\n" {
		t.Errorf("ps --format table --noheading: %q", out)
	}

	// {{json .}}: one object a container, docker's fields (podman prints
	// the whole list instead).
	var row map[string]string
	if err := json.Unmarshal([]byte(psOut(t, append(one, "--format", "{{json .}}")...)), &row); err != nil {
		t.Fatalf("ps --format '{{json .}}': %v", err)
	}
	if row["ID"] != id[:12] || row["Names"] != "pst-run" || row["Labels"] != "tier=web" || row["State"] != "running" {
		t.Errorf("ps {{json .}}: %v", row)
	}
	// --format json: podman's list of objects.
	var list []map[string]any
	if err := json.Unmarshal([]byte(psOut(t, append(one, "--format", "json")...)), &list); err != nil || len(list) != 1 || list[0]["Id"] != id {
		t.Errorf("ps --format json: %v %v", list, err)
	}
	// images and inspect: docker's and podman's id fields.
	// With --no-trunc, images prints the algorithm too, as podman does.
	img := strings.TrimSpace(ok(t, "images", "--no-trunc", "--format", "{{.ID}}", "busybox"))
	if got := ok(t, "image", "inspect", "--format", "{{.Id}}", "busybox"); got != img+"\n" {
		t.Errorf("image inspect {{.Id}} %q, images {{.ID}} %q", got, img)
	}
	if got := ok(t, "images", "--format", `table {{.Repository}}\t{{.Tag}}`, "busybox"); !strings.HasPrefix(got, "REPOSITORY") {
		t.Errorf("images --format table: %q", got)
	}
}
