// Unit tests (privilege tier: none) of the log line, --since/--until and
// --tail parsers.

package container

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseLogLine(t *testing.T) {
	ts := time.Date(2026, 11, 23, 5, 18, 39, 123456789, time.UTC)
	tests := []struct {
		name    string
		line    string
		want    LogRecord
		wantErr string
	}{
		{name: "full", line: "2026-11-23T05:18:39.123456789Z stdout F hello",
			want: LogRecord{Time: ts, Stream: "stdout", Text: []byte("hello")}},
		{name: "partial", line: "2026-11-23T05:18:39.123456789Z stderr P no newline",
			want: LogRecord{Time: ts, Stream: "stderr", Partial: true, Text: []byte("no newline")}},
		{name: "empty text", line: "2026-11-23T05:18:39.123456789Z stdout F ",
			want: LogRecord{Time: ts, Stream: "stdout", Text: []byte{}}},
		{name: "cut after the tag", line: "2026-11-23T05:18:39.123456789Z stdout F",
			want: LogRecord{Time: ts, Stream: "stdout"}},
		{name: "spaces kept", line: "2026-11-23T05:18:39.123456789Z stdout F  two  spaces ",
			want: LogRecord{Time: ts, Stream: "stdout", Text: []byte(" two  spaces ")}},
		{name: "carriage return and tab kept", line: "2026-11-23T05:18:39.123456789Z stdout F a\r\tb\r",
			want: LogRecord{Time: ts, Stream: "stdout", Text: []byte("a\r\tb\r")}},
		{name: "text that looks like a record", line: "2026-11-23T05:18:39.123456789Z stdout F 2026-11-23T05:18:39Z stderr P x",
			want: LogRecord{Time: ts, Stream: "stdout", Text: []byte("2026-11-23T05:18:39Z stderr P x")}},
		{name: "zone offset", line: "2026-11-23T06:18:39.123456789+01:00 stdout F x",
			want: LogRecord{Time: ts, Stream: "stdout", Text: []byte("x")}},
		{name: "no fraction", line: "2026-11-23T05:18:39Z stdout F x",
			want: LogRecord{Time: ts.Truncate(time.Second), Stream: "stdout", Text: []byte("x")}},
		{name: "empty", line: "", wantErr: "want TIMESTAMP STREAM F|P TEXT"},
		{name: "timestamp only", line: "2026-11-23T05:18:39Z", wantErr: "want TIMESTAMP"},
		{name: "bad timestamp", line: "yesterday stdout F x", wantErr: `timestamp "yesterday" is not RFC 3339`},
		{name: "unknown stream", line: "2026-11-23T05:18:39Z stdin F x", wantErr: `stream "stdin"`},
		{name: "no tag", line: "2026-11-23T05:18:39Z stdout", wantErr: "no F or P tag"},
		{name: "bad tag", line: "2026-11-23T05:18:39Z stdout X x", wantErr: `tag "X"`},
		{name: "lower-case tag", line: "2026-11-23T05:18:39Z stdout f x", wantErr: `tag "f"`},
		{name: "two spaces before stream", line: "2026-11-23T05:18:39Z  stdout F x", wantErr: `stream ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLogLine([]byte(tt.line))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLogLine(%q) error = %v, want one containing %q", tt.line, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLogLine(%q): %v", tt.line, err)
			}
			if !got.Time.Equal(tt.want.Time) || got.Stream != tt.want.Stream || got.Partial != tt.want.Partial || !bytes.Equal(got.Text, tt.want.Text) {
				t.Errorf("ParseLogLine(%q) = %+v %q, want %+v %q", tt.line, got, got.Text, tt.want, tt.want.Text)
			}
		})
	}
}

func TestParseLogLineLongError(t *testing.T) {
	_, err := ParseLogLine([]byte("bad " + strings.Repeat("x", 10000)))
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("error for a long bad line: %d bytes, want a short one", len(err.Error()))
	}
}

// formatRecord writes a record as the monitor does.
func formatRecord(r LogRecord) []byte {
	tag := " F "
	if r.Partial {
		tag = " P "
	}
	out := []byte(r.Time.UTC().Format(time.RFC3339Nano) + " " + r.Stream + tag)
	return append(out, r.Text...)
}

func FuzzParseLogLine(f *testing.F) {
	f.Add([]byte("2026-11-23T05:18:39.123456789Z stdout F hello"))
	f.Add([]byte("2026-11-23T05:18:39Z stderr P "))
	f.Add([]byte("2026-11-23T05:18:39+01:00 stdout F"))
	f.Add([]byte("x stdout F y"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseLogLine(line)
		if err != nil {
			return
		}
		if r.Stream != StreamStdout && r.Stream != StreamStderr {
			t.Fatalf("ParseLogLine(%q): stream %q", line, r.Stream)
		}
		// What parses, written again as the monitor writes it, parses to
		// the same record.
		again, err := ParseLogLine(formatRecord(r))
		if err != nil {
			t.Fatalf("ParseLogLine(%q) = %+v, which written again fails: %v", line, r, err)
		}
		if !again.Time.Equal(r.Time) || again.Stream != r.Stream || again.Partial != r.Partial || !bytes.Equal(again.Text, r.Text) {
			t.Fatalf("round trip of %q: %+v, then %+v", line, r, again)
		}
	})
}

func TestParseLogTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, cet)
	tests := []struct {
		value   string
		want    time.Time
		wantErr bool
	}{
		{value: "10m", want: now.Add(-10 * time.Minute)},
		{value: "1h30m", want: now.Add(-90 * time.Minute)},
		{value: "1.5s", want: now.Add(-1500 * time.Millisecond)},
		{value: "-5m", want: now.Add(5 * time.Minute)},
		{value: "2026-11-23T10:00:00Z", want: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)},
		{value: "2026-11-23T10:00:00z", want: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)},
		{value: "2026-11-23T10:00:00.5Z", want: time.Date(2026, 11, 23, 10, 0, 0, 5e8, time.UTC)},
		{value: "2026-11-23T10:00:00.123456789Z", want: time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)},
		{value: "2026-11-23T10:00:00+02:00", want: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)},
		{value: "2026-11-23T10:00:00.25-01:30", want: time.Date(2026, 11, 23, 11, 30, 0, 25e7, time.UTC)},
		{value: "2026-11-23T10:00:00", want: time.Date(2026, 11, 23, 10, 0, 0, 0, cet)},
		{value: "2026-11-23T10:00:00.75", want: time.Date(2026, 11, 23, 10, 0, 0, 75e7, cet)},
		{value: "2026-11-23T10:00", want: time.Date(2026, 11, 23, 10, 0, 0, 0, cet)},
		{value: "2026-11-23T10", want: time.Date(2026, 11, 23, 10, 0, 0, 0, cet)},
		{value: "2026-11-23T10:00Z", want: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)},
		{value: "2026-11-23", want: time.Date(2026, 11, 23, 0, 0, 0, 0, cet)},
		{value: "2026-11-23Z", want: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		{value: "2026-11-23+05:00", want: time.Date(2026, 11, 22, 19, 0, 0, 0, time.UTC)},
		{value: "1700000000", want: time.Unix(1700000000, 0)},
		{value: "1700000000.5", want: time.Unix(1700000000, 5e8)},
		{value: "1700000000.000000001", want: time.Unix(1700000000, 1)},
		{value: "0", want: time.Unix(0, 0)},
		{value: "", wantErr: true},
		{value: "bogus", wantErr: true},
		{value: "10x", wantErr: true},
		{value: "1700000000.", wantErr: true},
		{value: ".5", wantErr: true},
		{value: "1700000000.1234567890", wantErr: true},
		{value: "1700000000.5.5", wantErr: true},
		{value: "99999999999999999999", wantErr: true},
		{value: "2026-13-01T00:00:00Z", wantErr: true},
		{value: "2026-11-23T25:00:00Z", wantErr: true},
		{value: "2026-11-23 10:00:00", wantErr: true},
		{value: "2026-11-23T10:00:00+0200x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLogTime(tt.value, now)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseLogTime(%q) = %v, want an error", tt.value, got)
			} else if !strings.Contains(err.Error(), tt.value) {
				t.Errorf("ParseLogTime(%q) error %q does not name the value", tt.value, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLogTime(%q): %v", tt.value, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseLogTime(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

func FuzzParseLogTime(f *testing.F) {
	for _, s := range []string{"10m", "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5+01:00", "2026-11-23", "1700000000.5", "0", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string) {
		got, err := ParseLogTime(value, now)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(value)) {
				t.Fatalf("ParseLogTime(%q) error %q does not name the value", value, err)
			}
			return
		}
		// An RFC 3339 time parses to itself whatever the reference time.
		if strings.Contains(value, "-") && strings.ContainsAny(value, "Zz+") {
			if other, err := ParseLogTime(value, now.Add(time.Hour)); err != nil || !other.Equal(got) {
				t.Fatalf("ParseLogTime(%q) depends on now: %v, then %v (%v)", value, got, other, err)
			}
		}
	})
}

func TestParseTail(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"all", -1, false}, {"", -1, false}, {"0", 0, false}, {"2", 2, false}, {"-1", -1, false},
		{"two", 0, true}, {"2.5", 0, true}, {"ALL", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseTail(tt.value)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseTail(%q) = %d, %v; want %d, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), tt.value) {
			t.Errorf("ParseTail(%q) error %q does not name the value", tt.value, err)
		}
	}
}
