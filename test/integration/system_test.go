package integration

// Rootless integration tests of check and info: every requirement listed
// with a state and a fix, a missing requirement failing check with its
// fix, check working beside a broken keeper without joining a live one,
// and info's fields and container counts. Run in the cgroup v2 VM
// (SANDBOX_TEST_CGROUP set), they also require the delegated controllers.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkItems are the requirements check must list, in its order.
var checkItems = []string{
	"subuid", "subgid", "newuidmap", "newgidmap", "userns", "xdg-runtime-dir", "overlay",
	"/dev/fuse", "/dev/net/tun", "slirp4netns", "pasta",
	"cgroup-v2", "cgroup-cpu", "cgroup-cpuset", "cgroup-io", "cgroup-memory", "cgroup-pids",
	"linger", "ping-group-range", "unprivileged-ports",
}

type checkItem struct {
	Name, State, Detail, Fix string
}

type checkReport struct {
	User         string
	UID          int
	InsideKeeper bool
	Items        []checkItem
}

// checkJSON runs check --format json with extra environment and returns
// the report and the exit code.
func checkJSON(t *testing.T, extraEnv []string) (checkReport, result) {
	t.Helper()
	r := sbWith(t, cmdOpts{env: extraEnv}, "check", "--format", "json")
	var rep checkReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --format json: %v\n%s", err, r)
	}
	return rep, r
}

func itemsByName(rep checkReport) map[string]checkItem {
	m := map[string]checkItem{}
	for _, it := range rep.Items {
		m[it.Name] = it
	}
	return m
}

func TestCheck(t *testing.T) {
	t.Parallel()
	rep, r := checkJSON(t, nil)
	if r.code != 0 {
		t.Errorf("check exits %d on the test host, want 0:\n%s", r.code, r)
	}
	if rep.UID != os.Getuid() || rep.InsideKeeper {
		t.Errorf("report for uid %d (inside the keeper: %v), want uid %d outside", rep.UID, rep.InsideKeeper, os.Getuid())
	}
	var names []string
	for _, it := range rep.Items {
		names = append(names, it.Name)
		if it.State != "ok" && it.State != "warning" && it.State != "missing" {
			t.Errorf("item %s: state %q", it.Name, it.State)
		}
		if it.Detail == "" || it.Fix == "" {
			t.Errorf("item %s lacks a detail or a fix: %+v", it.Name, it)
		}
		if it.State == "missing" {
			t.Errorf("required item missing on the test host: %+v", it)
		}
	}
	if strings.Join(names, " ") != strings.Join(checkItems, " ") {
		t.Errorf("check lists %q\nwant %q", names, checkItems)
	}
	items := itemsByName(rep)
	// The harness requires these of the test host.
	for _, name := range []string{"subuid", "subgid", "newuidmap", "newgidmap", "userns", "xdg-runtime-dir"} {
		if items[name].State != "ok" {
			t.Errorf("%s is not ok on the test host: %+v", name, items[name])
		}
	}
	// check runs outside the keeper: it sees root's setuid bit as such.
	if d := items["newuidmap"].Detail; !strings.Contains(d, "setuid root") && !strings.Contains(d, "file capability") {
		t.Errorf("newuidmap: %q, want the host's view of its privilege", d)
	}
	if cg := os.Getenv("SANDBOX_TEST_CGROUP"); cg != "" {
		// The VM delegates a cgroup v2 subtree with every controller.
		if it := items["cgroup-v2"]; it.State != "ok" || !strings.Contains(it.Detail, cg) {
			t.Errorf("cgroup-v2 in the VM: %+v, want ok naming %s", it, cg)
		}
		for _, c := range []string{"cpu", "cpuset", "io", "memory", "pids"} {
			if it := items["cgroup-"+c]; it.State != "ok" {
				t.Errorf("controller %s not delegated in the VM: %+v", c, it)
			}
		}
	}

	// The table names every item and its state.
	out := ok(t, "check")
	for _, it := range rep.Items {
		if !strings.Contains(out, it.Name) {
			t.Errorf("table lacks %s:\n%s", it.Name, out)
		}
	}
	if !strings.HasPrefix(out, "STATE") || !strings.Contains(out, "ready for rootless containers") {
		t.Errorf("table:\n%s", out)
	}
	// A template per item.
	if out := ok(t, "check", "--format", "{{.Name}}={{.State}}"); !strings.HasPrefix(out, "subuid="+items["subuid"].State+"\n") {
		t.Errorf("check --format template printed %q", out)
	}
	fails(t, 125, []string{"--format"}, "check", "--format", "{{.Nope")
}

