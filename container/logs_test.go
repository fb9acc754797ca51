// Unit tests (privilege tier: none) of the log reader: rotated files,
// streams, partial lines, -t, --tail, --since/--until and following a log
// that the monitor's writer rotates.

package container

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sandbox/monitor"
	"sandbox/spec"
)

var logT0 = time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)

// rec is a record at logT0 plus sec seconds.
func rec(sec int, stream string, partial bool, text string) LogRecord {
	return LogRecord{Time: logT0.Add(time.Duration(sec) * time.Second), Stream: stream, Partial: partial, Text: []byte(text)}
}

func writeLog(t *testing.T, path string, recs ...LogRecord) {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		b.Write(formatRecord(r))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a buffer that a test reads while the reader writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func readTestLog(t *testing.T, path string, o LogsOptions) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	o.Stdout, o.Stderr = &out, &errOut
	err = readLog(context.Background(), path, o, func() bool { return false })
	return out.String(), errOut.String(), err
}

func TestReadLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LogFile)
	writeLog(t, path+".2",
		rec(1, "stdout", false, "one"),
		rec(2, "stderr", false, "err one"))
	writeLog(t, path+".1",
		rec(3, "stdout", true, "two "),
		rec(4, "stderr", true, "err "),
		rec(5, "stdout", false, "joined"))
	writeLog(t, path,
		rec(6, "stderr", false, "two"),
		rec(7, "stdout", false, ""),
		rec(8, "stdout", false, "four"),
		rec(9, "stdout", true, "unended"))
	// Files that are not rotated logs are left alone.
	writeLog(t, path+".bak", rec(0, "stdout", false, "NOT THIS"))

	ts := func(sec int) string {
		return logT0.Add(time.Duration(sec)*time.Second).Format(LogTimestampFormat) + " "
	}
	tests := []struct {
		name             string
		o                LogsOptions
		stdout, stderr   string
		stdoutTimestamps bool
	}{
		{name: "all", o: LogsOptions{Tail: -1},
			stdout: "one\ntwo joined\n\nfour\nunended", stderr: "err one\nerr two\n"},
		{name: "timestamps at the start of each line", o: LogsOptions{Tail: -1, Timestamps: true},
			stdout: ts(1) + "one\n" + ts(3) + "two joined\n" + ts(7) + "\n" + ts(8) + "four\n" + ts(9) + "unended",
			stderr: ts(2) + "err one\n" + ts(4) + "err two\n"},
		{name: "tail 2", o: LogsOptions{Tail: 2},
			stdout: "four\nunended"},
		{name: "tail 4 spans rotated files", o: LogsOptions{Tail: 4},
			stdout: "\nfour\nunended", stderr: "err two\n"},
		{name: "tail 0", o: LogsOptions{Tail: 0}},
		{name: "tail more than there is", o: LogsOptions{Tail: 100},
			stdout: "one\ntwo joined\n\nfour\nunended", stderr: "err one\nerr two\n"},
		{name: "since", o: LogsOptions{Tail: -1, Since: logT0.Add(6 * time.Second)},
			stdout: "\nfour\nunended", stderr: "two\n"},
		{name: "until", o: LogsOptions{Tail: -1, Until: logT0.Add(2 * time.Second)},
			stdout: "one\n", stderr: "err one\n"},
		{name: "since and until inclusive", o: LogsOptions{Tail: -1, Since: logT0.Add(5 * time.Second), Until: logT0.Add(7 * time.Second)},
			stdout: "joined\n\n", stderr: "two\n"},
		{name: "tail before since", o: LogsOptions{Tail: 3, Since: logT0.Add(8 * time.Second)},
			stdout: "four\nunended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := readTestLog(t, path, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if stdout != tt.stdout || stderr != tt.stderr {
				t.Errorf("stdout %q\nwant   %q\nstderr %q\nwant   %q", stdout, tt.stdout, stderr, tt.stderr)
			}
		})
	}
}

func TestReadLogMissing(t *testing.T) {
	stdout, stderr, err := readTestLog(t, filepath.Join(t.TempDir(), LogFile), LogsOptions{Tail: -1, Follow: true})
	if err != nil || stdout != "" || stderr != "" {
		t.Errorf("no log: %q %q %v, want nothing", stdout, stderr, err)
	}
}

func TestReadLogBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFile)
	data := string(formatRecord(rec(1, "stdout", false, "a"))) + "\ngarbage\n" + string(formatRecord(rec(2, "stdout", false, "b"))) + "\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := readTestLog(t, path, LogsOptions{Tail: -1})
	if stdout != "a\nb\n" {
		t.Errorf("stdout %q: the good lines must be shown", stdout)
	}
	if err == nil || !strings.Contains(err.Error(), "1 log lines") || !strings.Contains(err.Error(), "garbage") {
		t.Errorf("error %v, want one naming the bad line", err)
	}
}

