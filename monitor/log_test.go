// Unit tests (privilege tier: none) of the container log writer.

package monitor

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 23, 5, 18, 39, 123456789, time.FixedZone("CET", 3600))

const ts = "2026-11-23T04:18:39.123456789Z"

func newTestLog() (*LogWriter, *bytes.Buffer) {
	var out bytes.Buffer
	l := NewLogWriter(&out)
	l.now = func() time.Time { return testNow }
	return l, &out
}

func TestLogWriter(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		writes []string
		want   string
	}{
		{name: "full line", stream: "stdout", writes: []string{"hello\n"},
			want: ts + " stdout F hello\n"},
		{name: "partial line", stream: "stderr", writes: []string{"no newline"},
			want: ts + " stderr P no newline\n"},
		{name: "several lines in one write", stream: "stdout", writes: []string{"a\nb\n\nc"},
			want: ts + " stdout F a\n" + ts + " stdout F b\n" + ts + " stdout F \n" + ts + " stdout P c\n"},
		{name: "line split over writes", stream: "stdout", writes: []string{"hel", "lo\n"},
			want: ts + " stdout P hel\n" + ts + " stdout F lo\n"},
		{name: "empty line", stream: "stdout", writes: []string{"\n"},
			want: ts + " stdout F \n"},
		{name: "empty write", stream: "stdout", writes: []string{""}},
		{name: "carriage returns and tabs kept", stream: "stdout", writes: []string{"a\r\tb\r\n"},
			want: ts + " stdout F a\r\tb\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, out := newTestLog()
			for _, w := range tt.writes {
				if err := l.Write(tt.stream, []byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			if out.String() != tt.want {
				t.Errorf("log = %q\nwant %q", out.String(), tt.want)
			}
		})
	}
}

func TestLogWriterOneWritePerCall(t *testing.T) {
	var calls int
	l := NewLogWriter(writerFunc(func(p []byte) (int, error) { calls++; return len(p), nil }))
	l.now = func() time.Time { return testNow }
	if err := l.Write("stdout", []byte("a\nb\nc\n")); err != nil {
		t.Fatal(err)
	}
	// One write(2) per read keeps lines of concurrent streams whole.
	if calls != 1 {
		t.Errorf("%d writes for one call, want 1", calls)
	}
}

func TestLogWriterError(t *testing.T) {
	l := NewLogWriter(writerFunc(func([]byte) (int, error) { return 0, errors.New("disk full") }))
	if err := l.Write("stdout", []byte("x\n")); err == nil || err.Error() != "disk full" {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func FuzzLogWriter(f *testing.F) {
	f.Add([]byte("hello\nworld"), []byte("\n\n"), true)
	f.Add([]byte(""), []byte("x"), false)
	f.Fuzz(func(t *testing.T, w1, w2 []byte, stderr bool) {
		stream := "stdout"
		if stderr {
			stream = "stderr"
		}
		l, out := newTestLog()
		for _, w := range [][]byte{w1, w2} {
			if err := l.Write(stream, w); err != nil {
				t.Fatal(err)
			}
		}
		// Every record is "TS STREAM F|P TEXT"; joining the texts, with a
		// newline after each F, gives back exactly what was written.
		var got []byte
		log := out.String()
		if log != "" && !strings.HasSuffix(log, "\n") {
			t.Fatalf("log %q does not end in a newline", log)
		}
		prefix := ts + " " + stream + " "
		for _, rec := range strings.SplitAfter(log, "\n") {
			if rec == "" {
				continue
			}
			if !strings.HasPrefix(rec, prefix) || len(rec) < len(prefix)+3 {
				t.Fatalf("record %q lacks prefix %q", rec, prefix)
			}
			tag, text := rec[len(prefix):len(prefix)+2], rec[len(prefix)+2:len(rec)-1]
			switch tag {
			case "F ":
				got = append(append(got, text...), '\n')
			case "P ":
				got = append(got, text...)
			default:
				t.Fatalf("record %q has tag %q", rec, tag)
			}
		}
		if want := append(append([]byte(nil), w1...), w2...); !bytes.Equal(got, want) {
			t.Fatalf("log %q holds %q, want %q", log, got, want)
		}
	})
}