// TestCheckGlobalFlags: check stays outside a live keeper whatever global
// flags with a value come before it, as --flag VALUE and as --flag=VALUE:
// the pre-runtime hook must not take a flag's value for the command. It
// would then join the keeper, say so, and see newuidmap's owner hidden.
func TestCheckGlobalFlags(t *testing.T) {
	t.Parallel()
	rt := freshRuntime(t)
	store := emptyStore(t)
	if r := sbWith(t, cmdOpts{env: rt}, append(store, "images")...); r.code != 0 {
		t.Fatalf("start a keeper: %s", r)
	}
	plain, _ := checkJSON(t, rt)
	want := itemsByName(plain)["newuidmap"]
	if plain.InsideKeeper || want.Detail == "" {
		t.Fatalf("plain check beside a live keeper: inside %v, newuidmap %+v", plain.InsideKeeper, want)
	}
	// A value for each global flag that takes one; sandbox --help lists them.
	values := map[string]string{"--root": store[1], "--runroot": store[3], "--storage-driver": "vfs", "--cgroup-manager": "cgroupfs",
		"--log-level": "info", "--events-backend": "file", "--runtime": "crun", "--runtime-flag": "debug"}
	help := sbWith(t, cmdOpts{env: rt}, "--help")
	var flags []string
	for _, line := range strings.Split(help.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasPrefix(f[0], "--") && (f[1] == "string" || f[1] == "stringArray") {
			flags = append(flags, f[0])
		}
	}
	if len(flags) < len(values) {
		t.Fatalf("sandbox --help lists global flags %q, want at least %d:\n%s", flags, len(values), help)
	}
	for _, flag := range flags {
		v, known := values[flag]
		if !known {
			t.Errorf("global flag %s takes a value: give it one in this test", flag)
			continue
		}
		for _, args := range [][]string{{flag, v}, {flag + "=" + v}} {
			r := sbWith(t, cmdOpts{env: rt}, append(args, "check")...)
			if strings.Contains(r.stdout+r.stderr, "running inside the keeper's user namespace") {
				t.Errorf("sandbox %s check ran inside the keeper:\n%s", strings.Join(args, " "), r)
			}
			r = sbWith(t, cmdOpts{env: rt}, append(args, "check", "--format", "json")...)
			var rep checkReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Errorf("sandbox %s check --format json: %v\n%s", strings.Join(args, " "), err, r)
				continue
			}
			if got := itemsByName(rep)["newuidmap"]; rep.InsideKeeper || got != want {
				t.Errorf("sandbox %s check: inside the keeper %v, newuidmap %+v; want outside, %+v", strings.Join(args, " "), rep.InsideKeeper, got, want)
			}
		}
	}
}

// TestCheckMissing: with a PATH lacking newuidmap and newgidmap, check
// exits 1 and names them with the package that fixes them.
func TestCheckMissing(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	rep, r := checkJSON(t, []string{"PATH=" + bin})
	if r.code != 1 {
		t.Fatalf("want exit 1:\n%s", r)
	}
	items := itemsByName(rep)
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		it := items[tool]
		if it.State != "missing" || !strings.Contains(it.Detail, "not found") || it.Fix != "sudo apt-get install uidmap" {
			t.Errorf("%s: %+v, want missing with the apt-get fix", tool, it)
		}
	}
	// Only warnings besides: slirp4netns and pasta are not found either.
	for _, it := range rep.Items {
		if it.State == "missing" && it.Name != "newuidmap" && it.Name != "newgidmap" {
			t.Errorf("unexpected missing item %+v", it)
		}
	}
	if items["slirp4netns"].State != "warning" || items["slirp4netns"].Fix != "sudo apt-get install slirp4netns" ||
		items["pasta"].Fix != "sudo apt-get install passt" {
		t.Errorf("network programs: %+v %+v", items["slirp4netns"], items["pasta"])
	}
	// The table shows the fix under the item and says what is at stake.
	r = sbWith(t, cmdOpts{env: []string{"PATH=" + bin}}, "check")
	if r.code != 1 || !strings.Contains(r.stdout, "missing  newuidmap") ||
		!strings.Contains(r.stdout, "fix: sudo apt-get install uidmap") ||
		!strings.Contains(r.stdout, "2 required items missing") {
		t.Errorf("check table without newuidmap:\n%s", r)
	}
}

