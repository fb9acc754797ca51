// Unit tests (privilege tier: none) of the launcher's spawn and options:
// the test binary stands in for sandbox-monitor (TestMain), receives its
// options as the monitor does, and writes them to what is then its
// standard output, the run directory's monitor.log.

package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary a stand-in monitor.
const helperEnv = "SANDBOX_TEST_MONITOR_HELPER=1"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Getenv(strings.Split(helperEnv, "=")[0]) == "1" {
		opts, err := ReceiveOptions(os.Args[2])
		switch {
		case errors.Is(err, ErrAbandoned):
			os.Exit(3)
		case err != nil:
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(4)
		}
		json.NewEncoder(os.Stdout).Encode(opts)
		fmt.Fprintln(os.Stderr, "to stderr")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func spawnHelper(t *testing.T, runDir string) *Launched {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Spawn(SpawnOptions{Binary: self, Env: []string{helperEnv}, RunDir: runDir})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// exitOf waits for the spawned process and returns its exit status.
func exitOf(t *testing.T, pid int) int {
	t.Helper()
	var ws syscall.WaitStatus
	done := make(chan error, 1)
	go func() {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the spawned monitor did not exit")
	}
	return ws.ExitStatus()
}

// The options reach the monitor whole on its fd 6, and its standard
// output and error become the run directory's monitor.log.
func TestSpawnConfigure(t *testing.T) {
	runDir := t.TempDir()
	l := spawnHelper(t, runDir)
	defer l.Abandon()
	want := Options{RunDir: runDir, Clone: Clone{Terminal: true, Stdin: true}, Events: "/run/events.log"}
	if err := l.Configure(want); err != nil {
		t.Fatal(err)
	}
	if code := exitOf(t, l.Pid); code != 0 {
		out, _ := os.ReadFile(filepath.Join(runDir, LogFile))
		t.Fatalf("monitor exited %d: %s", code, out)
	}
	out, err := os.ReadFile(filepath.Join(runDir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(out), "\n")
	var got Options
	if err := json.Unmarshal([]byte(first), &got); err != nil {
		t.Fatalf("monitor.log %q: %v", out, err)
	}
	if got.RunDir != want.RunDir || got.Events != want.Events || !got.Clone.Terminal || !got.Clone.Stdin {
		t.Errorf("monitor got %+v, want %+v", got, want)
	}
	if rest != "to stderr\n" {
		t.Errorf("monitor's standard error: %q", rest)
	}
	if err := l.Configure(want); err == nil {
		t.Error("configured twice")
	}
}

// A monitor abandoned before its options ends, and never touches the run
// directory.
func TestSpawnAbandoned(t *testing.T) {
	runDir := t.TempDir()
	l := spawnHelper(t, runDir)
	done := make(chan struct{})
	go func() {
		l.Abandon()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Abandon did not return: the monitor waits on")
	}
	if _, err := os.Stat(filepath.Join(runDir, LogFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("monitor.log of an abandoned monitor: %v", err)
	}
	if err := syscall.Kill(l.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("abandoned monitor (pid %d) not reaped: %v", l.Pid, err)
	}
}

// Options that do not agree with the spawn are refused before they are
// sent; options naming another run directory than the monitor's command
// line are refused by the monitor.
func TestSpawnMismatch(t *testing.T) {
	runDir := t.TempDir()
	l := spawnHelper(t, runDir)
	for name, o := range map[string]Options{
		"run dir":     {RunDir: runDir + "x"},
		"attach":      {RunDir: runDir, Attach: true},
		"preserved":   {RunDir: runDir, Clone: Clone{PreserveFDs: 1}},
		"passthrough": {RunDir: runDir, Clone: Clone{Passthrough: true}},
	} {
		if l.Matches(o) {
			t.Errorf("%s: matches", name)
		}
		if err := l.Configure(o); err == nil {
			t.Errorf("%s: configured", name)
		}
	}
	if !l.Matches(Options{RunDir: runDir}) {
		t.Error("the spawn's own options do not match")
	}
	l.Abandon()

	other := t.TempDir()
	l = spawnHelper(t, runDir)
	defer l.Abandon()
	// Past Configure's check, as a command of another mind would send.
	l.spawned.RunDir = other
	if err := l.Configure(Options{RunDir: other}); err != nil {
		t.Fatal(err)
	}
	if code := exitOf(t, l.Pid); code != 4 {
		t.Errorf("monitor given another run directory exited %d, want 4", code)
	}
	for _, dir := range []string{runDir, other} {
		if _, err := os.Stat(filepath.Join(dir, LogFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("monitor.log in %s: %v", dir, err)
		}
	}
}
