package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A container's run directory and store directory, linked as the engine
// links them at create.
type linkedContainer struct {
	runDirs, id, name, configPath string
}

func newLinked(t *testing.T, runDirs, store, name string, status string) linkedContainer {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	c := linkedContainer{runDirs: runDirs, id: id, name: name, configPath: filepath.Join(store, id, "config.json")}
	if err := os.MkdirAll(filepath.Join(runDirs, id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteState(filepath.Join(runDirs, id), &State{Status: status, Pid: 42, PidStart: 7}); err != nil {
		t.Fatal(err)
	}
	c.writeConfig(t, name)
	if err := LinkContainer(runDirs, id, name, c.configPath); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c linkedContainer) writeConfig(t *testing.T, name string) {
	t.Helper()
	data, err := json.Marshal(&Config{ID: c.id, Name: name, Spec: Spec{Process: Process{Args: []string{"sleep"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(c.configPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.configPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// alive42 says that pid 42 started at 7 is alive, and nothing else.
func alive42(pid int, start uint64) bool { return pid == 42 && start == 7 }

func TestFindRunning(t *testing.T) {
	runDirs, store := t.TempDir(), t.TempDir()
	web := newLinked(t, runDirs, store, "web", StatusRunning)
	newLinked(t, runDirs, store, "paused", StatusPaused)

	for _, ref := range []string{"web", web.id} {
		// Into the whole configuration, and into an exec's part of it.
		var cfg Config
		var ecfg ExecConfig
		for _, into := range []Identified{&cfg, &ecfg} {
			found, err := FindRunning(runDirs, ref, alive42, into)
			if err != nil {
				t.Fatalf("FindRunning(%q): %v", ref, err)
			}
			if into.Identity() != web.id || found.Name != "web" || found.State.Pid != 42 ||
				found.RunDir != filepath.Join(runDirs, web.id) || found.ConfigPath != web.configPath {
				t.Errorf("FindRunning(%q) = %+v, %+v; want web's", ref, found, into)
			}
		}
		if len(cfg.Spec.Process.Args) != 1 || len(ecfg.Spec.Process.Args) != 1 {
			t.Errorf("FindRunning(%q): processes %+v and %+v, want web's", ref, cfg.Spec.Process, ecfg.Spec.Process)
		}
	}
	notFound := []string{
		"nosuch", web.id[:12], "paused", "", ".names", "../web", "web/", "a b",
		strings.ToUpper(web.id),
	}
	for _, ref := range notFound {
		if found, err := FindRunning(runDirs, ref, alive42, new(Config)); !errors.Is(err, ErrNotFound) {
			t.Errorf("FindRunning(%q) = %+v, %v; want ErrNotFound", ref, found, err)
		}
	}
	// Not alive: the pid's start time differs.
	if _, err := FindRunning(runDirs, "web", func(int, uint64) bool { return false }, new(Config)); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindRunning of a container whose process is gone: %v, want ErrNotFound", err)
	}
}

func TestFindRunningStaleLinks(t *testing.T) {
	runDirs, store := t.TempDir(), t.TempDir()
	web := newLinked(t, runDirs, store, "web", StatusRunning)

	// Renamed: the new name finds it, the old one no more, even with its
	// link left behind (a rename killed half-way).
	if err := LinkName(runDirs, web.id, "api"); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"api", web.id} {
		if found, err := FindRunning(runDirs, ref, alive42, new(Config)); err != nil || found.Name != "api" {
			t.Errorf("FindRunning(%q) after the rename: %+v, %v; want it named api", ref, found, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(runDirs, NamesDir, "web")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old name's link is still there after LinkName: %v", err)
	}
	if err := os.Symlink(web.id, filepath.Join(runDirs, NamesDir, "web")); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRunning(runDirs, "web", alive42, new(Config)); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindRunning by a name left behind by a rename: %v, want ErrNotFound", err)
	}

	// A configuration of another container behind the link.
	other := strings.Repeat("f", 64)
	if err := os.MkdirAll(filepath.Join(runDirs, other), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteState(filepath.Join(runDirs, other), &State{Status: StatusRunning, Pid: 42, PidStart: 7}); err != nil {
		t.Fatal(err)
	}
	if err := LinkContainer(runDirs, other, "other", web.configPath); err != nil {
		t.Fatal(err)
	}
	for _, into := range []Identified{new(Config), new(ExecConfig)} {
		if _, err := FindRunning(runDirs, "other", alive42, into); !errors.Is(err, ErrNotFound) {
			t.Errorf("FindRunning through a configuration of another id, into %T: %v, want ErrNotFound", into, err)
		}
	}

	// No configuration link (a container made before the links were).
	if err := os.Remove(filepath.Join(runDirs, web.id, ConfigLink)); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRunning(runDirs, "api", alive42, new(Config)); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindRunning without a configuration link: %v, want ErrNotFound", err)
	}
}

func TestUnlinkName(t *testing.T) {
	runDirs, store := t.TempDir(), t.TempDir()
	a := newLinked(t, runDirs, store, "a", StatusRunning)
	b := newLinked(t, runDirs, store, "b", StatusRunning)
	link := func(name string) string {
		target, _ := os.Readlink(filepath.Join(runDirs, NamesDir, name))
		return target
	}

	// The name now taken by another container: unlinking for the first
	// leaves it.
	if err := LinkName(runDirs, b.id, "a"); err != nil {
		t.Fatal(err)
	}
	if err := UnlinkContainer(filepath.Join(runDirs, a.id)); err != nil {
		t.Fatal(err)
	}
	if got := link("a"); got != b.id {
		t.Errorf("name a links to %q after a's unlink, want b's id", got)
	}
	// b's own name, "a" since LinkName: gone with b.
	if err := UnlinkContainer(filepath.Join(runDirs, b.id)); err != nil {
		t.Fatal(err)
	}
	if got := link("a"); got != "" {
		t.Errorf("name a links to %q after b's unlink, want no link", got)
	}
	// b's first name went when it was renamed.
	if got := link("b"); got != "" {
		t.Errorf("name b links to %q, want no link", got)
	}
	// Nothing to unlink: no error.
	if err := UnlinkContainer(filepath.Join(runDirs, "gone")); err != nil {
		t.Errorf("UnlinkContainer of a directory without links: %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(runDirs, NamesDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in %s: %s", NamesDir, e.Name())
	}
}

func TestLinkNameNotAFileName(t *testing.T) {
	runDirs := t.TempDir()
	id := strings.Repeat("a", 64)
	if err := os.MkdirAll(filepath.Join(runDirs, id), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../escape", ".names", "a/b", strings.Repeat("n", 256)} {
		if err := LinkName(runDirs, id, name); err != nil {
			t.Errorf("LinkName(%q): %v, want nothing done", name, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(runDirs, NamesDir)); len(entries) != 0 {
		t.Errorf("links made for names that are no file names: %v", entries)
	}
	if _, err := os.Lstat(filepath.Join(runDirs, "escape")); err == nil {
		t.Error("a link made outside the names' directory")
	}
}

// TestExecConfigIsConfigsPart: ExecConfig reads from a config.json what
// Config reads of the same fields, so that sandbox-exec starts the process
// that the engine's exec would.
func TestExecConfigIsConfigsPart(t *testing.T) {
	c := Config{
		ID: strings.Repeat("a", 64), Name: "web", Image: "busybox", ImageID: strings.Repeat("b", 64),
		Labels: map[string]string{"team": "x"},
		Spec: Spec{
			Rootfs: "/r/merged", Hostname: "web",
			Process: Process{
				Args: []string{"sh"}, Env: []string{"A=1", "PATH=/bin"}, Cwd: "/w", UID: 5, GID: 6,
				AdditionalGIDs: []uint32{7, 8}, Capabilities: []string{"CAP_CHOWN"}, Terminal: true, Stdin: true,
				Rows: 24, Cols: 80, NoNewPrivileges: true, PreserveFDs: 2,
				Rlimits: []Rlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 20}},
			},
			Mounts:  []Mount{{Destination: "/proc", Type: "proc", Source: "proc"}},
			Seccomp: &Seccomp{Profile: "default", Digest: "sha256:c", Filter: []byte{1, 2, 3}},
		},
	}
	data, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	var e ExecConfig
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if e.Identity() != c.ID || e.Image != c.Image || !reflect.DeepEqual(e.Labels, c.Labels) ||
		e.Spec.Rootfs != c.Spec.Rootfs || !reflect.DeepEqual(e.Spec.Process, c.Spec.Process) ||
		!reflect.DeepEqual(e.Spec.Seccomp, c.Spec.Seccomp) {
		t.Errorf("ExecConfig read %+v\nfrom %s", e, data)
	}
}