// TestCheckBrokenKeeper: check works whatever the keeper's state, starts
// none, and does not join a live one.
func TestCheckBrokenKeeper(t *testing.T) {
	t.Parallel()
	rt := freshRuntime(t)
	dir := strings.TrimPrefix(rt[0], "XDG_RUNTIME_DIR=")
	if err := os.MkdirAll(filepath.Join(dir, "sandbox"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"garbage\n", "1 12345\n"} { // unparsable; pid 1, not a keeper
		pidFile := filepath.Join(dir, "sandbox", "keeper.pid")
		if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		rep, r := checkJSON(t, rt)
		if r.code != 0 || len(rep.Items) != len(checkItems) {
			t.Errorf("check beside keeper.pid %q: %s", content, r)
		}
		if data, err := os.ReadFile(pidFile); err != nil || string(data) != content {
			t.Errorf("check changed keeper.pid from %q to %q (%v)", content, data, err)
		}
	}
	// A live keeper (made by another command) is not joined.
	if err := os.Remove(filepath.Join(dir, "sandbox", "keeper.pid")); err != nil {
		t.Fatal(err)
	}
	store := emptyStore(t)
	if r := sbWith(t, cmdOpts{env: rt}, append(store, "images")...); r.code != 0 {
		t.Fatalf("start a keeper: %s", r)
	}
	if keeperPid(t, dir) <= 0 {
		t.Fatal("no keeper started")
	}
	rep, r := checkJSON(t, rt)
	if r.code != 0 || rep.InsideKeeper || rep.UID != os.Getuid() {
		t.Errorf("check beside a live keeper: inside %v, uid %d\n%s", rep.InsideKeeper, rep.UID, r)
	}
	// Started inside the keeper, check says so and still knows the user.
	r = sbWith(t, cmdOpts{env: rt}, append(store, "unshare", env.bin, "check", "--format", "json")...)
	var inside checkReport
	if err := json.Unmarshal([]byte(r.stdout), &inside); err != nil || !inside.InsideKeeper || inside.UID != os.Getuid() {
		t.Errorf("check inside the keeper: %+v (%v)\n%s", inside, err, r)
	}
}

type infoReport struct {
	Host struct {
		Arch               string
		CgroupManager      string
		CgroupVersion      string
		CgroupControllers  []string
		CgroupDelegateRoot string
		CPUs               int
		Distribution       struct{ Distribution, PrettyName string }
		IDMappings         struct {
			UIDMap, GIDMap []struct {
				ContainerID int `json:"container_id"`
				HostID      int `json:"host_id"`
				Size        int
			}
		}
		Kernel   string
		MemTotal int64
		Security struct {
			Capabilities   string
			Rootless       bool
			SeccompEnabled bool
		}
		Slirp4netns struct{ Executable, Version string }
		Pasta       struct{ Executable, Version string }
	}
	Store struct {
		ContainerStore  struct{ Number, Paused, Running, Stopped int }
		GraphDriverName string
		GraphRoot       string
		GraphStatus     map[string]string
		ImageStore      struct{ Number int }
		RunRoot         string
	}
	Registries struct{ Search []string }
	Version    struct{ Version, GoVersion string }
}

// ownStore gives a test a store of its own, with the busybox image, so
// that parallel tests do not change its counts. It returns the global
// flags that select it (given after the harness's, they win).
func ownStore(t *testing.T) []string {
	t.Helper()
	args := emptyStore(t)
	ok(t, append(args, "import", env.tarball, "busybox")...)
	return args
}

// emptyStore is the global flags of a store of the test's own, removed
// with its containers when the test ends.
func emptyStore(t *testing.T) []string {
	t.Helper()
	root, err := os.MkdirTemp(filepath.Dir(env.root), "own-root-")
	if err != nil {
		t.Fatal(err)
	}
	runroot, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "own-run-")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--root", root, "--runroot", runroot}
	t.Cleanup(func() {
		if r := sbRaw(nil, append(args, "ps", "-aq", "--no-trunc")...); r.code == 0 {
			for _, id := range strings.Fields(r.stdout) {
				if rr := sbRaw(nil, append(args, "rm", "-f", id)...); rr.code != 0 {
					t.Errorf("cleanup: %s", rr)
				}
			}
		}
		// containers/storage binds root/overlay onto itself in the keeper.
		rm := `umount "$1/overlay" 2>/dev/null; rm -rf "$1"`
		if r := sbRaw(nil, append(args, "unshare", "sh", "-c", rm, "sh", root)...); r.code != 0 {
			t.Errorf("cleanup: %s", r)
		}
		os.RemoveAll(runroot)
	})
	return args
}

func infoJSON(t *testing.T, store []string) infoReport {
	t.Helper()
	var info infoReport
	out := ok(t, append(store, "info", "--format", "json")...)
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("info --format json: %v\n%s", err, out)
	}
	return info
}

