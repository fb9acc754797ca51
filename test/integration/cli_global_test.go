// Rootless integration tests (privilege tier: rootless integration) of
// podman's global flags, the events journal, logs of several containers
// and images -a, compared with rootless podman, the reference; and that
// podman's storage.conf is not sandbox's.

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestGlobalFlags(t *testing.T) {
	t.Parallel()
	fails(t, 125, []string{`log level "loud" is not supported`, "debug"}, "--log-level=loud", "ps")
	fails(t, 125, []string{`"syslog" is not a valid events backend`}, "--events-backend", "syslog", "ps")
	for _, lvl := range []string{"debug", "info", "warn", "error", "fatal", "panic"} {
		// The value apart from the flag: the pre-runtime hook must skip it
		// to find the command.
		if r := sb(t, "--log-level", lvl, "ps", "-q"); r.code != 0 {
			t.Errorf("--log-level %s: %s", lvl, r)
		}
	}
	// Debug shows sandbox's notice once, and the storage library's own
	// log lines (logrus's, "time=... level=debug ..."), as podman does.
	r := sb(t, "--log-level=debug", "--runtime", "crun", "--runtime-flag", "debug", "ps", "-q")
	notices, library := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		switch {
		case strings.Contains(l, "change nothing"):
			notices++
		case strings.HasPrefix(l, "time=") && strings.Contains(l, " level="):
			library++
		default:
			t.Errorf("--log-level=debug: a line that is neither the notice nor the library's: %q", l)
		}
	}
	if r.code != 0 || notices != 1 || library == 0 {
		t.Errorf("--runtime with --log-level=debug: want one notice and the storage library's lines\n%s", r)
	}
	if r := sb(t, "--runtime", "runc", "--runtime-flag", "log-format=json", "ps", "-q"); r.code != 0 || r.stderr != "" {
		t.Errorf("--runtime without debug: want silence\n%s", r)
	}
	for _, res := range []result{sb(t, "--noout", "images"), podman(t, "--noout", "images")} {
		if res.code != 0 || res.stdout != "" {
			t.Errorf("--noout: want no output\n%s", res)
		}
	}
	if out := ok(t, "--noout", "run", "--rm", "busybox", "echo", "hidden"); out != "" {
		t.Errorf("--noout run printed %q", out)
	}
	// none records nothing; journald is sandbox's own journal.
	ok(t, "--events-backend=none", "run", "--rm", "--name", "gf-none", "busybox", "true")
	ok(t, "--events-backend=journald", "run", "--rm", "--name", "gf-journald", "busybox", "true")
	if out := ok(t, "events", "--stream=false", "--filter", "container=gf-none"); out != "" {
		t.Errorf("--events-backend=none recorded:\n%s", out)
	}
	// The removal after --rm is done once run has returned.
	eventually(t, 10*time.Second, func() error {
		if out := ok(t, "events", "--stream=false", "--filter", "container=gf-journald", "--filter", "event=remove"); strings.Count(out, "\n") != 1 {
			return fmt.Errorf("--events-backend=journald: want one remove event, got:\n%s", out)
		}
		return nil
	})
	if out := ok(t, "events", "--stream=false", "--filter", "container=gf-none"); out != "" {
		t.Errorf("--events-backend=none recorded (the cleanup of --rm too):\n%s", out)
	}
}