// TestFollowLog follows a log that the monitor's writer rotates many
// times while it is read: every line must come out once, in order.
func TestFollowLog(t *testing.T) {
	for _, maxFile := range []int{100, 1} {
		t.Run(fmt.Sprintf("max-file %d", maxFile), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LogFile)
			w, err := monitor.OpenLog(path, spec.LogConfig{MaxSize: 300, MaxFile: maxFile})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if err := w.Write("stdout", []byte("before\n")); err != nil {
				t.Fatal(err)
			}
			var running atomic.Bool
			running.Store(true)
			var out, errOut syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- readLog(context.Background(), path, LogsOptions{Tail: -1, Follow: true, Stdout: &out, Stderr: &errOut, Poll: time.Millisecond}, running.Load)
			}()
			var want strings.Builder
			want.WriteString("before\n")
			const n = 200
			for i := 0; i < n; i++ {
				line := fmt.Sprintf("line %03d\n", i)
				if maxFile == 1 {
					// Emptied in place, lines written before the reader
					// saw them are gone: wait for each.
					line = fmt.Sprintf("line %03d of many, to fill the file quickly\n", i)
				}
				if err := w.Write("stdout", []byte(line)); err != nil {
					t.Fatal(err)
				}
				want.WriteString(line)
				if maxFile == 1 {
					deadline := time.Now().Add(5 * time.Second)
					for !strings.HasSuffix(out.String(), line) && time.Now().Before(deadline) {
						time.Sleep(time.Millisecond)
					}
				} else if i%10 == 0 {
					time.Sleep(2 * time.Millisecond)
				}
			}
			if err := w.Write("stderr", []byte("last\n")); err != nil {
				t.Fatal(err)
			}
			running.Store(false)
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("logs -f did not end after the container stopped")
			}
			if got := out.String(); got != want.String() {
				gl, wl := strings.Split(got, "\n"), strings.Split(want.String(), "\n")
				for i := range wl {
					if i >= len(gl) || gl[i] != wl[i] {
						lo := max(i-2, 0)
						t.Errorf("stdout differs at line %d: got %q, want %q", i, gl[lo:min(i+3, len(gl))], wl[lo:min(i+3, len(wl))])
						break
					}
				}
			}
			if errOut.String() != "last\n" {
				t.Errorf("stderr %q, want %q", errOut.String(), "last\n")
			}
			if _, err := os.Stat(path + ".1"); maxFile > 1 && err != nil {
				t.Errorf("the log was never rotated: %v", err)
			}
		})
	}
}

// TestFollowLogUntil ends following at the first record past --until.
func TestFollowLogUntil(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFile)
	writeLog(t, path, rec(1, "stdout", false, "a"), rec(3, "stdout", false, "b"))
	var out syncBuffer
	err := readLog(context.Background(), path, LogsOptions{Tail: -1, Follow: true, Until: logT0.Add(2 * time.Second), Stdout: &out, Stderr: &out},
		func() bool { return true })
	if err != nil || out.String() != "a\n" {
		t.Errorf("follow with until: %q, %v; want %q", out.String(), err, "a\n")
	}
}

func TestFollowLogCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFile)
	writeLog(t, path, rec(1, "stdout", false, "a"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out syncBuffer
	err := readLog(ctx, path, LogsOptions{Tail: -1, Follow: true, Stdout: &out, Stderr: &out}, func() bool { return true })
	if err == nil || out.String() != "a\n" {
		t.Errorf("cancelled follow: %q, %v", out.String(), err)
	}
}

// TestFollowLogRace starts reading while the writer rotates as fast as it
// can: the first listing, the catching up and the following all race with
// renames, and no line may be lost or shown twice.
func TestFollowLogRace(t *testing.T) {
	for round := 0; round < 3; round++ {
		path := filepath.Join(t.TempDir(), LogFile)
		w, err := monitor.OpenLog(path, spec.LogConfig{MaxSize: 200, MaxFile: 400})
		if err != nil {
			t.Fatal(err)
		}
		const n = 1200 // about 300 files: none is deleted
		var want strings.Builder
		for i := 0; i < n; i++ {
			want.WriteString(fmt.Sprintf("line %04d\n", i))
		}
		var running atomic.Bool
		running.Store(true)
		wrote := make(chan error, 1)
		started := make(chan struct{})
		go func() {
			for i := 0; i < n; i++ {
				if i == n/4 {
					close(started)
				}
				if err := w.Write("stdout", []byte(fmt.Sprintf("line %04d\n", i))); err != nil {
					wrote <- err
					return
				}
			}
			wrote <- nil
		}()
		<-started
		var out syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- readLog(context.Background(), path, LogsOptions{Tail: -1, Follow: true, Stdout: &out, Stderr: &out, Poll: time.Millisecond}, running.Load)
		}()
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		running.Store(false)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		w.Close()
		if got := out.String(); got != want.String() {
			gl, wl := strings.Split(got, "\n"), strings.Split(want.String(), "\n")
			for i := range wl {
				if i >= len(gl) || gl[i] != wl[i] {
					lo := max(i-2, 0)
					t.Fatalf("round %d: output differs at line %d: got %q, want %q", round, i, gl[lo:min(i+3, len(gl))], wl[lo:min(i+3, len(wl))])
				}
			}
		}
	}
}

func TestPrefixWriter(t *testing.T) {
	var mu sync.Mutex
	var out strings.Builder
	w := &prefixWriter{mu: &mu, w: &out, prefix: []byte("web ")}
	for _, s := range []string{"a\nb", "c\n", "", "d\ne\n"} {
		if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got, want := out.String(), "web a\nweb bc\nweb d\nweb e\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