func TestInfo(t *testing.T) {
	t.Parallel()
	store := ownStore(t)
	info := infoJSON(t, store)
	h, s := info.Host, info.Store
	switch h.CgroupVersion {
	case "v1", "hybrid", "v2":
	default:
		t.Errorf("cgroupVersion %q", h.CgroupVersion)
	}
	if h.CgroupManager != "cgroupfs" && h.CgroupManager != "systemd" {
		t.Errorf("cgroupManager %q", h.CgroupManager)
	}
	if os.Getenv("SANDBOX_TEST_CGROUP") != "" &&
		(h.CgroupVersion != "v2" || h.CgroupDelegateRoot != os.Getenv("SANDBOX_TEST_CGROUP") ||
			strings.Join(h.CgroupControllers, " ") != "cpu cpuset io memory pids") {
		t.Errorf("cgroups in the VM: %s %s %q", h.CgroupVersion, h.CgroupDelegateRoot, h.CgroupControllers)
	}
	if h.Arch == "" || h.Kernel == "" || h.CPUs < 1 || h.MemTotal <= 0 || h.Distribution.PrettyName == "" {
		t.Errorf("host: %+v", h)
	}
	if !h.Security.Rootless || !h.Security.SeccompEnabled || !strings.Contains(h.Security.Capabilities, "CAP_CHOWN") {
		t.Errorf("security: %+v", h.Security)
	}
	if len(h.IDMappings.UIDMap) == 0 || h.IDMappings.UIDMap[0].ContainerID != 0 || h.IDMappings.UIDMap[0].HostID != os.Getuid() ||
		len(h.IDMappings.GIDMap) == 0 || h.IDMappings.GIDMap[0].HostID != os.Getgid() {
		t.Errorf("id mappings: %+v", h.IDMappings)
	}
	if h.Slirp4netns.Executable == "" || !strings.Contains(h.Slirp4netns.Version, "slirp4netns") {
		t.Errorf("slirp4netns: %+v", h.Slirp4netns)
	}
	if s.GraphRoot != store[1] || s.RunRoot != store[3] {
		t.Errorf("graph root %s, run root %s; want %s, %s", s.GraphRoot, s.RunRoot, store[1], store[3])
	}
	switch s.GraphDriverName {
	case "overlay":
		if s.GraphStatus["Backing Filesystem"] == "" || s.GraphStatus["Supports d_type"] != "true" {
			t.Errorf("overlay status %q", s.GraphStatus)
		}
	case "fuse-overlayfs", "vfs":
	default:
		t.Errorf("graphDriverName %q", s.GraphDriverName)
	}
	if s.ImageStore.Number != 1 || s.ContainerStore != (struct{ Number, Paused, Running, Stopped int }{}) {
		t.Errorf("a store with one image and no container: images %d, containers %+v", s.ImageStore.Number, s.ContainerStore)
	}
	if strings.Join(info.Registries.Search, " ") != "docker.io" || info.Version.Version == "" || info.Version.GoVersion == "" {
		t.Errorf("registries %q, version %+v", info.Registries.Search, info.Version)
	}

	// The counts follow the containers.
	created := strings.TrimSpace(ok(t, append(store, "create", "busybox", "true")...))
	running := strings.TrimSpace(ok(t, append(store, "run", "-d", "busybox", "sleep", "60")...))
	want := struct{ Number, Paused, Running, Stopped int }{Number: 2, Running: 1, Stopped: 1}
	if got := infoJSON(t, store).Store.ContainerStore; got != want {
		t.Errorf("after create and run -d: %+v, want %+v", got, want)
	}
	ok(t, append(store, "rm", "-f", created, running)...)
	if got := infoJSON(t, store).Store.ContainerStore; got.Number != 0 {
		t.Errorf("after rm: %+v", got)
	}

	// Templates with podman's field names, and the YAML-like default.
	if out := ok(t, append(store, "info", "--format", "{{.Store.GraphDriverName}} {{.Host.CgroupsVersion}} {{.Store.ContainerStore.Number}}")...); out != s.GraphDriverName+" "+h.CgroupVersion+" 0\n" {
		t.Errorf("info --format template printed %q", out)
	}
	out := ok(t, append(store, "info")...)
	for _, want := range []string{"host:\n", "  cgroupVersion: " + h.CgroupVersion + "\n", "store:\n", "  graphDriverName: " + s.GraphDriverName + "\n",
		"    number: 1\n", "    - container_id: 0\n      host_id: " + strconv.Itoa(os.Getuid()) + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	fails(t, 125, []string{"--format"}, "info", "--format", "{{.Nope}}")
}