// jsonEvents parses events --format json output.
func jsonEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("events --format json: %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

func statuses(evs []map[string]any, keep map[string]bool) []string {
	var s []string
	for _, e := range evs {
		if st, _ := e["Status"].(string); keep == nil || keep[st] {
			s = append(s, st)
		}
	}
	return s
}

func keysOf(e map[string]any) []string {
	var k []string
	for key := range e {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

func TestEvents(t *testing.T) {
	t.Parallel()
	start := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	ok(t, "run", "-d", "--name", "ev-a", "--label", "tier=front", "busybox", "sleep", "100")
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", "ev-a") })
	ok(t, "stop", "-t", "0", "ev-a")
	ok(t, "rm", "ev-a")
	ok(t, "tag", "busybox", "ev-tag:1")
	ok(t, "rmi", "ev-tag:1")

	out := ok(t, "events", "--stream=false", "--since", start, "--format", "json", "--filter", "container=ev-a")
	// The cleanup after the exit runs beside stop's record of the stop.
	got := statuses(jsonEvents(t, out), map[string]bool{"create": true, "init": true, "start": true, "died": true, "stop": true, "remove": true})
	if want := []string{"create", "init", "start", "died", "stop", "remove"}; !reflect.DeepEqual(got, want) {
		t.Errorf("events of run -d, stop, rm: %q, want %q", got, want)
	}
	if n := len(statuses(jsonEvents(t, out), map[string]bool{"cleanup": true})); n != 1 {
		t.Errorf("events of run -d, stop, rm: %d cleanup, want 1:\n%s", n, out)
	}
	evs := jsonEvents(t, out)
	for _, e := range evs {
		if e["Name"] != "ev-a" || e["Type"] != "container" || e["Image"] != "busybox" {
			t.Errorf("event %v", e)
		}
		if a, _ := e["Attributes"].(map[string]any); a["tier"] != "front" {
			t.Errorf("event without the container's label: %v", e)
		}
		if e["Status"] == "died" && e["ContainerExitCode"] != float64(137) {
			t.Errorf("died after stop -t 0: %v, want ContainerExitCode 137", e)
		}
	}
	img := jsonEvents(t, ok(t, "events", "--stream=false", "--since", start, "--format", "json", "--filter", "type=image", "--filter", "image=ev-tag:1"))
	if got, want := statuses(img, nil), []string{"tag", "untag"}; !reflect.DeepEqual(got, want) {
		t.Errorf("image events of tag, rmi of a second name: %q, want %q", got, want)
	}

	// The fields, event by event, are podman's.
	const code3 = "exit 3"
	if r := sb(t, "run", "--name", "ev-cmp", "busybox", "sh", "-c", code3); r.code != 3 {
		t.Fatalf("want exit 3\n%s", r)
	}
	ok(t, "rm", "ev-cmp")
	podman(t, "run", "--name", "ev-cmp-ref", "busybox", "sh", "-c", code3)
	podman(t, "rm", "ev-cmp-ref")
	ours := jsonEvents(t, ok(t, "events", "--stream=false", "--since", start, "--format", "json", "--filter", "container=ev-cmp"))
	ref := podman(t, "events", "--stream=false", "--since", start, "--format", "json", "--filter", "container=ev-cmp-ref")
	theirs := jsonEvents(t, ref.stdout)
	// podman records a second cleanup at rm: cleanup is compared apart.
	recorded := map[string]bool{"create": true, "init": true, "start": true, "attach": true, "died": true, "remove": true}
	if a, b := statuses(ours, recorded), statuses(theirs, recorded); !reflect.DeepEqual(a, b) || len(a) != 6 {
		t.Errorf("events of run, rm: %q; podman's %q", a, b)
	}
	byStatus := map[string]map[string]any{}
	for _, e := range theirs {
		byStatus[e["Status"].(string)] = e
	}
	for _, e := range ours {
		p := byStatus[e["Status"].(string)]
		if p == nil {
			continue
		}
		if a, b := keysOf(e), keysOf(p); !reflect.DeepEqual(a, b) {
			t.Errorf("%s event fields %q; podman's %q", e["Status"], a, b)
		}
		if e["Status"] == "died" && (e["ContainerExitCode"] != float64(3) || p["ContainerExitCode"] != float64(3)) {
			t.Errorf("died: %v; podman's %v", e, p)
		}
	}

	// Filters, since and until, formats.
	if out := ok(t, "events", "--stream=false", "--since", start, "--filter", "container=ev-cmp", "--filter", "event=died", "--format", "{{.Status}} {{.Name}} {{.ContainerExitCode}}"); out != "died ev-cmp 3\n" {
		t.Errorf("event= filter and template: %q", out)
	}
	if out := ok(t, "events", "--stream=false", "--since", start, "--filter", "container=ev-cmp", "--filter", "status=create", "--filter", "status=remove", "--format", "{{.Status}}"); out != "create\nremove\n" {
		t.Errorf("status= filter, two values: %q", out)
	}
	if out := ok(t, "events", "--stream=false", "--since", start, "--filter", "image=busybox", "--filter", "label=tier=front", "--format", "{{.Name}}"); strings.TrimSpace(strings.ReplaceAll(out, "ev-a\n", "")) != "" || out == "" {
		t.Errorf("image= and label= filters: %q", out)
	}
	if out := ok(t, "events", "--stream=false", "--until", start, "--filter", "container=ev-a"); out != "" {
		t.Errorf("--until before the run: %q", out)
	}
	if out := ok(t, "events", "--until", "0s", "--filter", "container=ev-a", "--format", "{{.Status}}"); strings.Count(out, "\n") != 7 {
		t.Errorf("--until now (no follow): %q", out)
	}
	line := ok(t, "events", "--stream=false", "--since", start, "--filter", "container=ev-cmp", "--filter", "event=create")
	if f := strings.Fields(line); len(f) != 9 || f[4] != "container" || f[5] != "create" || f[7] != "(image=busybox," || f[8] != "name=ev-cmp)" {
		t.Errorf("default format %q: want podman's TIME container create ID (image=..., name=...)", line)
	}
	fails(t, 125, []string{"invalid filter", "colour"}, "events", "--stream=false", "--filter", "colour=red")
	fails(t, 125, []string{"--since"}, "events", "--stream=false", "--since", "yesterday-ish")

	// A stream follows the journal.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "events", "--filter", "container=ev-follow", "--format", "{{.Status}}")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	time.Sleep(300 * time.Millisecond)
	ok(t, "run", "--rm", "--name", "ev-follow", "busybox", "true")
	var seen []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if sc.Text() == "remove" {
			break
		}
	}
	if want := []string{"create", "init", "start", "attach", "died", "cleanup", "remove"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("followed %q, want %q", seen, want)
	}
}

func TestLogsNames(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"ln-a", "ln-b"} {
		script := fmt.Sprintf("echo %s-1; echo %s-2 >&2", n, n)
		ok(t, "run", "--name", n, "busybox", "sh", "-c", script)
		t.Cleanup(func() { sbRaw(nil, "rm", "-f", n) })
		podman(t, "run", "--name", n, "busybox", "sh", "-c", script)
		t.Cleanup(func() { podmanRaw("rm", "-f", n) })
	}
	sorted := func(s string) []string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		sort.Strings(l)
		return l
	}
	for _, args := range [][]string{{"logs", "--names", "ln-a", "ln-b"}, {"logs", "--names", "ln-b"}} {
		ours, theirs := sb(t, args...), podman(t, args...)
		if ours.code != 0 || !reflect.DeepEqual(sorted(ours.stdout), sorted(theirs.stdout)) || !reflect.DeepEqual(sorted(ours.stderr), sorted(theirs.stderr)) {
			t.Errorf("%q: podman's stdout %q stderr %q\n%s", args, theirs.stdout, theirs.stderr, ours)
		}
	}
	// Without --names, lines of several containers carry the short ID.
	ids := map[string]string{}
	for _, n := range []string{"ln-a", "ln-b"} {
		ids[n] = strings.TrimSpace(ok(t, "inspect", "--format", "{{.Id}}", n))[:12]
	}
	if out, want := ok(t, "logs", "ln-a", "ln-b"), ids["ln-a"]+" ln-a-1\n"+ids["ln-b"]+" ln-b-1\n"; out != want {
		t.Errorf("logs of two: %q, want %q", out, want)
	}
	if out := ok(t, "logs", "-t", "--names", "ln-a", "ln-b"); !strings.HasPrefix(out, "ln-a 20") || !strings.HasSuffix(out, " ln-b-1\n") {
		t.Errorf("logs -t --names: %q, want NAME TIME LINE", out)
	}
	fails(t, 125, []string{"ln-nothing"}, "logs", "ln-a", "ln-nothing")
}

func TestImagesAll(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"-a", "--all"} {
		// -a adds the images of build steps, as <none> rows, and nothing
		// else (TestBuildIntermediateImages counts them).
		plain := ok(t, "images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
		all := ok(t, "images", f, "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
		for _, l := range strings.Split(strings.TrimSpace(all), "\n") {
			if !strings.Contains(plain, l+"\n") && !strings.HasSuffix(l, " <none>:<none>") {
				t.Errorf("images %s lists %q, which images does not", f, l)
			}
		}
		for _, l := range strings.Split(strings.TrimSpace(plain), "\n") {
			if !strings.Contains(all, l+"\n") {
				t.Errorf("images %s leaves out %q", f, l)
			}
		}
		if !strings.Contains(all, "busybox:latest") {
			t.Errorf("images %s: %q", f, all)
		}
		if r := podman(t, "images", f, "--format", "{{.Repository}}:{{.Tag}}"); r.code != 0 || !strings.Contains(r.stdout, "busybox:latest") {
			t.Errorf("podman images %s: %s", f, r)
		}
	}
}

// TestPodmanStorageConfNotRead: a storage.conf of podman's (the user's,
// one CONTAINERS_STORAGE_CONF names, or an override file) that does not
// parse does not stop sandbox, which takes none of its settings: ps, a
// run --rm (its cleanup opens the store too) and an exec work, and the
// container is gone after.
func TestPodmanStorageConfNotRead(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers", "storage.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("this is [not toml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]string{"user's": "XDG_CONFIG_HOME=" + dir, "named": "CONTAINERS_STORAGE_CONF=" + conf, "override": "CONTAINERS_STORAGE_CONF_OVERRIDE=" + conf} {
		t.Run(name, func(t *testing.T) {
			o := cmdOpts{env: []string{e}}
			if r := sbWith(t, o, "ps", "-a"); r.code != 0 {
				t.Fatalf("ps: %s", r)
			}
			ctr := "conf-" + strings.ReplaceAll(name, "'", "")
			if r := sbWith(t, o, "run", "--rm", "--network", "none", "--name", ctr, "busybox", "true"); r.code != 0 {
				t.Fatalf("run --rm: %s", r)
			}
			if r := sbWith(t, o, "run", "-d", "--network", "none", "--name", ctr, "busybox", "sleep", "60"); r.code != 0 {
				t.Fatalf("run -d after the run --rm of that name: %s", r)
			}
			defer sb(t, "rm", "-f", ctr)
			if r := sbWith(t, o, "exec", ctr, "echo", "in"); r.code != 0 || strings.TrimSpace(r.stdout) != "in" {
				t.Fatalf("exec: %s", r)
			}
		})
	}
}
